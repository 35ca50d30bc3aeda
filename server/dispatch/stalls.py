"""Stall rules on the server: load them, check every open job, mark the stalled ones and
tell the people who must act — the station manager (level 1), then the county dispatcher
(level 2) — once per job and level.

``run_stall_rules(db, now)`` is one tick: it reads the rules and the open jobs and decides
in memory with ``shared.workorders.stalls.decide`` (a pure function), then writes the
changed stall records and the notifications in one transaction. It is meant to run on
the server's scheduler every minute; running it twice for the same moment changes nothing
the second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from server.db import Database
from server.dispatch.models import StallRule, WorkOrderStall
from server.notifications.models import Notification
from server.uow import Scope, UnitOfWork
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.enums import OPEN_STATUSES, Role, WorkOrderKind, WorkOrderStatus
from shared.messages import label
from shared.timeutil import utcnow
from shared.workorders import stalls
from shared.workorders.stalls import Decision, JobFacts, Recorded, Rule, Trigger

_OPEN = sorted(s.value for s in OPEN_STATUSES)
KIND_LEVEL = {1: "wo_stalled", 2: "wo_stall_escalated"}


@dataclass
class StallReport:
    checked: int = 0
    stalled: int = 0
    newly_stalled: int = 0
    cleared: int = 0
    level1_sent: int = 0
    level2_sent: int = 0
    notified_users: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return (f"{self.checked} open jobs checked, {self.stalled} stalled "
                f"({self.newly_stalled} new, {self.cleared} cleared), notices: level 1 "
                f"{self.level1_sent}, level 2 {self.level2_sent}")


def load_rules(session: Session) -> list[Rule]:
    return [Rule(r.id, Trigger(r.trigger), r.kind, r.threshold, r.escalate_after_min,
                 r.active)
            for r in session.execute(select(StallRule)).scalars()]


def _facts(o: WorkOrder) -> JobFacts:
    return JobFacts(id=o.id, kind=WorkOrderKind(o.kind), status=WorkOrderStatus(o.status),
                    last_activity_at=o.last_activity_at, complete_by=o.complete_by,
                    dispatched_at=o.dispatched_at, arrive_by=o.arrive_by,
                    reopen_count=o.reopen_count)


def _recorded(row: WorkOrderStall | None) -> Recorded:
    if row is None:
        return Recorded()
    return Recorded(active=row.active, stalled_since=row.stalled_since,
                    reasons=tuple(r.get("trigger", "") for r in row.reasons),
                    level1_at=row.level1_at, level2_at=row.level2_at)


class Recipients:
    """Who is told at each level, per station (looked up once per tick)."""

    def __init__(self, session: Session) -> None:
        users = session.execute(select(User).where(
            User.active.is_(True),  # type: ignore[attr-defined]
            User.role.in_([Role.MANAGER.value, Role.DISPATCHER.value,  # type: ignore[attr-defined]
                           Role.ADMIN.value]))).scalars()
        self.users = list(users)

    def _pick(self, role: Role, station_id: str | None) -> list[User]:
        return [u for u in self.users if u.role == role and u.station_id == station_id]

    def level1(self, station_id: str) -> list[User]:
        """The station's managers (else its dispatchers, else the county's)."""
        return (self._pick(Role.MANAGER, station_id) or self._pick(Role.DISPATCHER, station_id)
                or self.level2())

    def level2(self) -> list[User]:
        """The county dispatchers (dispatchers without a station; else the administrators)."""
        return self._pick(Role.DISPATCHER, None) or [u for u in self.users
                                                      if u.role == Role.ADMIN]


def _notify(uow: UnitOfWork, *, order: WorkOrder, level: int, triggers: Iterable[str],
            to: list[User], now: datetime, report: StallReport) -> None:
    triggers = list(triggers)
    for user in to:
        key = f"stall:{order.id}:L{level}:{user.id}"
        if uow.session.execute(select(col(Notification.id)).where(
                col(Notification.dedupe_key) == key)).first():
            continue
        texts = {lang: stalls.render_notice(
            level=level, code=order.code, kind_label=label(order.kind, lang),
            address=order.address or "", triggers=triggers, lang=lang) for lang in ("zh", "en")}
        note = Notification(user_id=user.id, kind=KIND_LEVEL[level],
                            title_zh=texts["zh"][0], body_zh=texts["zh"][1],
                            title_en=texts["en"][0], body_en=texts["en"][1],
                            data={"work_order_id": order.id, "code": order.code,
                                  "level": level, "reasons": triggers},
                            dedupe_key=key, created_at=now)
        uow.changed(note, scope=Scope(None, None, user.id))
        report.notified_users.add(user.id)
        if level == 1:
            report.level1_sent += 1
        else:
            report.level2_sent += 1


def _apply(uow: UnitOfWork, *, order: WorkOrder, row: WorkOrderStall | None, d: Decision,
           now: datetime, recipients: Recipients, report: StallReport) -> None:
    if not d.active:
        if row is not None and row.active:
            row.active, row.cleared_at, row.updated_at = False, now, now
            row.version += 1
            uow.changed(row)
            report.cleared += 1
        return
    if row is None or not row.active:
        report.newly_stalled += 1
    if row is None:
        row = WorkOrderStall(id=order.id, station_id=order.station_id, active=True, version=0)
    row.active, row.stalled_since, row.cleared_at = True, d.stalled_since, None
    row.reasons = [r.as_dict() for r in d.reasons]
    triggers = [r.trigger.value for r in d.reasons]
    if d.notify_level1:
        row.level1_at = now
        _notify(uow, order=order, level=1, triggers=triggers,
                to=recipients.level1(order.station_id), now=now, report=report)
    if d.notify_level2:
        row.level2_at = now
        _notify(uow, order=order, level=2, triggers=triggers, to=recipients.level2(),
                now=now, report=report)
    row.updated_at = now
    row.version += 1
    uow.changed(row)


def run_stall_rules(db: Database, now: datetime | None = None) -> StallReport:
    """One tick of the stall rules (see the module docstring)."""
    now = now or utcnow()
    report = StallReport()
    with UnitOfWork(db) as uow:
        session = uow.session
        rules = load_rules(session)
        orders = list(session.execute(select(WorkOrder).where(
            WorkOrder.status.in_(_OPEN))).scalars())  # type: ignore[attr-defined]
        open_ids = {o.id for o in orders}
        rows = {r.id: r for r in session.execute(select(WorkOrderStall).where(
            col(WorkOrderStall.id).in_(select(col(WorkOrder.id)).where(
                WorkOrder.status.in_(_OPEN))))).scalars()}  # type: ignore[attr-defined]
        # stalls of jobs that left the open statuses (resolved, cancelled …) end now
        for row in session.execute(select(WorkOrderStall).where(
                WorkOrderStall.active.is_(True))).scalars():  # type: ignore[attr-defined]
            if row.id not in open_ids:
                row.active, row.cleared_at, row.updated_at = False, now, now
                row.version += 1
                uow.changed(row)
                report.cleared += 1
        recipients = Recipients(session)
        for order in orders:
            report.checked += 1
            row = rows.get(order.id)
            d = stalls.decide(_facts(order), rules, _recorded(row), now)
            if d.active:
                report.stalled += 1
            if d.changed:
                _apply(uow, order=order, row=row, d=d, now=now, recipients=recipients,
                       report=report)
        uow.commit()
    return report
