"""Supervision's tables: a second person's approval of money and counts (four eyes), the
review of resolved jobs, and the review sample rules (data)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class ApprovalRequest(SQLModel, table=True):
    """A change of money or counts recorded by one person, waiting for another.

    ``kind``: ``purchase_count`` | ``adjustment`` | ``refund`` | ``discrepancy_settle`` |
    ``discrepancy_dismiss``. Nothing moves until a second user with the right role approves;
    then the change is applied in the approval's transaction (``result_id`` names what it
    made: the ledger entry, the purchase-count correction, the discrepancy)."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_station_status", "station_id", "status"),)

    id: str = id_field()
    kind: str = Field(max_length=24)
    status: str = Field(default="pending", max_length=12)  # pending|approved|rejected
    station_id: str = fk("station.id", index=False)
    account_id: str | None = fk("account.id", nullable=True)
    meter_id: str | None = fk("meter.id", nullable=True, index=False)
    discrepancy_id: str | None = fk("balance_discrepancy.id", nullable=True, index=False)
    amount_fen: int | None = None  # adjustment (signed), refund (positive), discrepancy
    old_count: int | None = None  # purchase count when recorded
    new_count: int | None = None
    reason: str = Field(max_length=500)
    requested_by: str = fk("user.id", index=False)
    requested_role: str = Field(max_length=16)
    requested_at: datetime = when(now=True)
    decided_by: str | None = fk("user.id", nullable=True, index=False)
    decided_at: datetime | None = when()
    decision_reason: str | None = Field(default=None, max_length=500)
    result_id: str | None = Field(default=None, max_length=36)
    version: int = 1


class JobReview(SQLModel, table=True):
    """A manager's review of one resolution of a job: approved, or returned (the job was
    reopened with the reason). A job resolved again waits for a new review."""

    __tablename__ = "job_review"
    __table_args__ = (Index("ix_job_review_order_resolved", "work_order_id", "resolved_at",
                            unique=True),)

    id: str = id_field()
    work_order_id: str = fk("work_order.id", index=False)
    station_id: str = fk("station.id", index=False)
    resolved_at: datetime = when(nullable=False)  # which resolution was reviewed
    outcome: str = Field(max_length=12)  # approved | returned
    reason: str | None = Field(default=None, max_length=500)
    reviewer_id: str = fk("user.id", index=False)
    reviewed_at: datetime = when(now=True)


class ReviewRule(SQLModel, table=True):
    """Which resolved jobs go to the review queue: ``percent`` of the jobs of ``kind``
    (``*``: every kind without its own rule), picked by the job code's last two digits."""

    __tablename__ = "review_rule"

    id: str = id_field()
    kind: str = Field(max_length=20, unique=True)
    percent: int = 100
    updated_by: str | None = fk("user.id", nullable=True, index=False)
    updated_at: datetime = when(now=True)
    version: int = 1
