"""Request and response schemas of the meter register and the meter-swap record."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from server.work_orders.schemas import Strict
from shared.enums import MeterStatus
from shared.numbers import Fen, ReadingText

MeterNo = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=24,
                                           pattern=r"^[A-Za-z0-9-]+$")]


class MeterOut(BaseModel):
    id: str
    meter_no: str
    model: str
    status: MeterStatus
    account_id: str | None
    station_id: str
    purchase_count: int
    balance_fen: int
    card_no: str | None
    last_reading_kwh: str | None
    last_reading_at: datetime | None
    version: int


class SwapIn(Strict):

    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")] = Field(
        description="Swap id made on the device: sending the same swap twice is a no-op")
    old_meter_no: MeterNo
    old_final_kwh: ReadingText
    old_remaining_fen: Annotated[Fen, Field(ge=-10**9, le=10**9)] = Field(
        description="Remaining balance read off the old meter, in fen (evidence: the new "
        "meter gets the ledger's figure; a difference is a balance discrepancy)")
    new_meter_no: MeterNo
    new_start_kwh: ReadingText
    new_card_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=24)]
    seal_numbers: list[Annotated[str, StringConstraints(max_length=24)]] = Field(
        default_factory=list, max_length=10)
    old_face_photo: Annotated[str, StringConstraints(max_length=64)] | None = None
    new_face_photo: Annotated[str, StringConstraints(max_length=64)] | None = None


class SwapOut(BaseModel):
    id: str
    work_order_id: str
    account_id: str
    old_meter_id: str
    new_meter_id: str
    old_final_kwh: str
    old_remaining_fen: int
    new_start_kwh: str
    new_card_no: str
    seal_numbers: list[str]
    old_face_photo: str
    new_face_photo: str
    carried_fen: int
    recorded_by: str
    recorded_at: datetime
    duplicate: bool = False
