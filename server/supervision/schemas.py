"""Request and answer shapes of the supervision API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from server.work_orders.schemas import Strict
from shared.enums import WorkOrderKind
from shared.supervision import ApprovalKind, ApprovalStatus, ReviewOutcome
from shared.text import OneLine, Paragraphs

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]
Id = Annotated[str, StringConstraints(min_length=1, max_length=36), OneLine]


# -- four eyes ----------------------------------------------------------------------------
class ApprovalIn(Strict):
    kind: ApprovalKind
    reason: Reason
    account_id: Id | None = None
    meter_id: Id | None = None
    discrepancy_id: Id | None = None
    amount_fen: int | None = Field(default=None, ge=-10**9, le=10**9, description=(
        "adjustment: signed fen; refund: positive fen"))
    new_count: int | None = Field(default=None, ge=0, le=10**9,
                                  description="purchase_count: the count to set")
    request_id: Id | None = Field(default=None, description="A client-made id: sending the "
                                  "same request again changes nothing")


class DecisionIn(Strict):
    reason: Reason | None = Field(default=None, description="Required to reject")
    expected_version: int | None = Field(default=None, ge=1, le=10**9)


class DiscrepancyDecisionIn(Strict):
    reason: Reason
    expected_version: int | None = Field(default=None, ge=1, le=10**9,
                                         description="The discrepancy's version you reviewed")


class ApprovalOut(BaseModel):
    id: str
    kind: ApprovalKind
    status: ApprovalStatus
    station_id: str
    account_id: str | None
    account_no: str | None = None
    account_name: str | None = None
    meter_id: str | None
    meter_no: str | None = None
    discrepancy_id: str | None
    amount_fen: int | None
    old_count: int | None
    new_count: int | None
    reason: str
    requested_by: str
    requested_by_name: str | None = None
    requested_role: str
    requested_at: datetime
    decided_by: str | None
    decided_by_name: str | None = None
    decided_at: datetime | None
    decision_reason: str | None
    result_id: str | None
    version: int


class ApprovalRecordedOut(ApprovalOut):
    """What recording a change of money or counts answers (202: recorded now, waiting for
    another person; 200: this ``id`` was recorded before — the same request, in whatever
    state it is now, and nothing new was recorded)."""

    duplicate: bool = Field(default=False, description="This id was already recorded: "
                            "the same request as before, nothing new")


class ApprovalPage(BaseModel):
    items: list[ApprovalOut]
    total: int


# -- reviews ------------------------------------------------------------------------------
class ReviewItemOut(BaseModel):
    id: str
    code: str
    kind: WorkOrderKind
    status: str
    station_id: str
    address: str | None
    assignee_id: str | None
    assignee_name: str | None
    resolved_at: datetime | None
    resolution: str | None
    cause: str | None
    reopen_count: int
    rating: int | None
    version: int


class ReviewPage(BaseModel):
    items: list[ReviewItemOut]
    total: int
    rules: list[ReviewRuleOut]


class ReviewIn(Strict):
    outcome: ReviewOutcome
    reason: Reason | None = Field(default=None, description="Required to return the job")


class ReviewOut(BaseModel):
    id: str
    work_order_id: str
    outcome: ReviewOutcome
    reason: str | None
    reviewer_id: str
    reviewed_at: datetime
    resolved_at: datetime
    job_status: str


class ReviewRuleOut(BaseModel):
    kind: str
    percent: int
    version: int


class ReviewRuleIn(Strict):
    percent: int = Field(ge=0, le=100)


# -- audit --------------------------------------------------------------------------------
class AuditEntryOut(BaseModel):
    seq: int | None
    at: datetime
    actor_id: str | None
    actor_name: str | None
    actor_role: str | None
    device_id: str | None
    action: str
    entity: str
    entity_id: str
    reason: str | None
    before: dict[str, Any]
    after: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int = Field(description="Counted up to 1,001: more than 1,000 means more")


# -- overview, desk -----------------------------------------------------------------------
class CrewLoadOut(BaseModel):
    id: str
    display_name: str
    role: str
    on_duty: bool
    open_count: int
    last_seen_at: datetime | None


class OverviewOut(BaseModel):
    station_id: str | None
    today_reported: dict[str, int]
    open_by_status: dict[str, int]
    resolved_today: int
    overdue: int
    stalled: int
    to_review: int
    pending_approvals: int
    crews: list[CrewLoadOut]


class CustomerOut(BaseModel):
    id: str
    account_no: str
    name: str
    phone: str | None
    address: str
    customer_type: str
    station_id: str
    area_id: str
    id_card_masked: str | None
    property_cert_masked: str | None
    care_flag: bool
    care_reason: str | None
    balance_fen: int
    alert_level: str
    supply_state: str
    capacity_kw: int | None = None
    status: str = "active"
    closed_at: datetime | None = None
    meter_no: str | None
    meter_id: str | None
    version: int


class CustomerPage(BaseModel):
    items: list[CustomerOut]
    total: int


class AccountViewOut(BaseModel):
    account: CustomerOut
    meter: dict[str, Any] | None
    ledger: list[dict[str, Any]]
    ledger_total: int
    readings: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    commands: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    purchase_count_corrections: list[dict[str, Any]]
    pending_approvals: list[dict[str, Any]]


ReviewPage.model_rebuild()
