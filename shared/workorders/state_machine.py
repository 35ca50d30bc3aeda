"""The work-order state machine: which actions exist, from which statuses, by whom.

One table (``TRANSITIONS``) is the whole truth; the server's services, the sync op
handlers and the phone's action buttons all ask it. ``check`` explains a refusal with a
stable error code; ``allowed_actions`` lists what an actor may do now.

Who may act is decided by role *and* relationship:

* ``ASSIGNEE``  – the field worker the job is assigned to;
* ``OWNER``     – the customer who holds the job's account;
* ``OFFICE``    – a dispatcher, manager or admin whose station covers the job
  (office users without a station are county-wide);
* ``REPORTER``  – staff who raise jobs (report only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from shared.enums import (
    FIELD_ROLES,
    OFFICE_ROLES,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.errors import DomainError, ErrorCode

S = WorkOrderStatus


class Action(StrEnum):
    REPORT = "report"
    DISPATCH = "dispatch"
    REASSIGN = "reassign"
    DECLINE = "decline"
    ACCEPT = "accept"
    START_TRAVEL = "start_travel"
    ARRIVE = "arrive"
    ADD_NOTE = "add_note"
    ADD_PHOTO = "add_photo"
    REQUEST_HELP = "request_help"
    RECORD_SWAP = "record_swap"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CONFIRM = "confirm"
    CLOSE = "close"
    CANCEL = "cancel"


class Party(StrEnum):
    ASSIGNEE = "assignee"
    OWNER = "owner"
    OFFICE = "office"
    REPORTER = "reporter"


@dataclass(frozen=True)
class Actor:
    """Who is acting: their user id, role, station, and (customers) their accounts."""

    user_id: str
    role: Role
    station_id: str | None = None
    account_ids: frozenset[str] = field(default_factory=frozenset)
    #: the signed-in device the action came from (audit), when known
    device_id: str | None = field(default=None, compare=False)


class OrderFacts(NamedTuple):
    """What the state machine needs to know about a work order (a ``NamedTuple``: one is
    built for every action decided)."""

    status: WorkOrderStatus
    kind: WorkOrderKind
    station_id: str | None
    assignee_id: str | None = None
    account_id: str | None = None


@dataclass(frozen=True)
class Transition:
    action: Action
    sources: frozenset[WorkOrderStatus]
    target: WorkOrderStatus | None  # None: the status stays as it is
    parties: frozenset[Party]
    records: tuple[str, ...]  # what the action records on the timeline
    reason_required: bool = False
    customer_from: frozenset[WorkOrderStatus] | None = None  # narrower sources for customers


_OPEN = frozenset({S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
_WORKING = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
_AO = frozenset({Party.ASSIGNEE})
_OFFICE = frozenset({Party.OFFICE})

TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in (
        Transition(Action.REPORT, frozenset(), S.REPORTED,
                   frozenset({Party.OWNER, Party.OFFICE, Party.REPORTER}),
                   ("description", "location", "channel", "photos")),
        Transition(Action.DISPATCH, frozenset({S.REPORTED}), S.DISPATCHED, _OFFICE,
                   ("assignee", "priority")),
        Transition(Action.REASSIGN, frozenset({S.DISPATCHED}) | _WORKING, S.DISPATCHED, _OFFICE,
                   ("previous assignee", "new assignee", "reason"), reason_required=True),
        Transition(Action.DECLINE, frozenset({S.DISPATCHED}), S.REPORTED, _AO,
                   ("reason",), reason_required=True),
        Transition(Action.ACCEPT, frozenset({S.DISPATCHED}), S.ACCEPTED, _AO, ("accepted at",)),
        Transition(Action.START_TRAVEL, frozenset({S.ACCEPTED}), S.EN_ROUTE, _AO, ("set off at",)),
        Transition(Action.ARRIVE, frozenset({S.ACCEPTED, S.EN_ROUTE}), S.ON_SITE, _AO,
                   ("arrived at", "GPS fix with accuracy, or manual")),
        Transition(Action.ADD_NOTE, _OPEN | {S.RESOLVED}, None,
                   frozenset({Party.ASSIGNEE, Party.OFFICE, Party.OWNER}), ("note",)),
        Transition(Action.ADD_PHOTO, _OPEN | {S.RESOLVED}, None,
                   frozenset({Party.ASSIGNEE, Party.OFFICE, Party.OWNER}), ("photo hash",)),
        Transition(Action.REQUEST_HELP, _WORKING, None, _AO, ("what help is needed",),
                   reason_required=True),
        Transition(Action.RECORD_SWAP, frozenset({S.ON_SITE}), None, _AO,
                   ("old meter final reading and balance", "new meter, start reading, card",
                    "seals", "photos")),
        Transition(Action.RESOLVE, frozenset({S.ON_SITE}), S.RESOLVED, _AO,
                   ("what was done", "cause")),
        Transition(Action.REOPEN, frozenset({S.RESOLVED}), S.DISPATCHED,
                   frozenset({Party.OWNER, Party.OFFICE}), ("reason",), reason_required=True),
        Transition(Action.CONFIRM, frozenset({S.RESOLVED}), S.CONFIRMED,
                   frozenset({Party.OWNER, Party.OFFICE}), ("rating 1-5", "comment")),
        Transition(Action.CLOSE, frozenset({S.RESOLVED, S.CONFIRMED}), S.CLOSED, _OFFICE, ()),
        Transition(Action.CANCEL, _OPEN, S.CANCELLED, frozenset({Party.OFFICE, Party.OWNER}),
                   ("reason",), reason_required=True, customer_from=frozenset({S.REPORTED})),
    )
}

#: Which field role works which kind of job.
ASSIGNEE_ROLES: dict[WorkOrderKind, frozenset[Role]] = {
    WorkOrderKind.FAULT_REPAIR: frozenset({Role.CREW}),
    WorkOrderKind.METER_SWAP: frozenset({Role.METER_TECH}),
    # business applications (issue 13): crews survey the site, technicians install
    WorkOrderKind.NEW_CONNECTION: frozenset({Role.METER_TECH, Role.AGENT, Role.CREW}),
    WorkOrderKind.CAPACITY_CHANGE: frozenset({Role.METER_TECH, Role.AGENT, Role.CREW}),
    WorkOrderKind.ACCOUNT_CHANGE: frozenset({Role.AGENT, Role.CREW}),
    WorkOrderKind.USAGE_INSPECTION: frozenset({Role.AGENT, Role.CREW}),
    WorkOrderKind.CARE_VISIT: frozenset({Role.AGENT}),
}

#: Kinds a customer may raise from the app (the rest are raised by staff or monitoring).
CUSTOMER_REPORTABLE = frozenset(
    {
        WorkOrderKind.FAULT_REPAIR,
        WorkOrderKind.NEW_CONNECTION,
        WorkOrderKind.CAPACITY_CHANGE,
        WorkOrderKind.ACCOUNT_CHANGE,
    }
)
#: Kinds a customer never sees, even on their own account: a usage inspection is internal
#: work (its evidence and finding may name a suspicion of theft, and a theft's follow-up is
#: one too).
CUSTOMER_HIDDEN_KINDS = frozenset({WorkOrderKind.USAGE_INSPECTION})
#: Staff roles that may raise a job on someone's behalf (hotline, counter).
REPORTER_ROLES = frozenset({Role.DISPATCHER, Role.AGENT, Role.MANAGER, Role.ADMIN})


def office_covers(actor: Actor, station_id: str | None) -> bool:
    """An office user covers a job when county-wide or of the job's station."""
    return actor.role in OFFICE_ROLES and (
        actor.role == Role.ADMIN or actor.station_id is None or actor.station_id == station_id
    )


