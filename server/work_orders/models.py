"""Work orders and their timeline events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, text
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when
from shared.enums import AreaClass, Priority, ReportChannel, Role, WorkOrderKind, WorkOrderStatus


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    # the dispatch board's lists (a station's jobs in some statuses) and the roster's open
    # jobs per crew, on a county-sized table (bench/office_bench.py)
    __table_args__ = (Index("ix_work_order_station_status", "station_id", "status"),
                      Index("ix_work_order_assignee_status", "assignee_id", "status",
                            "area_id"),
                      # the review queue: recent resolutions (server.supervision.reviews)
                      Index("ix_work_order_status_resolved", "status", "resolved_at"),
                      # the station overview: today's jobs, and those resolved today, of
                      # one station (not every job of the station: issue 10's p95)
                      Index("ix_work_order_station_reported", "station_id", "reported_at"),
                      Index("ix_work_order_station_status_resolved", "station_id", "status",
                            "resolved_at"))

    id: str = id_field()
    code: str = Field(max_length=24, unique=True)
    kind: WorkOrderKind = Field(sa_type=String(20), index=True)
    status: WorkOrderStatus = Field(sa_type=String(12), index=True)
    priority: Priority = Field(default=Priority.NORMAL, sa_type=String(8))
    channel: ReportChannel = Field(sa_type=String(12))
    station_id: str = fk("station.id")
    area_id: str | None = fk("transformer_area.id", nullable=True)
    area_class: AreaClass = Field(sa_type=String(8))
    account_id: str | None = fk("account.id", nullable=True)
    meter_id: str | None = fk("meter.id", nullable=True)
    reporter_id: str | None = fk("user.id", nullable=True)
    assignee_id: str | None = fk("user.id", nullable=True)
    description: str = Field(max_length=2000)
    contact_name: str | None = Field(default=None, max_length=64)
    contact_phone: str | None = Field(default=None, max_length=20)
    address: str | None = Field(default=None, max_length=200)
    lat: float | None = None
    lon: float | None = None
    reported_at: datetime = when(nullable=False, index=True)
    dispatched_at: datetime | None = when()
    accepted_at: datetime | None = when()
    arrived_at: datetime | None = when()
    resolved_at: datetime | None = when()
    confirmed_at: datetime | None = when()
    closed_at: datetime | None = when()
    cancelled_at: datetime | None = when()
    arrive_by: datetime | None = when()
    complete_by: datetime = when(nullable=False, index=True)
    last_activity_at: datetime = when(nullable=False)
    help_requested: bool = False
    reopen_count: int = 0
    resolution: str | None = Field(default=None, max_length=2000)
    cause: str | None = Field(default=None, max_length=200)
    cancel_reason: str | None = Field(default=None, max_length=500)
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = when(now=True)
    updated_at: datetime = when(now=True)
    version: int = 1


#: The arrivals index's condition. A query names it as a literal, not a bound parameter:
#: only then can SQLite (and PostgreSQL's generic plans) use that partial index.
ARRIVALS = "action = 'arrive'"


class WorkOrderEvent(SQLModel, table=True):
    """One line of a job's timeline: who did what, when (device and server time)."""

    __tablename__ = "work_order_event"
    #: By job, then id: a fresh download sends the timelines job by job in this order
    #: (``server.sync.pull``); the index hands them over sorted, no sort per page.
    #: A person's arrivals, newest first (the roster's last known positions,
    #: ``server.dispatch.roster``): only arrivals are in it, so the push's notes, accepts
    #: and the rest write no entry there (~1 µs a pushed note of SQLite's time).
    __table_args__ = (Index("ix_work_order_event_work_order_id_id", "work_order_id", "id"),
                      Index("ix_work_order_event_arrivals", "actor_id", "occurred_at",
                            sqlite_where=text(ARRIVALS), postgresql_where=text(ARRIVALS)))

    id: str = id_field()
    work_order_id: str = fk("work_order.id", index=False)
    action: str = Field(max_length=20)
    from_status: WorkOrderStatus | None = Field(default=None, sa_type=String(12))
    to_status: WorkOrderStatus = Field(sa_type=String(12))
    actor_id: str | None = fk("user.id", nullable=True, index=False)
    actor_role: Role | None = Field(default=None, sa_type=String(16))
    occurred_at: datetime = when(nullable=False)  # device time
    recorded_at: datetime = when(now=True)  # server time
    data: dict[str, Any] = json_field(dict)
