"""Request and response schemas of the dispatch desk's API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from server.work_orders.schemas import PersonOut, Reason, Strict, Uuid, WorkOrderDetail
from shared.enums import AreaClass, Priority, Role, WorkOrderKind, WorkOrderStatus


class BoardList(StrEnum):
    """The board's lists (a job may be on more than one: overdue and stalled cut across)."""

    UNASSIGNED = "unassigned"  # reported, nobody assigned
    DISPATCHED = "dispatched"  # assigned, not accepted yet
    IN_PROGRESS = "in_progress"  # accepted, en route or on site
    OVERDUE = "overdue"  # open and past its arrival or completion deadline
    STALLED = "stalled"  # marked by the stall rules
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # resolved, waiting for the customer


class StallOut(BaseModel):
    active: bool
    reasons: list[dict[str, Any]]
    stalled_since: datetime | None
    level1_at: datetime | None
    level2_at: datetime | None
    cleared_at: datetime | None


class BoardRow(BaseModel):
    id: str
    code: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    priority: Priority
    station_id: str
    area_id: str | None
    area_name: str | None
    area_class: AreaClass
    address: str | None
    account_no: str | None
    contact_phone: str | None
    assignee: PersonOut | None
    reported_at: datetime
    dispatched_at: datetime | None
    resolved_at: datetime | None
    arrive_by: datetime | None
    complete_by: datetime
    #: the deadline that counts now (arrival until on site, then completion)
    next_deadline: datetime | None
    next_deadline_kind: Literal["arrival", "completion"] | None
    overdue: bool
    stall_reasons: list[str] = Field(default_factory=list, description="trigger names")
    help_requested: bool
    lat: float | None
    lon: float | None
    version: int


class BoardPage(BaseModel):
    items: list[BoardRow]
    total: int
    limit: int
    offset: int
    seq: int = Field(description="The change feed's position when this page was read")
    server_time: datetime


class BoardCounts(BaseModel):
    counts: dict[BoardList, int]
    seq: int


class JobPanel(BaseModel):
    job: WorkOrderDetail
    area_name: str | None
    station_name: str | None
    stall: StallOut | None
    overdue: bool
    next_deadline: datetime | None
    next_deadline_kind: Literal["arrival", "completion"] | None


class PositionOut(BaseModel):
    lat: float
    lon: float
    accuracy_m: float | None
    at: datetime
    work_order_id: str


class OpenJobOut(BaseModel):
    id: str
    code: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    area_id: str | None


class CrewOut(BaseModel):
    id: str
    display_name: str
    role: Role
    phone: str | None
    station_id: str | None
    on_duty: bool
    #: "manager": marked today by a manager; "signed_in": no mark today, signed in on their
    #: phone within the last hours; "none": neither
    duty_source: Literal["manager", "signed_in", "none"]
    duty_set_at: datetime | None
    last_seen_at: datetime | None
    open_count: int
    open_jobs: list[OpenJobOut] = Field(description="The most urgent open jobs (up to 10)")
    open_areas: list[str] = Field(description="Areas of all their open jobs")
    last_position: PositionOut | None


class RosterOut(BaseModel):
    items: list[CrewOut]
    duty_rule: str = Field(description="How on duty is decided (zh/en by Accept-Language)")
    signed_in_hours: int


class DutyIn(Strict):
    on_duty: bool


class CandidateOut(BaseModel):
    crew: CrewOut
    same_area: bool
    distance_km: float | None


class SuggestionsOut(BaseModel):
    rule: str = Field(description="The ranking rule, in the caller's language")
    suggested: CandidateOut | None
    candidates: list[CandidateOut]


class PriorityIn(Strict):
    priority: Priority
    reason: Reason | None = None


BulkAction = Literal["dispatch", "reassign", "cancel", "set_priority"]


class BulkIn(Strict):
    action: BulkAction
    order_ids: Annotated[list[Uuid], Field(min_length=1, max_length=200)]
    assignee_id: Uuid | None = None
    reason: Reason | None = None
    priority: Priority | None = None


class BulkResult(BaseModel):
    order_id: str
    code: str | None = Field(description="The job's code (None when not visible)")
    ok: bool
    error_code: str | None = None
    message: str | None = None
    version: int | None = None


class BulkOut(BaseModel):
    results: list[BulkResult]
    done: int
    failed: int


class ChangesOut(BaseModel):
    seq: int = Field(description="Pass it back as `since` on the next call")
    order_ids: list[str] = Field(description="Jobs that changed (or whose stall mark did)")
    crews: bool = Field(description="An on-duty mark changed")
    more: bool = Field(description="Too many changes to list: reload everything")


class StallRuleOut(BaseModel):
    id: str
    trigger: str
    kind: str
    threshold: int
    escalate_after_min: int
    active: bool
    updated_at: datetime
    updated_by: str | None
    version: int
    description: str


Minutes = Annotated[int, Field(ge=0, le=10**6)]


class StallRuleIn(Strict):
    """Change a rule (any of the fields)."""

    threshold: Minutes | None = None
    escalate_after_min: Minutes | None = None
    active: bool | None = None
    expected_version: int | None = Field(default=None, ge=1)


class StallRuleCreate(Strict):
    """A rule for one kind, replacing the ``*`` rule of the same trigger for that kind."""

    trigger: Annotated[str, StringConstraints(max_length=20)]
    kind: Annotated[str, StringConstraints(max_length=20)]
    threshold: Minutes
    escalate_after_min: Minutes
    active: bool = True


class StallRunOut(BaseModel):
    checked: int
    stalled: int
    newly_stalled: int
    cleared: int
    level1_sent: int
    level2_sent: int


class AreaRef(BaseModel):
    id: str
    name: str
    station_id: str
    area_class: AreaClass


class StationRef(BaseModel):
    id: str
    name: str


class DeskSettings(BaseModel):
    map_tile_url: str | None = Field(description="XYZ tile template; None: no tiles")
    stations: list[StationRef]
    areas: list[AreaRef]
    county_wide: bool


class MapJob(BaseModel):
    id: str
    code: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    priority: Priority
    lat: float
    lon: float
    overdue: bool
    stalled: bool


class MapCrew(BaseModel):
    id: str
    display_name: str
    role: Role
    on_duty: bool
    lat: float
    lon: float
    at: datetime


class MapOut(BaseModel):
    jobs: list[MapJob]
    crews: list[MapCrew]
    truncated: bool
