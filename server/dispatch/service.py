"""The desk's own actions: set a job's priority, mark a crew on duty, act on several jobs
at once, edit the stall rules; and what the desk reads besides the board (the suggested
crew, the change feed, the map).

Assigning, reassigning and cancelling go through ``server.work_orders.service.act`` (the
state machine), one job per transaction, so a batch applies the same rules as a single
action and one job's refusal does not undo the others. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server.db import Database
from server.dispatch import roster as roster_q
from server.dispatch.models import CrewDuty, StallRule, WorkOrderStall
from server.dispatch.schemas import BulkIn, BulkResult, CandidateOut
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders import service as wo
from server.work_orders.models import WorkOrder, WorkOrderEvent
from server.work_orders.service import scope_for_order
from shared.enums import FIELD_ROLES, OPEN_STATUSES, Priority, Role, WorkOrderKind
from shared.errors import DomainError, ErrorCode
from shared.messages import translate
from shared.workorders import deadlines, stalls
from shared.workorders.state_machine import Action, Actor, office_covers
from shared.workorders.suggest import Candidate, JobSpot, rank

SET_PRIORITY = "set_priority"


# -- priority ---------------------------------------------------------------------------------
def set_priority(uow: UnitOfWork, *, actor: Actor, order_id: str, priority: Priority,
                 reason: str | None = None, at: datetime) -> WorkOrder:
    """The office changes an open job's priority (deadlines of day-counted kinds follow it;
    a fault's restoration commitment does not). On the timeline as ``set_priority``."""
    session = uow.session
    order = wo.get_visible(session, actor=actor, order_id=order_id, for_update=True)
    if not office_covers(actor, order.station_id):
        raise DomainError(ErrorCode.WO_ROLE_NOT_ALLOWED, action=SET_PRIORITY, role=actor.role)
    if order.status not in OPEN_STATUSES:
        raise DomainError(ErrorCode.WO_TRANSITION_NOT_ALLOWED, action=SET_PRIORITY,
                          status=order.status)
    before = Priority(order.priority)
    if before == priority:
        return order  # nothing to change: not a new event
    dl = deadlines.compute_deadlines(kind=order.kind, area_class=order.area_class,
                                     reported_at=order.reported_at, priority=priority)
    order.priority = priority
    order.complete_by = dl.complete_by
    order.last_activity_at = max(order.last_activity_at, at)
    order.updated_at = at
    order.version += 1
    uow.changed(order)
    ev = WorkOrderEvent(work_order_id=order.id, action=SET_PRIORITY, from_status=order.status,
                        to_status=order.status, actor_id=actor.user_id, actor_role=actor.role,
                        occurred_at=at,
                        data={k: v for k, v in {
                            "priority": priority.value, "previous_priority": before.value,
                            "complete_by": dl.complete_by.isoformat(),
                            "reason": reason}.items() if v is not None})
    uow.changed(ev, scope=scope_for_order(order))
    uow.audit(action=f"work_order.{SET_PRIORITY}", entity="work_order", entity_id=order.id,
              before={"priority": before.value}, after={"priority": priority.value},
              reason=reason)
    return order


# -- several jobs at once -------------------------------------------------------------------
_BULK_ACTIONS = {"dispatch": Action.DISPATCH, "reassign": Action.REASSIGN,
                 "cancel": Action.CANCEL}


def bulk(db: Database, *, actor: Actor, body: BulkIn, lang: str, at: datetime
         ) -> list[BulkResult]:
    """Each job through the same service as a single action, in its own transaction; a
    refusal is reported for that job (its code and message) and the others go on."""
    results: list[BulkResult] = []
    for order_id in dict.fromkeys(body.order_ids):  # each job once, in the given order
        try:
            with UnitOfWork(db, actor) as uow:
                if body.action == "set_priority":
                    if body.priority is None:
                        raise DomainError(ErrorCode.VALIDATION_ERROR,
                                          summary="priority: required")
                    order = set_priority(uow, actor=actor, order_id=order_id,
                                         priority=body.priority, reason=body.reason, at=at)
                else:
                    data: dict[str, Any] = {"assignee_id": body.assignee_id,
                                            "reason": body.reason}
                    if body.action in ("dispatch", "reassign") and not body.assignee_id:
                        raise DomainError(ErrorCode.VALIDATION_ERROR,
                                          summary="assignee_id: required")
                    order = wo.act(uow, actor=actor, order_id=order_id,
                                   action=_BULK_ACTIONS[body.action],
                                   data={k: v for k, v in data.items() if v is not None},
                                   at=at).order
                uow.commit()
                results.append(BulkResult(order_id=order_id, code=order.code, ok=True,
                                          version=order.version))
        except DomainError as exc:
            results.append(BulkResult(order_id=order_id, code=_code_if_visible(db, actor,
                                                                               order_id),
                                      ok=False, error_code=exc.code.value,
                                      message=translate(exc.code, lang, **exc.details)))
    return results


