"""``/api/v1/meters`` (the register) and the meter-swap record of a work order."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import select

from server.deps import CurrentUser, DatabaseDep, SessionDep, require_roles
from server.meters import service
from server.meters.models import Meter, MeterSwap
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.schemas import Strict
from shared.enums import MeterStatus, Role
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import centi_to_kwh
from shared.numbers import Fen, ReadingText

router = APIRouter(prefix="/api/v1", tags=["meters"])
_METER_STAFF = require_roles(Role.METER_TECH, Role.AGENT, Role.DISPATCHER, Role.MANAGER,
                             Role.ADMIN)
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


def meter_out(m: Meter) -> MeterOut:
    return MeterOut(**m.model_dump(exclude={"last_reading_centi"}, warnings=False),
                    last_reading_kwh=(str(centi_to_kwh(m.last_reading_centi))
                                      if m.last_reading_centi is not None else None))


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


def swap_out(s: MeterSwap, duplicate: bool = False) -> SwapOut:
    return SwapOut(**s.model_dump(exclude={"old_final_centi", "new_start_centi"}, warnings=False),
                   old_final_kwh=str(centi_to_kwh(s.old_final_centi)),
                   new_start_kwh=str(centi_to_kwh(s.new_start_centi)), duplicate=duplicate)


@router.get("/meters", response_model=list[MeterOut], dependencies=[_METER_STAFF],
            summary="The meter register of my station (e.g. meters in stock)")
def list_meters(user: CurrentUser, session: SessionDep,
                status: MeterStatus | None = None,
                meter_no: Annotated[str | None, Query(max_length=24)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> list[MeterOut]:
    stmt = select(Meter)
    if user.station_id is not None and user.role != Role.ADMIN:
        stmt = stmt.where(Meter.station_id == user.station_id)
    if status:
        stmt = stmt.where(Meter.status == status.value)
    if meter_no:
        stmt = stmt.where(Meter.meter_no == meter_no)
    rows = session.exec(stmt.order_by(Meter.meter_no).limit(limit).offset(offset)).all()
    return [meter_out(m) for m in rows]


@router.post("/work-orders/{order_id}/meter-swap", response_model=SwapOut, status_code=201,
             summary="Record the meter swap of a meter-swap job (assigned technician)",
             responses={200: {"description": "This swap id was already recorded (no-op)"}})
def record_swap(order_id: str, body: SwapIn, user: CurrentUser, db: DatabaseDep,
                response: Response) -> SwapOut:
    """Validates per product rules (old meter matches the job, final reading ≥ last
    recorded, new meter in stock, small start reading, card number, seals, both face
    photos); carries the remaining balance to the new meter exactly once."""
    with UnitOfWork(db, user.actor) as uow:
        result = service.record_swap(uow, actor=user.actor, order_id=order_id,
                                     data=body.model_dump(mode="python"))
        uow.commit()
    if result.duplicate:
        response.status_code = 200
    return swap_out(result.swap, result.duplicate)


@router.get("/work-orders/{order_id}/meter-swap", response_model=SwapOut,
            summary="The swap recorded on a job")
def get_swap(order_id: str, user: CurrentUser, session: SessionDep) -> SwapOut:
    order = work_orders.get_visible(session, actor=user.actor, order_id=order_id)
    swap = session.exec(select(MeterSwap).where(MeterSwap.work_order_id == order.id)).first()
    if swap is None:
        raise DomainError(ErrorCode.NOT_FOUND)
    return swap_out(swap)
