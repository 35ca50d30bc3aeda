"""Work-order services: report, every state transition, listing and visibility.

The online API and the sync op handlers both call these functions; the rules live in
``shared.workorders`` and nowhere else (``rules.decide``: what an action does to a job;
this module loads the job, stores the decision and adds what only the server knows).
Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, false, func, or_, text, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from server.customers.models import Account
from server.db import bump_counter
from server.meters.models import Meter, MeterSwap
from server.notifications.service import notify
from server.photos.models import Photo, PhotoLink
from server.stations.models import TransformerArea
from server.uow import Scope, UnitOfWork
from server.users.models import User
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.billing.notices import NoticeKind
from shared.enums import (
    FIELD_ROLES,
    OPEN_STATUSES,
    MeterStatus,
    Priority,
    ReportChannel,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders import deadlines
from shared.workorders.notices import JOB_NOTICES
from shared.workorders.rules import Decision, JobState, decide
from shared.workorders.state_machine import (
    ASSIGNEE_ROLES,
    CUSTOMER_HIDDEN_KINDS,
    REPORTER_ROLES,
    Action,
    Actor,
    OrderFacts,
    assignee_problem,
    check,
    check_report,
)

S = WorkOrderStatus
_APPLICATION_JOB_KINDS = frozenset({WorkOrderKind.NEW_CONNECTION, WorkOrderKind.CAPACITY_CHANGE,
                                    WorkOrderKind.ACCOUNT_CHANGE})


def scope_for_order(order: WorkOrder) -> Scope:
    """Rows that belong to a job (events, swaps) are seen by whoever sees the job."""
    return Scope(order.station_id, order.account_id, order.assignee_id)


def facts(order: WorkOrder) -> OrderFacts:
    return OrderFacts(S(order.status), WorkOrderKind(order.kind), order.station_id,
                      order.assignee_id, order.account_id)


# -- visibility -----------------------------------------------------------------------
def customer_may_see_kind() -> ColumnElement[bool]:
    """SQL condition: a job of a kind customers see (``CUSTOMER_HIDDEN_KINDS``: not)."""
    return WorkOrder.kind.not_in(  # type: ignore[attr-defined,no-any-return]
        sorted(k.value for k in CUSTOMER_HIDDEN_KINDS))


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL condition: the work orders ``actor`` may see."""
    if actor.role == Role.ADMIN or (actor.role in (Role.DISPATCHER, Role.MANAGER)
                                    and actor.station_id is None):
        return true()
    if actor.role in (Role.DISPATCHER, Role.MANAGER):
        return WorkOrder.station_id == actor.station_id  # type: ignore[return-value]
    if actor.role in FIELD_ROLES:
        kinds = [k.value for k, roles in ASSIGNEE_ROLES.items() if actor.role in roles]
        return or_(WorkOrder.assignee_id == actor.user_id,  # type: ignore[arg-type]
                   and_(WorkOrder.station_id == actor.station_id,
                        WorkOrder.kind.in_(kinds)))  # type: ignore[attr-defined]
    if actor.role == Role.CUSTOMER:
        return and_(or_(WorkOrder.account_id.in_(sorted(actor.account_ids)),  # type: ignore[union-attr]
                        and_(WorkOrder.account_id.is_(None),  # type: ignore[union-attr]
                             WorkOrder.reporter_id == actor.user_id)),
                    customer_may_see_kind())
    return false()


@functools.lru_cache(maxsize=1024)
def _visible_order_stmt(actor: Actor, for_update: bool) -> Any:
    """``get_visible``'s query per actor, built once (SQL expressions are immutable): building
    it and its cache key anew was a tenth of the time to apply a synced op."""
    stmt = select(WorkOrder).where(WorkOrder.id == bindparam("order_id"), visible_clause(actor))
    return stmt.with_for_update() if for_update else stmt


def get_visible(session: Session, *, actor: Actor, order_id: str,
                for_update: bool = False) -> WorkOrder:
    """The order if ``actor`` may see it; otherwise WORK_ORDER_NOT_FOUND (no existence leak)."""
    order = session.exec(_visible_order_stmt(actor, for_update),
                         params={"order_id": order_id}).first()
    if order is None:
        raise DomainError(ErrorCode.WORK_ORDER_NOT_FOUND, work_order=order_id)
    return order


