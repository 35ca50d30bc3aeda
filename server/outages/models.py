"""A planned outage notice and the transformer areas it covers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when


class Outage(SQLModel, table=True):
    id: str = id_field()
    station_id: str = fk("station.id")
    starts_at: datetime = when(nullable=False, index=True)
    ends_at: datetime = when(nullable=False)
    reason: str = Field(max_length=300)
    #: the areas' ids and names, as the phones show them (``outage_area`` is for queries)
    area_ids: list[str] = json_field(list)
    areas: list[dict[str, Any]] = json_field(list)
    status: str = Field(default="published", max_length=12)  # published | cancelled
    created_by: str = fk("user.id", index=False)
    created_at: datetime = when(now=True)
    cancelled_at: datetime | None = when()
    #: why it was cancelled (required; the customers told are told it)
    cancel_reason: str | None = Field(default=None, max_length=300)
    version: int = 1


class OutageArea(SQLModel, table=True):
    __tablename__ = "outage_area"

    outage_id: str = Field(foreign_key="outage.id", primary_key=True, max_length=36)
    area_id: str = Field(foreign_key="transformer_area.id", primary_key=True, max_length=36,
                         index=True)
