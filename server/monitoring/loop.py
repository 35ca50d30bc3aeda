"""Closing the loop: each anomaly kept once, and the ones a crew must check made into
usage-inspection jobs through the work-order service.

* An observation whose anomaly is open (same kind, area and meter: ``open_key``) only
  moves its ``last_day`` and refreshes its evidence: one job, not one a day.
* A new anomaly of a job kind raises a ``usage_inspection`` job (channel ``monitoring``,
  the evidence in its description; an overload is an area job with high priority) with
  ``server.work_orders.service.report`` and, when the policy says so, dispatches it to the
  station's crew with the fewest open jobs through ``act(DISPATCH)`` — the same rules and
  timeline as any job, so it syncs to that crew's phone.
* A collection anomaly or an area flag that is no longer seen is cleared; a collection
  job nobody accepted yet is cancelled (the readings arrived late). A job cancelled by
  the office clears its anomaly; one resolved without a finding resolves it.
* After a finding, the same anomaly is not raised again for ``quiet_days``.

Jobs are raised by the monitoring system's own user (``system.monitoring``: a county-wide
dispatcher that cannot sign in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from server.customers.models import Account
from server.monitoring.days import lock
from server.monitoring.describe import describe
from server.monitoring.detect import Observation
from server.monitoring.models import Anomaly, MonitoringPolicy
from server.stations.models import TransformerArea
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.enums import (
    OPEN_STATUSES,
    Priority,
    ReportChannel,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.timeutil import utcnow
from shared.workorders.state_machine import ASSIGNEE_ROLES, Action, Actor

SYSTEM_USERNAME = "system.monitoring"
#: Kinds a crew must check on site.
JOB_KINDS = frozenset({"collection_failing", "concentrator_silent", "meter_stopped",
                       "loss_suspect", "mapping_suspect", "overload"})
#: Kinds cleared as soon as a later day no longer shows them.
AUTO_CLEAR = frozenset({"collection_failing", "concentrator_silent", "loss_high",
                        "loss_negative", "loss_jump", "heavy_load"})
#: Of those, kinds whose job is cancelled when cleared before anyone accepted it.
CANCEL_WHEN_CLEARED = frozenset({"collection_failing", "concentrator_silent"})
S = WorkOrderStatus
_NOT_STARTED = frozenset({S.REPORTED.value, S.DISPATCHED.value})
_DONE = frozenset({S.RESOLVED.value, S.CONFIRMED.value, S.CLOSED.value})


@dataclass
class LoopReport:
    as_of: date
    observed: int = 0
    new: dict[str, int] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)  # work-order codes raised
    refreshed: int = 0
    cleared: int = 0
    cancelled: list[str] = field(default_factory=list)
    quiet: int = 0


def system_actor(session: Session) -> Actor:
    """The monitoring system's user (made on first use; inactive: it cannot sign in)."""
    user = session.exec(select(User).where(User.username == SYSTEM_USERNAME)).first()
    if user is None:
        user = User(username=SYSTEM_USERNAME, password_hash="!", role=Role.DISPATCHER,
                    display_name="监测系统 Monitoring", station_id=None, active=False)
        session.add(user)
        session.flush()
    return Actor(user.id, Role.DISPATCHER, None)


def apply(uow: UnitOfWork, *, observations: list[Observation], as_of: date,
          policy: MonitoringPolicy, now: datetime | None = None) -> LoopReport:
    session = uow.session
    now = now or utcnow()
    lock(session, exclusive=True)  # two runs at once: one waits, then sees the other's rows
    actor = system_actor(session)
    report = LoopReport(as_of, observed=len(observations))
    open_rows = {a.open_key: a for a in session.exec(select(Anomaly).where(
        col(Anomaly.open_key).is_not(None)).with_for_update()).all()}
    _follow_jobs(uow, open_rows, now, report)
    seen: set[str] = set()
    for obs in observations:
        if obs.key in seen:
            continue
        seen.add(obs.key)
        row = open_rows.get(obs.key)
        if row is not None:
            if as_of >= row.last_day:
                row.last_day, row.evidence, row.score = as_of, obs.evidence, obs.score
                row.updated_at, row.version = now, row.version + 1
                session.add(row)
            report.refreshed += 1
            continue
        if _quiet(session, obs, as_of, policy):
            report.quiet += 1
            continue
        row = _create(uow, obs, as_of, policy, actor, now, report)
        open_rows[obs.key] = row
    for key, row in sorted(open_rows.items()):
        if key in seen or row.kind not in AUTO_CLEAR or row.last_day >= as_of:
            continue
        _clear(uow, row, actor, now, report)
    session.flush()
    return report