# -- report ---------------------------------------------------------------------------
def _new_code(session: Session, at: datetime) -> str:
    n = bump_counter(session, "work_order_code")
    return f"WO{at.astimezone(LOCAL_TZ):%y%m%d}{n:05d}"


def _serialize_on(session: Session, namespace: str, key: str) -> None:
    """Make transactions about the same client-made id run one after the other, so a
    retry racing its first attempt finds the committed row instead of inserting it twice.
    (SQLite's writers are serialized already by BEGIN IMMEDIATE.)"""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": f"{namespace}:{key}"})


def _same_report(order: WorkOrder, data: dict[str, Any]) -> bool:
    return (order.kind == data["kind"] and order.description == data["description"]
            and order.account_id == data.get("account_id"))


def _may_see_account(actor: Actor, account: Account) -> bool:
    if actor.role == Role.CUSTOMER:
        return account.id in actor.account_ids
    return actor.role == Role.ADMIN or actor.station_id in (None, account.station_id)


def report(uow: UnitOfWork, *, actor: Actor, data: dict[str, Any],
           at: datetime | None = None) -> tuple[WorkOrder, bool]:
    """Raise a work order; returns ``(order, created)``. A repeated client id is a no-op."""
    session = uow.session
    kind = WorkOrderKind(data["kind"])
    now = utcnow()
    at = at or now
    if data.get("id"):
        _serialize_on(session, "work_order.report", data["id"])
        existing = session.get(WorkOrder, data["id"])
        if existing is not None:
            # Only the reporter's own retry is a no-op: anyone else re-using the id is
            # refused, and never shown the job behind it.
            if existing.reporter_id != actor.user_id or not _same_report(existing, data):
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
            return existing, False
    if actor.role != Role.CUSTOMER and actor.role not in REPORTER_ROLES:
        raise DomainError(ErrorCode.WO_ROLE_NOT_ALLOWED, action=Action.REPORT.value)
    account = None
    if data.get("account_id"):
        account = session.get(Account, data["account_id"])
        if account is None or not _may_see_account(actor, account):
            # Someone else's account looks exactly like a missing one: no existence leak.
            raise DomainError(ErrorCode.ACCOUNT_NOT_FOUND, account=data["account_id"])
    check_report(kind=kind, account_id=data.get("account_id"), actor=actor)
    area_id = account.area_id if account else data.get("area_id")
    if area_id is None:
        raise DomainError(ErrorCode.WO_ACCOUNT_REQUIRED)
    area = session.get(TransformerArea, area_id)
    if area is None:
        raise DomainError(ErrorCode.NOT_FOUND, area=area_id)
    if actor.role != Role.CUSTOMER and not (
            actor.role == Role.ADMIN or actor.station_id in (None, area.station_id)):
        raise DomainError(ErrorCode.FORBIDDEN)
    meter = None
    if account is not None:
        meter = session.exec(select(Meter).where(
            Meter.account_id == account.id, Meter.status == MeterStatus.INSTALLED)).first()
    if kind == WorkOrderKind.METER_SWAP and meter is None:
        raise DomainError(ErrorCode.METER_NOT_FOUND, meter="installed meter of the account")
    priority = Priority(data.get("priority") or Priority.NORMAL)
    if actor.role == Role.CUSTOMER:
        priority = Priority.NORMAL  # customers do not set priorities
    channel = data.get("channel") or (
        ReportChannel.APP if actor.role == Role.CUSTOMER else ReportChannel.HOTLINE)
    if actor.role == Role.CUSTOMER:
        channel = ReportChannel.APP
    dl = deadlines.compute_deadlines(kind=kind, area_class=area.area_class, reported_at=at,
                                     priority=priority)
    loc = data.get("location") or {}
    order = WorkOrder(
        **({"id": data["id"]} if data.get("id") else {}),
        code=_new_code(session, at), kind=kind, status=S.REPORTED, priority=priority,
        channel=ReportChannel(channel), station_id=area.station_id, area_id=area.id,
        area_class=area.area_class, account_id=account.id if account else None,
        meter_id=meter.id if meter else None, reporter_id=actor.user_id,
        description=data["description"],
        contact_name=data.get("contact_name") or (account.name if account else None),
        contact_phone=data.get("contact_phone") or (account.phone if account else None),
        address=data.get("address") or (account.address if account else None),
        lat=loc.get("lat", account.lat if account else None),
        lon=loc.get("lon", account.lon if account else None),
        reported_at=at, arrive_by=dl.arrive_by, complete_by=dl.complete_by,
        last_activity_at=at)
    uow.changed(order)
    session.flush()
    _event(uow, order, action=Action.REPORT, before=None, actor=actor, at=at,
           data={"channel": order.channel, "location": loc or None})
    for sha in data.get("photos") or []:
        _link_photo(uow, order, sha256=sha, actor=actor, purpose="report")
    uow.audit(action="work_order.report", entity="work_order", entity_id=order.id,
              after={"kind": kind.value, "account_id": order.account_id,
                     "channel": order.channel})
    return order, True


