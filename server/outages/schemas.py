"""``/api/v1/outages`` bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field


class OutageIn(BaseModel):
    area_ids: list[str] = Field(min_length=1, max_length=50)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=300)


class CancelIn(BaseModel):
    #: required: 2–300 characters once spaces are tidied (``shared.outages``); checked by
    #: the shared rule so a missing or long one is OUTAGE_CANCEL_REASON_INVALID
    reason: str = Field(default="", max_length=2000)


class OutageOut(BaseModel):
    id: str
    station_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    area_ids: list[str]
    areas: list[dict[str, Any]]
    status: str
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None = None
    accounts_told: int = 0
