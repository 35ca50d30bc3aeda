"""Tables of the dispatch desk: stall rules (data, edited by the administrator), each job's
stall record, and the on-duty marks a manager sets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when


class StallRule(SQLModel, table=True):
    """When an open job counts as stalled (see ``shared.workorders.stalls``)."""

    __tablename__ = "stall_rule"
    __table_args__ = (UniqueConstraint("trigger", "kind", name="uq_stall_rule_trigger_kind"),)

    id: str = id_field()
    trigger: str = Field(max_length=20)
    kind: str = Field(default="*", max_length=20)  # a work-order kind, or * for every kind
    threshold: int  # minutes (reopened: a count)
    escalate_after_min: int
    active: bool = True
    updated_at: datetime = when(now=True)
    updated_by: str | None = fk("user.id", nullable=True, index=False)
    version: int = 1


class WorkOrderStall(SQLModel, table=True):
    """A job's stall: why (``reasons``), since when, and which levels were told (once
    each). ``id`` is the work order's id."""

    __tablename__ = "work_order_stall"

    id: str = Field(primary_key=True, foreign_key="work_order.id", max_length=36)
    station_id: str = fk("station.id")
    active: bool = Field(default=True, index=True)
    reasons: list[dict[str, Any]] = json_field(list)
    stalled_since: datetime | None = when()
    level1_at: datetime | None = when()
    level2_at: datetime | None = when()
    cleared_at: datetime | None = when()
    updated_at: datetime = when(now=True)
    version: int = 1


class CrewDuty(SQLModel, table=True):
    """A manager's mark: this field user is (or is not) on duty today. ``id`` is the
    user's id; the mark lapses at the end of the local day it was set."""

    __tablename__ = "crew_duty"

    id: str = Field(primary_key=True, foreign_key="user.id", max_length=36)
    station_id: str | None = fk("station.id", nullable=True)
    on_duty: bool
    set_by: str = fk("user.id", index=False)
    set_at: datetime = when(now=True)
    version: int = 1