# -- transitions ----------------------------------------------------------------------
@dataclass(frozen=True)
class ActResult:
    order: WorkOrder
    duplicate: bool


def job_state(session: Session, order: WorkOrder) -> JobState:
    """What the rules read of a job (``shared.workorders.rules``): its row, and for a
    meter-swap job whether its swap is recorded."""
    has_swap = order.kind == WorkOrderKind.METER_SWAP and session.exec(
        select(MeterSwap.id).where(MeterSwap.work_order_id == order.id)).first() is not None
    return JobState(status=S(order.status), kind=WorkOrderKind(order.kind),
                    station_id=order.station_id, assignee_id=order.assignee_id,
                    account_id=order.account_id, priority=Priority(order.priority),
                    last_activity_at=order.last_activity_at, reopen_count=order.reopen_count,
                    has_swap=has_swap)


def apply_decision(uow: UnitOfWork, order: WorkOrder, decision: Decision, *, actor: Actor,
                   at: datetime, event_data: dict[str, Any] | None = None,
                   event_id: str | None = None) -> WorkOrderEvent:
    """Store a decision: the row's changes (and a new version), the job entering or
    leaving its assignees' scope, and its timeline event."""
    previous_assignee = order.assignee_id
    for name, value in decision.changes.items():
        setattr(order, name, value)
    order.updated_at = utcnow()
    order.version += 1
    uow.changed(order)
    if order.assignee_id != previous_assignee:
        for user_id, enter in ((previous_assignee, False), (order.assignee_id, True)):
            if user_id:
                uow.scope_move(order_id=order.id, version=order.version, enter=enter,
                               scope=Scope(order.station_id, order.account_id, user_id))
    return _event(uow, order, action=decision.action, before=decision.from_status,
                  actor=actor, at=at,
                  data=decision.event_data if event_data is None else event_data,
                  event_id=event_id)


def act(uow: UnitOfWork, *, actor: Actor, order_id: str, action: Action,
        data: dict[str, Any], at: datetime | None = None) -> ActResult:
    """Take ``action`` on a work order: the shared rules decide, this stores.

    ``data`` holds the action's fields plus optional ``event_id`` (a client-made id that
    makes a retry a no-op) and ``expected_version``. Around the decision, what only the
    server knows: the assignee must be a user who may take the job, a photo gets its
    link row, a swap is recorded through the meter service only.
    """
    session = uow.session
    order = get_visible(session, actor=actor, order_id=order_id, for_update=True)
    event_id = data.get("event_id")
    if event_id:
        seen = session.get(WorkOrderEvent, event_id)
        if seen is not None:
            if seen.work_order_id != order.id or seen.action != action.value:
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
            return ActResult(order, True)
    if data.get("expected_version") and data["expected_version"] != order.version:
        raise DomainError(ErrorCode.VERSION_CONFLICT, expected=data["expected_version"],
                          actual=order.version)
    if action == Action.RECORD_SWAP:
        check(facts(order), actor, action)
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="use the meter-swap endpoint")
    at = at or utcnow()
    decision = decide(job_state(session, order), actor, action, data, at)
    known: dict[str, Any] = {}  # what the server adds to the record
    if action in (Action.DISPATCH, Action.REASSIGN):
        user = _check_assignee(session, order, decision.changes["assignee_id"])
        known["assignee_name"] = user.display_name
    if action == Action.ADD_PHOTO:
        _link_photo(uow, order, sha256=decision.fields["sha256"], actor=actor, purpose="job",
                    caption=decision.fields["caption"])
    event = apply_decision(uow, order, decision, actor=actor, at=at,
                           event_data={**decision.event_data, **known}, event_id=event_id)
    _tell_customer(uow, order, action, event, fields=decision.fields, at=at)
    if action == Action.RESOLVE and order.kind in _APPLICATION_JOB_KINDS:
        # a business application's survey or installation step is done (issue 13)
        from server.applications.service import on_job_resolved

        on_job_resolved(uow, order=order, actor=actor, at=at)
    audit_decision(uow, order_id=order.id, decision=decision, known=known)
    return ActResult(order, False)


