"""Recording an inspection finding: the service the online endpoint calls and the phone's
sync op (``inspection.finding@1``) will call.

The finding is checked by ``shared.monitoring.findings.validate_finding`` (the phone runs
the same check offline); who may record it and when is the work-order state machine's
``resolve`` rule (the job's assignee, on site): recording the finding resolves the job
through ``server.work_orders.service.act``, with the finding's photos added to the job
first. Then, in the same transaction:

* tampering opens a follow-up job for the office (theft handling: back-billing, penalty);
* a meter fault opens a meter-swap job for the office to dispatch;
* a wiring or mapping error with the area the customer is really on moves the account and
  its installed meter to that area, audited, and marks the days the detector looks back on
  for recomputation (the next analytics run counts the customer in its real area, in the
  past days too, so both areas' losses come right);
* the anomaly behind the job is resolved with the outcome (and not raised again for the
  policy's quiet days).

The finding's id is made on the device: sending the same finding again is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from server.customers.models import Account
from server.meters.models import Meter
from server.monitoring.days import mark_dirty
from server.monitoring.loop import close, system_actor
from server.monitoring.models import Anomaly, InspectionFinding, MonitoringDay
from server.monitoring.policy import load_policy
from server.stations.models import TransformerArea
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.enums import MeterStatus, Priority, ReportChannel, WorkOrderKind
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import kwh_to_centi
from shared.monitoring.findings import (
    Finding,
    FindingOutcome,
    decide_finding,
    resolve_fields,
    validate_finding,
)
from shared.timeutil import utcnow
from shared.workorders.state_machine import Action, Actor


@dataclass(frozen=True)
class FindingResult:
    finding: InspectionFinding
    order: WorkOrder
    anomaly: Anomaly | None
    follow_up: WorkOrder | None
    duplicate: bool


def _same(row: InspectionFinding, order_id: str, f: Finding) -> bool:
    return (row.work_order_id == order_id and row.outcome == f.outcome.value
            and row.note == f.note and list(row.photos) == list(f.photos)
            and row.correct_area_id == f.correct_area_id
            and row.register_centi == (kwh_to_centi(f.register_kwh)
                                       if f.register_kwh is not None else None))


def record_finding(uow: UnitOfWork, *, actor: Actor, order_id: str, finding_id: str,
                   data: dict[str, Any], at: datetime | None = None) -> FindingResult:
    session = uow.session
    order = work_orders.get_visible(session, actor=actor, order_id=order_id, for_update=True)
    finding = validate_finding(data)
    seen = session.get(InspectionFinding, finding_id)
    if seen is not None:
        if seen.recorded_by != actor.user_id or not _same(seen, order.id, finding):
            raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
        anomaly = session.get(Anomaly, seen.anomaly_id) if seen.anomaly_id else None
        follow = (session.get(WorkOrder, seen.follow_up_work_order_id)
                  if seen.follow_up_work_order_id else None)
        return FindingResult(seen, order, anomaly, follow, True)
    if order.kind != WorkOrderKind.USAGE_INSPECTION:
        raise DomainError(ErrorCode.FINDING_WRONG_KIND)
    if session.exec(select(InspectionFinding.id).where(
            InspectionFinding.work_order_id == order.id)).first() is not None:
        raise DomainError(ErrorCode.FINDING_ALREADY_RECORDED)
    at = at or utcnow()
    # the same decision the phone made offline: the assignee, on site
    decide_finding(work_orders.job_state(session, order), actor, data, at)
    account = session.get(Account, order.account_id) if order.account_id else None
    previous_area = account.area_id if account else None
    if finding.correct_area_id is not None:
        _fix_area(uow, order, account, finding.correct_area_id)
    for sha in finding.photos:
        work_orders.act(uow, actor=actor, order_id=order.id, action=Action.ADD_PHOTO,
                        data={"sha256": sha, "caption": "inspection finding"}, at=at)
    work_orders.act(uow, actor=actor, order_id=order.id, action=Action.RESOLVE,
                    data={**resolve_fields(finding), "event_id": finding_id}, at=at)
    follow = _follow_up(uow, order, account, finding)
    anomaly = session.exec(select(Anomaly).where(Anomaly.work_order_id == order.id)).first()
    row = InspectionFinding(
        id=finding_id, work_order_id=order.id, anomaly_id=anomaly.id if anomaly else None,
        account_id=order.account_id, outcome=finding.outcome.value,
        register_centi=(kwh_to_centi(finding.register_kwh)
                        if finding.register_kwh is not None else None),
        measured_load_w=(int(finding.measured_load_kw * 1000)
                         if finding.measured_load_kw is not None else None),
        photos=list(finding.photos), note=finding.note, previous_area_id=previous_area,
        correct_area_id=finding.correct_area_id,
        follow_up_work_order_id=follow.id if follow else None, recorded_by=actor.user_id,
        recorded_at=at)
    uow.changed(row, scope=work_orders.scope_for_order(order))  # to the crew's phone
    if anomaly is not None:
        close(anomaly, status="resolved", now=utcnow())
        anomaly.finding_outcome = finding.outcome.value
        anomaly.follow_up_work_order_id = follow.id if follow else None
        session.add(anomaly)
    session.flush()
    uow.audit(action="inspection.finding", entity="work_order", entity_id=order.id,
              after={"finding_id": finding_id, **finding.to_json(),
                     "follow_up_work_order_id": row.follow_up_work_order_id})
    return FindingResult(row, order, anomaly, follow, False)


def _fix_area(uow: UnitOfWork, order: WorkOrder, account: Account | None,
              area_id: str) -> None:
    """Move the customer to the area they are really fed from (audited)."""
    session = uow.session
    if account is None:
        raise DomainError(ErrorCode.FINDING_AREA_INVALID, reason="the job names no customer")
    area = session.get(TransformerArea, area_id)
    if area is None:
        raise DomainError(ErrorCode.FINDING_AREA_INVALID, reason="no such area")
    if area.station_id != account.station_id:
        raise DomainError(ErrorCode.FINDING_AREA_INVALID,
                          reason="the area belongs to another station: the office moves it")
    if area.id == account.area_id:
        raise DomainError(ErrorCode.FINDING_AREA_INVALID,
                          reason="the customer is already on that area")
    before = account.area_id
    now = utcnow()
    account.area_id, account.updated_at, account.version = area.id, now, account.version + 1
    uow.changed(account)
    meters = session.exec(select(Meter).where(
        Meter.account_id == account.id, col(Meter.status) == MeterStatus.INSTALLED.value)).all()
    for meter in meters:
        meter.area_id, meter.updated_at, meter.version = area.id, now, meter.version + 1
        uow.changed(meter)
    # the days the detector looks back on were computed with the wrong mapping: the next
    # run computes them again with the customer in its real area (both areas' losses)
    days = _recent_days(session)
    mark_dirty(session, days, now)
    uow.audit(action="account.area_fix", entity="account", entity_id=account.id,
              before={"area_id": before}, after={"area_id": area.id,
                                                 "meters": [m.meter_no for m in meters],
                                                 "days_to_recompute": len(days)},
              reason=f"inspection finding on {order.code}: wiring or mapping error")


def _recent_days(session: Session) -> list[date]:
    """The computed days within the detector's look-back (recent + history days)."""
    policy = load_policy(session)
    newest = session.exec(select(func.max(col(MonitoringDay.day))).where(
        col(MonitoringDay.computed_at).is_not(None))).first()
    if newest is None:
        return []
    since = newest - timedelta(days=policy.recent_days + policy.history_days)
    return list(session.exec(select(col(MonitoringDay.day)).where(
        col(MonitoringDay.day) > since, col(MonitoringDay.computed_at).is_not(None))).all())