def _code_if_visible(db: Database, actor: Actor, order_id: str) -> str | None:
    with Session(db.reader) as session:
        try:
            return wo.get_visible(session, actor=actor, order_id=order_id).code
        except DomainError:
            return None


# -- duty -----------------------------------------------------------------------------------
def set_duty(uow: UnitOfWork, *, actor: Actor, user_id: str, on_duty: bool, at: datetime
             ) -> User:
    """A station manager (or an administrator) marks a field user of their station on or
    off duty for today. Anyone else's user is not found."""
    if actor.role not in (Role.MANAGER, Role.ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    user = uow.session.get(User, user_id)
    if user is None or (actor.role != Role.ADMIN and actor.station_id is not None
                        and user.station_id != actor.station_id):
        raise DomainError(ErrorCode.USER_NOT_FOUND, user=user_id)
    if user.role not in FIELD_ROLES or not user.active:
        raise DomainError(ErrorCode.DUTY_NOT_FIELD_USER)
    mark = uow.session.get(CrewDuty, user_id)
    before = None if mark is None else mark.on_duty
    if mark is None:
        mark = CrewDuty(id=user_id, station_id=user.station_id, on_duty=on_duty,
                        set_by=actor.user_id, set_at=at)
    else:
        mark.on_duty, mark.set_by, mark.set_at = on_duty, actor.user_id, at
        mark.version += 1
    uow.changed(mark)
    uow.audit(action="crew.duty", entity="user", entity_id=user_id,
              before={"on_duty": before}, after={"on_duty": on_duty})
    return user


# -- the suggested crew -------------------------------------------------------------------------
def candidates(session: Session, order: WorkOrder, now: datetime) -> list[CandidateOut]:
    """The job's station's field users ranked for it (``shared.workorders.suggest``)."""
    users = roster_q.field_users(session, station_id=order.station_id)
    crews = {c.id: c for c in roster_q.roster(session, users, now)}
    areas = _areas_of_positions(session, crews.values())
    spot = JobSpot(kind=WorkOrderKind(order.kind), station_id=order.station_id,
                   area_id=order.area_id, lat=order.lat, lon=order.lon)
    pool = [Candidate(
        user_id=c.id, display_name=c.display_name, role=Role(c.role), station_id=c.station_id,
        on_duty=c.on_duty, open_jobs=c.open_count, open_areas=frozenset(c.open_areas),
        last_lat=c.last_position.lat if c.last_position else None,
        last_lon=c.last_position.lon if c.last_position else None,
        last_at=c.last_position.at if c.last_position else None,
        last_area_id=areas.get(c.id)) for c in crews.values()]
    return [CandidateOut(crew=crews[r.candidate.user_id], same_area=r.same_area,
                         distance_km=round(r.distance_km, 2) if r.distance_km is not None
                         else None)
            for r in rank(spot, pool)]


def _areas_of_positions(session: Session, crews: Any) -> dict[str, str]:
    """Which area each crew's last position was taken in (the job they arrived at)."""
    by_job = {c.last_position.work_order_id: c.id for c in crews if c.last_position}
    if not by_job:
        return {}
    rows = session.execute(select(col(WorkOrder.id), col(WorkOrder.area_id)).where(
        WorkOrder.id.in_(list(by_job)))).all()  # type: ignore[attr-defined]
    return {by_job[job_id]: area_id for job_id, area_id in rows if area_id}


SUGGEST_RULE = {
    "zh": ("建议人选：本所能承担此类工单的人员中，先看是否值班，再看是否在本台区（最近到达的工单"
           "或手头工单在本台区），然后是手头工单最少，最后是最近位置离现场最近。"),
    "en": ("Suggested crew: among the station's people who work this kind of job — on duty "
           "first, then those in the job's area (their last arrival or an open job is there), "
           "then the fewest open jobs, then the nearest last known position."),
}


# -- the change feed ----------------------------------------------------------------------------
FEED_ENTITIES = ("work_order", "work_order_stall", "crew_duty")
FEED_LIMIT = 500


@dataclass(frozen=True)
class Changes:
    seq: int
    order_ids: list[str]
    crews: bool
    more: bool


def changes_since(session: Session, *, actor: Actor, since: int) -> Changes:
    """What changed on the board after ``since`` for ``actor`` (the change log, filtered to
    the jobs, stall marks and duty marks of their station). ``since`` below 0: nothing,
    and the feed's position now (the route's documented answer to ``since=-1``; it read
    the whole log before and, past 500 entries, answered an old position with ``more``)."""
    from server.changes.models import ChangeLog

    c = ChangeLog
    top = high_water(session)  # first: every change up to it is committed and readable
    if since < 0:  # where the feed stands now: a desk that just read its screens
        return Changes(top, [], False, False)
    # The entries after ``since`` by their sequence (the log keeps no index by station:
    # migration 0021), filtered to the station's board.
    stmt = select(col(c.seq), col(c.entity), col(c.entity_id)).where(
        col(c.seq) > since, col(c.seq) <= top, col(c.entity).in_(FEED_ENTITIES))
    if not (actor.role == Role.ADMIN or actor.station_id is None):
        stmt = stmt.where(col(c.station_id) == actor.station_id)
    rows = session.execute(stmt.order_by(col(c.seq)).limit(FEED_LIMIT + 1)).all()
    more = len(rows) > FEED_LIMIT
    rows = rows[:FEED_LIMIT]
    seq = rows[-1].seq if more else max(since, top)
    orders = list(dict.fromkeys(r.entity_id for r in rows if r.entity != "crew_duty"))
    return Changes(seq, orders, any(r.entity == "crew_duty" for r in rows), more)


def high_water(session: Session) -> int:
    from server.changes.models import Counter

    value = session.execute(select(col(Counter.value)).where(
        col(Counter.name) == "change_seq")).scalar()
    return int(value or 0)


# -- stall rules --------------------------------------------------------------------------------
def update_rule(uow: UnitOfWork, *, actor: Actor, rule_id: str, changes: dict[str, Any],
                at: datetime) -> StallRule:
    if actor.role != Role.ADMIN:
        raise DomainError(ErrorCode.FORBIDDEN)
    rule = uow.session.get(StallRule, rule_id, with_for_update=True)
    if rule is None:
        raise DomainError(ErrorCode.STALL_RULE_NOT_FOUND, rule=rule_id)
    expected = changes.pop("expected_version", None)
    if expected is not None and expected != rule.version:
        raise DomainError(ErrorCode.VERSION_CONFLICT, expected=expected, actual=rule.version)
    before = {"threshold": rule.threshold, "escalate_after_min": rule.escalate_after_min,
              "active": rule.active}
    after = {**before, **{k: v for k, v in changes.items() if v is not None}}
    stalls.check_rule(trigger=rule.trigger, kind=rule.kind, threshold=after["threshold"],
                      escalate_after_min=after["escalate_after_min"])
    if after == before:
        return rule
    rule.threshold, rule.escalate_after_min = after["threshold"], after["escalate_after_min"]
    rule.active = after["active"]
    rule.updated_at, rule.updated_by = at, actor.user_id
    rule.version += 1
    uow.session.add(rule)
    uow.audit(action="stall_rule.update", entity="stall_rule", entity_id=rule.id,
              before=before, after=after)
    return rule


def create_rule(uow: UnitOfWork, *, actor: Actor, trigger: str, kind: str, threshold: int,
                escalate_after_min: int, active: bool, at: datetime) -> StallRule:
    if actor.role != Role.ADMIN:
        raise DomainError(ErrorCode.FORBIDDEN)
    stalls.check_rule(trigger=trigger, kind=kind, threshold=threshold,
                      escalate_after_min=escalate_after_min)
    if uow.session.execute(select(col(StallRule.id)).where(
            col(StallRule.trigger) == trigger, col(StallRule.kind) == kind)).first():
        raise DomainError(ErrorCode.STALL_RULE_INVALID, field="kind",
                          value=f"{kind} (a {trigger} rule for it exists)")
    rule = StallRule(trigger=trigger, kind=kind, threshold=threshold,
                     escalate_after_min=escalate_after_min, active=active, updated_at=at,
                     updated_by=actor.user_id)
    uow.session.add(rule)
    uow.session.flush()
    uow.audit(action="stall_rule.create", entity="stall_rule", entity_id=rule.id,
              after={"trigger": trigger, "kind": kind, "threshold": threshold,
                     "escalate_after_min": escalate_after_min, "active": active})
    return rule


def stall_of(session: Session, order_id: str) -> WorkOrderStall | None:
    return session.get(WorkOrderStall, order_id)

