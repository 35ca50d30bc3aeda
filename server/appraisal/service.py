"""Scorecards from the jobs' timelines.

A job is credited to the person who first resolved it, in the county-local month of that
resolve (its device time, clock-corrected: a job synced late counts when it was done).
Dispatch, accept and arrival times are the first of each in the job's timeline; reopens
after the first resolve are the first-time-fix evidence; reopens by office staff are the
manager's review returning it. The figures themselves are ``shared.appraisal.figures``.

Who sees what: a manager or dispatcher their station's people and the station; an
administrator (or a county-wide office user) every station and the county; anyone their
own scorecard. Anything else is not found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from server.applications.models import Application
from server.stations.models import Station
from server.users.models import User
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.appraisal.figures import (
    JobFacts,
    Scorecard,
    StepFacts,
    month_bounds,
    month_of,
    previous_months,
    ranked,
    scorecard,
)
from shared.enums import FIELD_ROLES, OFFICE_ROLES, Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import as_utc
from shared.workorders.state_machine import Actor

_ACTIONS = ("dispatch", "reassign", "accept", "arrive", "resolve", "reopen")
_OFFICE = {r.value for r in OFFICE_ROLES}


@dataclass(frozen=True)
class Subject:
    key: str            # "user:<id>", "station:<id>", "county"
    name: str
    role: str | None = None
    station_id: str | None = None


def station_scope(actor: Actor) -> str | None:
    """The station an office user is limited to (None: the whole county)."""
    if actor.role == Role.ADMIN:
        return None
    return actor.station_id


def _refuse() -> DomainError:
    return DomainError(ErrorCode.NOT_FOUND)


def check_subject(session: Session, actor: Actor, key: str) -> Subject:
    """The subject ``key`` if ``actor`` may see its scorecard (else NOT_FOUND)."""
    if key.startswith("user:"):
        user = session.get(User, key[5:])
        if user is None:
            raise _refuse()
        own = user.id == actor.user_id
        covered = actor.role in OFFICE_ROLES and (
            station_scope(actor) is None or station_scope(actor) == user.station_id)
        if not (own or covered):
            raise _refuse()
        return Subject(key, user.display_name, user.role, user.station_id)
    if actor.role not in OFFICE_ROLES:
        raise _refuse()
    if key == "county":
        if station_scope(actor) is not None:
            raise _refuse()
        return Subject("county", "全县 / County")
    if key.startswith("station:"):
        station = session.get(Station, key[8:])
        scope = station_scope(actor)
        if station is None or (scope is not None and scope != station.id):
            raise _refuse()
        return Subject(key, station.name, None, station.id)
    raise DomainError(ErrorCode.VALIDATION_ERROR, summary="subject: user:<id>, "
                      "station:<id> or county")


def load_facts(session: Session, *, first_month: str, last_month: str,
               station_id: str | None = None, user_id: str | None = None,
               ) -> dict[str, list[JobFacts]]:
    """The facts of every job first resolved in ``[first_month, last_month]``, by month."""
    start, _ = month_bounds(first_month)
    _, end = month_bounds(last_month)
    resolves = (select(col(WorkOrderEvent.work_order_id),
                       col(WorkOrderEvent.occurred_at), col(WorkOrderEvent.actor_id))
                .join(WorkOrder, col(WorkOrder.id) == col(WorkOrderEvent.work_order_id))
                .where(col(WorkOrderEvent.action) == "resolve",
                       col(WorkOrderEvent.occurred_at) < end))
    if station_id is not None:
        resolves = resolves.where(col(WorkOrder.station_id) == station_id)
    first_resolve: dict[str, tuple[datetime, str | None]] = {}
    for wo_id, at, actor_id in session.execute(resolves):
        at = as_utc(at)
        if wo_id not in first_resolve or at < first_resolve[wo_id][0]:
            first_resolve[wo_id] = (at, actor_id)
    wanted = {w: v for w, v in first_resolve.items()
              if v[0] >= start and (user_id is None or v[1] == user_id)}
    if not wanted:
        return {}
    ids = sorted(wanted)
    events: dict[str, list[tuple[str, datetime, str | None]]] = defaultdict(list)
    rows: dict[str, WorkOrder] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        for wo_id, action, at, role in session.execute(
                select(col(WorkOrderEvent.work_order_id), col(WorkOrderEvent.action),
                       col(WorkOrderEvent.occurred_at), col(WorkOrderEvent.actor_role))
                .where(col(WorkOrderEvent.work_order_id).in_(part),
                       col(WorkOrderEvent.action).in_(_ACTIONS))):
            events[wo_id].append((action, as_utc(at), role))
        for order in session.exec(select(WorkOrder).where(col(WorkOrder.id).in_(part))):
            rows[order.id] = order
    out: dict[str, list[JobFacts]] = defaultdict(list)
    for wo_id in ids:
        resolved_at, resolver = wanted[wo_id]
        order = rows[wo_id]
        timeline = sorted(events[wo_id], key=lambda e: e[1])

        dispatched = _first(timeline, "dispatch") or _first(timeline, "reassign") or (
            as_utc(order.dispatched_at) if order.dispatched_at else None)
        reopens = tuple(at for a, at, _ in timeline if a == "reopen" and at >= resolved_at)
        returned = sum(1 for a, at, role in timeline
                       if a == "reopen" and at >= resolved_at and role in _OFFICE)
        facts = JobFacts(
            id=order.id, code=order.code, kind=str(order.kind), station_id=order.station_id,
            assignee_id=resolver, dispatched_at=dispatched,
            accepted_at=_first(timeline, "accept", dispatched),
            arrived_at=_first(timeline, "arrive", dispatched),
            resolved_at=resolved_at,
            arrive_by=as_utc(order.arrive_by) if order.arrive_by else None,
            complete_by=as_utc(order.complete_by) if order.complete_by else None,
            rating=order.rating, reopened_at=reopens, returned=returned)
        out[month_of(resolved_at)].append(facts)
    return out


def load_steps(session: Session, *, first_month: str, last_month: str,
               station_id: str | None = None, user_id: str | None = None,
               ) -> dict[str, list[StepFacts]]:
    """Business-application steps ended in ``[first_month, last_month]``, by the local
    month they ended in (an application touched since the span began may hold one)."""
    start, _ = month_bounds(first_month)
    _, end = month_bounds(last_month)
    q = select(Application).where(col(Application.updated_at) >= start)
    if station_id is not None:
        q = q.where(col(Application.station_id) == station_id)
    out: dict[str, list[StepFacts]] = defaultdict(list)
    for app in session.exec(q):
        for entry in app.steps:
            if not entry.get("ended_at") or entry.get("outcome") in (None, "cancelled"):
                continue
            if user_id is not None and entry.get("ended_by") != user_id:
                continue
            ended = as_utc(datetime.fromisoformat(entry["ended_at"]))
            if not start <= ended < end:
                continue
            due = entry.get("due_at")
            out[month_of(ended)].append(StepFacts(
                application_id=app.id, code=app.code, step=str(entry["step"]),
                station_id=app.station_id, ended_by=entry.get("ended_by"), ended_at=ended,
                due_at=as_utc(datetime.fromisoformat(due)) if due else None,
                work_order_id=entry.get("work_order_id")))
    return out


def _steps_for(steps: Sequence[StepFacts], subject: Subject) -> list[StepFacts]:
    if subject.key.startswith("user:"):
        return [s for s in steps if s.ended_by == subject.key[5:]]
    if subject.key.startswith("station:"):
        return [s for s in steps if s.station_id == subject.station_id]
    return list(steps)


def _first(timeline: list[tuple[str, datetime, str | None]], action: str,
           after: datetime | None = None) -> datetime | None:
    return next((at for a, at, _ in timeline
                 if a == action and (after is None or at >= after)), None)


def _people(session: Session, station_id: str | None) -> list[User]:
    q = select(User).where(col(User.role).in_([r.value for r in FIELD_ROLES]),
                           col(User.active).is_(True))
    if station_id is not None:
        q = q.where(col(User.station_id) == station_id)
    return list(session.exec(q.order_by(col(User.display_name))))


def _for_subject(facts: Sequence[JobFacts], subject: Subject) -> list[JobFacts]:
    if subject.key.startswith("user:"):
        return [f for f in facts if f.assignee_id == subject.key[5:]]
    if subject.key.startswith("station:"):
        return [f for f in facts if f.station_id == subject.station_id]
    return list(facts)


def card(session: Session, actor: Actor, *, subject_key: str, month: str) -> tuple[
        Subject, Scorecard]:
    subject = check_subject(session, actor, subject_key)
    where = _narrowing(subject)
    facts = load_facts(session, first_month=month, last_month=month, **where)
    steps = load_steps(session, first_month=month, last_month=month, **where)
    return subject, scorecard(subject.key, month, _for_subject(facts.get(month, []), subject),
                              _steps_for(steps.get(month, []), subject))


def _narrowing(subject: Subject) -> dict[str, str | None]:
    """The loaders' filters for a subject (a person's station is not a filter: a crew
    may have worked another station's job)."""
    return {"station_id": subject.station_id if subject.key.startswith("station:") else None,
            "user_id": subject.key[5:] if subject.key.startswith("user:") else None}