def does_more_than_the_row(*, action: Action, kind: str, account_id: str | None) -> bool:
    """Whether taking ``action`` on a job does more than change its row and add its event:
    the customer is told (inbox, SMS), or a business application's step follows. The
    set-wise push leaves such ops to ``act``."""
    return ((account_id is not None and action in JOB_NOTICES
             and kind not in CUSTOMER_HIDDEN_KINDS)
            or (action == Action.RESOLVE and kind in _APPLICATION_JOB_KINDS))


def audit_decision(uow: UnitOfWork, *, order_id: str, decision: Decision,
                   known: dict[str, Any] | None = None) -> None:
    """Audit a stored decision that moved the job (or a reassignment, a confirmation)."""
    action = decision.action
    if decision.from_status != decision.to_status or action in (Action.REASSIGN,
                                                                  Action.CONFIRM):
        uow.audit(action=f"work_order.{action.value}", entity="work_order",
                  entity_id=order_id, before={"status": decision.from_status.value},
                  after={"status": decision.to_status.value, **decision.data, **(known or {})},
                  reason=decision.fields.get("reason"))


def _tell_customer(uow: UnitOfWork, order: WorkOrder, action: Action, event: WorkOrderEvent,
                   *, fields: dict[str, Any], at: datetime) -> None:
    """The one place a job's progress reaches its customer's inbox (and SMS)."""
    kind = JOB_NOTICES.get(action)
    if kind is None or order.account_id is None:
        return
    if WorkOrderKind(order.kind) in CUSTOMER_HIDDEN_KINDS:
        return  # internal work (a usage inspection): its customer is never told of it
    account = uow.session.get(Account, order.account_id)
    if account is None:
        return
    crew = uow.session.get(User, order.assignee_id) if order.assignee_id else None
    notify(uow, account=account, kind=NoticeKind(kind), at=at,
           dedupe_key=f"job:{event.id}",
           params={"code": order.code, "work_order_id": order.id,
                   "crew": crew.display_name if crew else "",
                   "resolution": (fields.get("resolution") or order.resolution or "")[:200],
                   "reason": (fields.get("reason") or "")[:200]})


def _event(uow: UnitOfWork, order: WorkOrder, *, action: Action, before: S | None,
           actor: Actor, at: datetime, data: dict[str, Any], event_id: str | None = None
           ) -> WorkOrderEvent:
    ev = WorkOrderEvent(work_order_id=order.id, action=action.value, from_status=before,
                        to_status=order.status, actor_id=actor.user_id, actor_role=actor.role,
                        occurred_at=at, data={k: v for k, v in data.items() if v is not None})
    if event_id:
        ev.id = event_id
    uow.changed(ev, scope=scope_for_order(order))
    return ev


def _check_assignee(session: Session, order: WorkOrder, assignee_id: str) -> User:
    user = session.get(User, assignee_id)
    if user is None:
        raise DomainError(ErrorCode.WO_ASSIGNEE_INVALID, reason="no such user")
    problem = assignee_problem(WorkOrderKind(order.kind), role=Role(user.role),
                               active=user.active, station_id=user.station_id,
                               job_station_id=order.station_id)
    if problem:
        raise DomainError(ErrorCode.WO_ASSIGNEE_INVALID, reason=problem)
    return user