def _follow_up(uow: UnitOfWork, order: WorkOrder, account: Account | None,
               finding: Finding) -> WorkOrder | None:
    """Tampering: a theft-handling job for the office; a meter fault: a meter swap."""
    if account is None or finding.outcome not in (FindingOutcome.TAMPERING,
                                                  FindingOutcome.METER_FAULT):
        return None
    session = uow.session
    system = system_actor(session)
    if finding.outcome == FindingOutcome.TAMPERING:
        data = {"kind": WorkOrderKind.USAGE_INSPECTION.value, "priority": Priority.HIGH.value,
                "description": (
                    f"【窃电查处】{order.code} 现场发现窃电/私改计量：{finding.note}"
                    "。请营业室依规追补电费、收取违约使用电费并跟进处理。\n"
                    f"Theft handling: tampering found on {order.code}. The office bills the "
                    "energy taken and the penalty and follows the case up.")[:2000]}
    else:
        has_meter = session.exec(select(col(Meter.id)).where(
            Meter.account_id == account.id,
            col(Meter.status) == MeterStatus.INSTALLED.value)).first()
        if has_meter is None:
            return None
        data = {"kind": WorkOrderKind.METER_SWAP.value, "priority": Priority.NORMAL.value,
                "description": (f"【换表】{order.code} 检查发现电表故障：{finding.note}\n"
                                f"Meter swap: faulty meter found on {order.code}.")[:2000]}
    data.update(account_id=account.id, channel=ReportChannel.MONITORING)
    follow, _ = work_orders.report(uow, actor=system, data=data)
    return follow