def ranking(session: Session, actor: Actor, *, month: str, level: str, by: str,
            station_id: str | None = None) -> list[tuple[int, Subject, Scorecard]]:
    """People (``level="people"``) or stations (``"stations"``) ranked by a figure (office
    staff only: FORBIDDEN for others; another station's NOT_FOUND)."""
    if actor.role not in OFFICE_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    scope = station_scope(actor)
    if scope is not None and station_id not in (None, scope):
        raise _refuse()
    station_id = scope or station_id
    facts = load_facts(session, first_month=month, last_month=month,
                       station_id=station_id).get(month, [])
    steps = load_steps(session, first_month=month, last_month=month,
                       station_id=station_id).get(month, [])
    if level == "stations":
        q = select(Station).order_by(col(Station.code))
        if station_id is not None:
            q = q.where(col(Station.id) == station_id)
        subjects = [Subject(f"station:{s.id}", s.name, None, s.id)
                    for s in session.exec(q)]
    else:
        subjects = [Subject(f"user:{u.id}", u.display_name, u.role, u.station_id)
                    for u in _people(session, station_id)]
    cards = {s.key: scorecard(s.key, month, _for_subject(facts, s), _steps_for(steps, s))
             for s in subjects}
    by_key = {s.key: s for s in subjects}
    return [(rank, by_key[c.subject], c) for rank, c in ranked(list(cards.values()), by)]


def trend(session: Session, actor: Actor, *, subject_key: str, month: str,
          months: int) -> tuple[Subject, list[Scorecard]]:
    subject = check_subject(session, actor, subject_key)
    span = previous_months(month, months)
    where = _narrowing(subject)
    facts = load_facts(session, first_month=span[0], last_month=span[-1], **where)
    steps = load_steps(session, first_month=span[0], last_month=span[-1], **where)
    return subject, [scorecard(subject.key, m, _for_subject(facts.get(m, []), subject),
                               _steps_for(steps.get(m, []), subject)) for m in span]


def drill_down(session: Session, actor: Actor, *, subject_key: str, month: str,
               figure: str) -> list[WorkOrder]:
    """The jobs behind a figure: all jobs (``handled``) or the ones on its bad side (late,
    reopened, nonconforming, low-rated, returned)."""
    _, sc = card(session, actor, subject_key=subject_key, month=month)
    if figure not in sc.figures:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary=f"figure: {figure}")
    ids = list(sc.figures[figure].job_ids)
    if not ids:
        return []
    return list(session.exec(select(WorkOrder).where(col(WorkOrder.id).in_(ids))
                             .order_by(col(WorkOrder.reported_at))))
