"""The care list: who is on it (``CareEntry``) and the changes asked for (``CareRequest``).

The account's ``care_flag`` (what billing reads) follows the entries: set when an add is
approved, cleared when a removal is approved."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class CareEntry(SQLModel, table=True):
    __tablename__ = "care_entry"

    id: str = id_field()
    account_id: str = Field(foreign_key="account.id", unique=True, max_length=36)
    station_id: str = fk("station.id")
    category: str = Field(max_length=24)
    reason: str = Field(max_length=200)
    review_on: date = Field(index=True)
    added_by: str = fk("user.id")
    approved_by: str = fk("user.id")
    since: datetime = when(now=True)
    #: the review date a care-visit job was last raised for (once per review date)
    reviewed_for: date | None = None
    review_order_id: str | None = fk("work_order.id", nullable=True)
    version: int = 1


class CareRequest(SQLModel, table=True):
    __tablename__ = "care_request"

    id: str = id_field()
    account_id: str = fk("account.id")
    station_id: str = fk("station.id")
    change: str = Field(max_length=8)  # add | remove
    category: str | None = Field(default=None, max_length=24)
    reason: str = Field(max_length=200)
    review_on: date | None = None
    status: str = Field(default="pending", max_length=10, index=True)
    requested_by: str = fk("user.id")
    requested_at: datetime = when(now=True)
    decided_by: str | None = fk("user.id", nullable=True)
    decided_at: datetime | None = when()
    decision_note: str | None = Field(default=None, max_length=200)
    version: int = 1