def _parties_of(actor: Actor, order: OrderFacts) -> set[Party]:
    parties: set[Party] = set()
    if actor.role in FIELD_ROLES and order.assignee_id == actor.user_id:
        parties.add(Party.ASSIGNEE)
    if actor.role == Role.CUSTOMER and order.account_id in actor.account_ids:
        parties.add(Party.OWNER)
    if office_covers(actor, order.station_id):
        parties.add(Party.OFFICE)
    if actor.role in REPORTER_ROLES:
        parties.add(Party.REPORTER)
    return parties


def _role_may(t: Transition, role: Role) -> bool:
    """Could this role ever take this action (as some party)?"""
    if Party.OFFICE in t.parties and role in OFFICE_ROLES:
        return True
    if Party.ASSIGNEE in t.parties and role in FIELD_ROLES:
        return True
    if Party.OWNER in t.parties and role == Role.CUSTOMER:
        return True
    return Party.REPORTER in t.parties and role in REPORTER_ROLES


def check(order: OrderFacts, actor: Actor, action: Action) -> Transition:
    """Return the transition if ``actor`` may take ``action`` on ``order`` now, else raise.

    The error says *why*, most fundamental first: the role can never do it, the actor is
    not the job's assignee / owner / office, or the status does not allow it. (Who comes
    before the status: a crew whose job was reassigned hears ``WO_NOT_ASSIGNEE`` whatever
    the new crew did with it since -- issue 8, item 9.)
    """
    t = TRANSITIONS[action]
    if action == Action.REPORT:
        return check_report(kind=order.kind, account_id=order.account_id, actor=actor)
    if not _role_may(t, actor.role):
        raise DomainError(ErrorCode.WO_ROLE_NOT_ALLOWED, action=action.value, role=actor.role)
    if not _parties_of(actor, order) & t.parties:
        if actor.role in FIELD_ROLES:
            raise DomainError(ErrorCode.WO_NOT_ASSIGNEE, action=action.value)
        if actor.role == Role.CUSTOMER:
            raise DomainError(ErrorCode.WO_NOT_OWNER, action=action.value)
        raise DomainError(ErrorCode.FORBIDDEN, action=action.value)
    sources = t.sources
    if actor.role == Role.CUSTOMER and t.customer_from is not None:
        sources = t.customer_from
    if order.status not in sources:
        raise DomainError(
            ErrorCode.WO_TRANSITION_NOT_ALLOWED, action=action.value, status=order.status.value
        )
    return t