def _create(uow: UnitOfWork, obs: Observation, as_of: date, policy: MonitoringPolicy,
            actor: Actor, now: datetime, report: LoopReport) -> Anomaly:
    session = uow.session
    row = Anomaly(kind=obs.kind, status="open", open_key=obs.key, station_id=obs.station_id,
                  area_id=obs.area_id, meter_id=obs.meter_id, account_id=obs.account_id,
                  first_day=as_of, last_day=as_of, score=obs.score, evidence=obs.evidence,
                  created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    report.new[obs.kind] = report.new.get(obs.kind, 0) + 1
    if obs.kind in JOB_KINDS:
        order = _raise_job(uow, row, policy, actor)
        row.work_order_id, row.status = order.id, "job"
        report.jobs.append(order.code)
    uow.audit(action="monitoring.anomaly", entity="monitoring_anomaly", entity_id=row.id,
              after={"kind": row.kind, "area_id": row.area_id, "meter_id": row.meter_id,
                     "work_order_id": row.work_order_id, "day": as_of.isoformat()})
    return row


def _raise_job(uow: UnitOfWork, row: Anomaly, policy: MonitoringPolicy,
               actor: Actor) -> WorkOrder:
    session = uow.session
    area = session.get(TransformerArea, row.area_id)
    assert area is not None
    account = session.get(Account, row.account_id) if row.account_id else None
    data: dict[str, Any] = {
        "kind": WorkOrderKind.USAGE_INSPECTION.value, "channel": ReportChannel.MONITORING,
        "description": describe(row.kind, row.evidence, area_name=area.name,
                                meter_no=row.evidence.get("meter_no")),
        "priority": (Priority.HIGH if row.kind in ("overload", "concentrator_silent")
                     else Priority.NORMAL).value}
    if account is not None and account.area_id == row.area_id:
        data["account_id"] = account.id
    else:
        data["area_id"] = row.area_id
    order, _ = work_orders.report(uow, actor=actor, data=data)
    if policy.auto_dispatch:
        assignee = pick_assignee(session, station_id=order.station_id,
                                 kind=WorkOrderKind.USAGE_INSPECTION)
        if assignee is not None:
            work_orders.act(uow, actor=actor, order_id=order.id, action=Action.DISPATCH,
                            data={"assignee_id": assignee})
    return order


def pick_assignee(session: Session, *, station_id: str, kind: WorkOrderKind) -> str | None:
    """The station's field user for ``kind`` with the fewest open jobs (crews first)."""
    roles = ASSIGNEE_ROLES[kind]
    open_jobs = (select(col(WorkOrder.assignee_id), func.count().label("n"))
                 .where(col(WorkOrder.status).in_([s.value for s in OPEN_STATUSES]))
                 .group_by(col(WorkOrder.assignee_id)).subquery())
    rows = session.exec(select(col(User.id), col(User.username), col(User.role), open_jobs.c.n)
                        .outerjoin(open_jobs, open_jobs.c.assignee_id == col(User.id))
                        .where(col(User.station_id) == station_id, col(User.active).is_(True),
                               col(User.role).in_([r.value for r in roles]))).all()
    if not rows:
        return None
    best = min(rows, key=lambda r: (r[2] != Role.CREW.value, r[3] or 0, r[1]))
    return str(best[0])


def _quiet(session: Session, obs: Observation, as_of: date, policy: MonitoringPolicy) -> bool:
    """Was the same anomaly (of the meter, wherever it is now; or of the area) resolved by
    a finding within the quiet period?"""
    since = utcnow() - timedelta(days=policy.quiet_days)
    q = select(col(Anomaly.id)).where(Anomaly.kind == obs.kind, Anomaly.status == "resolved",
                                 col(Anomaly.closed_at) >= since)
    q = q.where(and_(col(Anomaly.meter_id).is_(None), col(Anomaly.area_id) == obs.area_id)
                if obs.meter_id is None else Anomaly.meter_id == obs.meter_id)
    return session.exec(q).first() is not None


def close(row: Anomaly, *, status: str, now: datetime) -> None:
    row.status, row.open_key, row.closed_at = status, None, now
    row.updated_at, row.version = now, row.version + 1


def _clear(uow: UnitOfWork, row: Anomaly, actor: Actor, now: datetime,
           report: LoopReport) -> None:
    session = uow.session
    order = session.get(WorkOrder, row.work_order_id) if row.work_order_id else None
    if order is not None and order.status not in _NOT_STARTED:
        return  # a crew is on it: its finding closes the anomaly
    if order is not None and row.kind in CANCEL_WHEN_CLEARED:
        work_orders.act(uow, actor=actor, order_id=order.id, action=Action.CANCEL, data={
            "reason": "监测：电表已恢复上报，无需现场检查。"
                      " Monitoring: the meter reports again; no visit needed."})
        report.cancelled.append(order.code)
    close(row, status="cleared", now=now)
    session.add(row)
    report.cleared += 1


def _follow_jobs(uow: UnitOfWork, open_rows: dict[str | None, Anomaly], now: datetime,
                 report: LoopReport) -> None:
    """Anomalies whose job the office cancelled, or a crew resolved without a finding."""
    session = uow.session
    with_jobs = {a.work_order_id: a for a in open_rows.values() if a.work_order_id}
    if not with_jobs:
        return
    for order_id, status in session.exec(select(col(WorkOrder.id), col(WorkOrder.status)).where(
            col(WorkOrder.id).in_(sorted(with_jobs)))).all():
        row = with_jobs[order_id]
        if status == S.CANCELLED.value:
            close(row, status="cleared", now=now)
        elif status in _DONE:
            close(row, status="resolved", now=now)
        else:
            continue
        session.add(row)
        report.cleared += 1
    for key in [k for k, a in open_rows.items() if a.open_key is None]:
        del open_rows[key]