def _link_photo(uow: UnitOfWork, order: WorkOrder, *, sha256: str, actor: Actor,
                purpose: str, caption: str | None = None) -> None:
    session = uow.session
    if session.get(Photo, sha256) is None:
        session.add(Photo(sha256=sha256, uploaded_by=actor.user_id))
        session.flush()
    uow.changed(PhotoLink(sha256=sha256, work_order_id=order.id, purpose=purpose,
                          caption=caption, added_by=actor.user_id),
                scope=scope_for_order(order))


# -- queries --------------------------------------------------------------------------
def flags(order: WorkOrder, now: datetime | None = None) -> deadlines.Flags:
    return deadlines.assess(
        kind=WorkOrderKind(order.kind), status=S(order.status), now=now or utcnow(),
        arrive_by=order.arrive_by, complete_by=order.complete_by, arrived_at=order.arrived_at,
        resolved_at=order.resolved_at, last_activity_at=order.last_activity_at)


def overdue_clause(now: datetime) -> ColumnElement[bool]:
    open_ = [s.value for s in OPEN_STATUSES]
    not_arrived = [S.REPORTED.value, S.DISPATCHED.value, S.ACCEPTED.value, S.EN_ROUTE.value]
    return or_(
        and_(WorkOrder.status.in_(open_), WorkOrder.complete_by < now),  # type: ignore[attr-defined]
        and_(WorkOrder.status.in_(not_arrived), WorkOrder.arrive_by < now),  # type: ignore[attr-defined,operator]
        WorkOrder.resolved_at > WorkOrder.complete_by,  # type: ignore[operator]
        WorkOrder.arrived_at > WorkOrder.arrive_by,  # type: ignore[operator]
    )


def stalled_clause(now: datetime) -> ColumnElement[bool]:
    open_ = [s.value for s in OPEN_STATUSES]
    fault = WorkOrderKind.FAULT_REPAIR.value
    fault_after = deadlines.STALL_AFTER[WorkOrderKind.FAULT_REPAIR]
    return and_(WorkOrder.status.in_(open_), or_(  # type: ignore[attr-defined]
        and_(WorkOrder.kind == fault, WorkOrder.last_activity_at < now - fault_after),
        and_(WorkOrder.kind != fault,
             WorkOrder.last_activity_at < now - deadlines.STALL_AFTER_DEFAULT)))


def list_orders(session: Session, *, actor: Actor, status: list[S] | None = None,
                kind: WorkOrderKind | None = None, station_id: str | None = None,
                assignee_id: str | None = None, account_id: str | None = None,
                overdue: bool | None = None, stalled: bool | None = None,
                limit: int = 50, offset: int = 0) -> tuple[list[WorkOrder], int]:
    now = utcnow()
    conds: list[Any] = [visible_clause(actor)]
    if status:
        conds.append(WorkOrder.status.in_([s.value for s in status]))  # type: ignore[attr-defined]
    if kind:
        conds.append(WorkOrder.kind == kind.value)
    if station_id:
        conds.append(WorkOrder.station_id == station_id)
    if assignee_id:
        conds.append(WorkOrder.assignee_id == (actor.user_id if assignee_id == "me"
                                               else assignee_id))
    if account_id:
        conds.append(WorkOrder.account_id == account_id)
    for wanted, clause in ((overdue, overdue_clause), (stalled, stalled_clause)):
        if wanted is not None:
            ids = select(WorkOrder.id).where(clause(now))
            conds.append(WorkOrder.id.in_(ids) if wanted  # type: ignore[attr-defined]
                         else WorkOrder.id.not_in(ids))  # type: ignore[attr-defined]
    where = and_(*conds)
    total = session.exec(select(func.count()).select_from(WorkOrder).where(where)).one()
    rows = session.exec(select(WorkOrder).where(where)
                        .order_by(WorkOrder.complete_by, WorkOrder.reported_at)  # type: ignore[arg-type]
                        .limit(limit).offset(offset)).all()
    return list(rows), int(total)


def timeline(session: Session, order_id: str) -> list[WorkOrderEvent]:
    return list(session.exec(select(WorkOrderEvent)
                             .where(WorkOrderEvent.work_order_id == order_id)
                             .order_by(WorkOrderEvent.occurred_at,  # type: ignore[arg-type]
                                       WorkOrderEvent.recorded_at)).all())