def check_report(*, kind: WorkOrderKind, account_id: str | None, actor: Actor) -> Transition:
    """May ``actor`` raise a job of ``kind`` on ``account_id``?"""
    t = TRANSITIONS[Action.REPORT]
    if actor.role == Role.CUSTOMER:
        if kind not in CUSTOMER_REPORTABLE:
            raise DomainError(ErrorCode.WO_KIND_NOT_REPORTABLE, kind=kind.value)
        if account_id is None and kind != WorkOrderKind.NEW_CONNECTION:
            raise DomainError(ErrorCode.WO_ACCOUNT_REQUIRED)
        if account_id is not None and account_id not in actor.account_ids:
            raise DomainError(ErrorCode.WO_NOT_OWNER)
        return t
    if actor.role in REPORTER_ROLES:
        return t
    raise DomainError(ErrorCode.WO_ROLE_NOT_ALLOWED, action=Action.REPORT.value, role=actor.role)


def allowed_actions(order: OrderFacts, actor: Actor) -> list[Action]:
    """Every action ``actor`` may take on ``order`` now, in table order (excluding report)."""
    out: list[Action] = []
    for action in TRANSITIONS:
        if action == Action.REPORT:
            continue
        if action == Action.RECORD_SWAP and order.kind != WorkOrderKind.METER_SWAP:
            continue
        try:
            check(order, actor, action)
        except DomainError:
            continue
        out.append(action)
    return out


def target_status(t: Transition, current: WorkOrderStatus) -> WorkOrderStatus:
    return t.target if t.target is not None else current


def assignee_problem(kind: WorkOrderKind, *, role: Role, active: bool,
                     station_id: str | None, job_station_id: str | None) -> str | None:
    """Why a user cannot be assigned a job of ``kind`` (None when they can)."""
    if not active:
        return "inactive user"
    if role not in ASSIGNEE_ROLES[kind]:
        return f"role {role.value} does not work {kind.value} jobs"
    if station_id != job_station_id:
        return "belongs to another station"
    return None
