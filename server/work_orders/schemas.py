"""Request and response schemas of the work-order API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from shared.enums import AreaClass, Priority, ReportChannel, Role, WorkOrderKind, WorkOrderStatus
from shared.text import OneLine, Paragraphs
from shared.workorders import fields as limits
from shared.workorders.state_machine import Action

# The limits are the shared rules' (``shared.workorders.fields``): a body within them
# reaches the rules, which decide the rest. Typed text is cleaned first (shared.text:
# control characters refused, invisible format characters removed, NFC), then its length
# is checked.
Text = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_TEXT), Paragraphs]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=limits.MAX_REASON),
                   Paragraphs]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]


def _refuse_nul(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("text must not contain NUL (\\u0000) characters")
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)


class Strict(BaseModel):
    """Request bodies: no unknown fields, and no NUL characters anywhere (PostgreSQL
    cannot store them in text; they are never meant)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if type(data) is dict:  # a body as read: looked through in one C call first
            try:
                text = orjson.dumps(data)
            except orjson.JSONEncodeError:  # not plain JSON values: value by value
                _refuse_nul(data)
            else:  # JSON writes a NUL as \u0000 (so does text holding "\u0000" itself)
                if b"\\u0000" in text:
                    _refuse_nul(data)
        else:
            _refuse_nul(data)
        return data


class GpsFix(Strict):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float = Field(ge=0, le=limits.GPS_MAX_ACCURACY_M,
                              description="Reported accuracy radius in metres")


class ReportIn(Strict):
    """Raise a work order. Customers: their own account; staff: on behalf of a caller."""

    id: Uuid | None = Field(default=None, description="Id made by the client (idempotency)")
    kind: WorkOrderKind = WorkOrderKind.FAULT_REPAIR
    account_id: Uuid | None = None
    area_id: Uuid | None = Field(default=None, description="Required when no account is given")
    description: Text
    priority: Priority = Priority.NORMAL
    channel: ReportChannel | None = None
    contact_name: Annotated[str, StringConstraints(max_length=64), OneLine] | None = None
    contact_phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 -]{5,20}$")] | None = None
    address: Annotated[str, StringConstraints(max_length=200), OneLine] | None = None
    location: GpsFix | None = None
    photos: list[Sha256] = Field(default_factory=list, max_length=10)


class ActionIn(Strict):
    event_id: Uuid | None = Field(default=None, description="Client-made id (idempotency)")
    expected_version: int | None = Field(default=None, ge=1)


class DispatchIn(ActionIn):
    assignee_id: Uuid
    priority: Priority | None = None


class ReassignIn(ActionIn):
    assignee_id: Uuid
    reason: Reason


class ReasonIn(ActionIn):
    reason: Reason


class ArriveIn(ActionIn):
    gps: GpsFix | None = Field(default=None, description="None: position entered manually")


class NoteIn(ActionIn):
    text: Text


class PhotoIn(ActionIn):
    sha256: Sha256
    caption: Annotated[str, StringConstraints(max_length=limits.MAX_CAPTION),
                       OneLine] | None = None


class ResolveIn(ActionIn):
    resolution: Text
    cause: Annotated[str, StringConstraints(max_length=limits.MAX_CAUSE), OneLine] | None = None


class ConfirmIn(ActionIn):
    rating: int | None = Field(default=None, ge=limits.RATING_MIN, le=limits.RATING_MAX)
    comment: Annotated[str, StringConstraints(max_length=limits.MAX_COMMENT),
                       Paragraphs] | None = None


#: The body of each state-machine action (the API's routes and the sync op handlers).
ACTION_BODY: dict[Action, type[ActionIn]] = {
    Action.DISPATCH: DispatchIn, Action.REASSIGN: ReassignIn, Action.DECLINE: ReasonIn,
    Action.ACCEPT: ActionIn, Action.START_TRAVEL: ActionIn, Action.ARRIVE: ArriveIn,
    Action.ADD_NOTE: NoteIn, Action.ADD_PHOTO: PhotoIn, Action.REQUEST_HELP: ReasonIn,
    Action.RESOLVE: ResolveIn, Action.REOPEN: ReasonIn, Action.CONFIRM: ConfirmIn,
    Action.CLOSE: ActionIn, Action.CANCEL: ReasonIn,
}


class PersonOut(BaseModel):
    id: str
    display_name: str
    role: Role
    phone: str | None = None


class FlagsOut(BaseModel):
    overdue: bool
    overdue_arrival: bool
    stalled: bool


class EventOut(BaseModel):
    id: str
    action: str
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus
    actor: PersonOut | None
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]


class WorkOrderOut(BaseModel):
    id: str
    code: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    priority: Priority
    channel: ReportChannel
    station_id: str
    area_id: str | None
    area_class: AreaClass
    account_id: str | None
    account_no: str | None = None
    meter_id: str | None
    meter_no: str | None = None
    description: str
    contact_name: str | None
    contact_phone: str | None
    address: str | None
    lat: float | None
    lon: float | None
    assignee: PersonOut | None
    reported_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime | None
    confirmed_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    arrive_by: datetime | None
    complete_by: datetime
    last_activity_at: datetime
    help_requested: bool
    reopen_count: int
    resolution: str | None
    cause: str | None
    cancel_reason: str | None
    rating: int | None
    rating_comment: str | None
    version: int
    flags: FlagsOut
    allowed_actions: list[str]


class WorkOrderDetail(WorkOrderOut):
    timeline: list[EventOut]
    photos: list[dict[str, Any]]


class WorkOrderPage(BaseModel):
    items: list[WorkOrderOut]
    total: int
    limit: int
    offset: int
