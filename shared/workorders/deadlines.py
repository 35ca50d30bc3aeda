"""Service-commitment deadlines, computed from the job's kind, area class and report time.

Fault repair (product.md): arrive on site within 45 min in town, 90 min rural, 2 h remote;
restore power within 3 h in town, 4 h rural. The design gives no restore time for remote
areas; we use 6 h there (a setting, ``RESTORE``), documented in the README.

Other kinds follow common county-company commitments, in calendar days from the report.
Urgent jobs have their completion deadline halved; low-priority ones get 1.5x.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.enums import AreaClass, Priority, WorkOrderKind, WorkOrderStatus
from shared.timeutil import ensure_aware

A = AreaClass
K = WorkOrderKind

ARRIVAL: dict[AreaClass, timedelta] = {
    A.TOWN: timedelta(minutes=45),
    A.RURAL: timedelta(minutes=90),
    A.REMOTE: timedelta(hours=2),
}
RESTORE: dict[AreaClass, timedelta] = {
    A.TOWN: timedelta(hours=3),
    A.RURAL: timedelta(hours=4),
    A.REMOTE: timedelta(hours=6),
}
#: Completion time for non-fault kinds, by area class (town, rural, remote).
COMPLETION_DAYS: dict[WorkOrderKind, tuple[int, int, int]] = {
    K.METER_SWAP: (2, 3, 5),
    K.NEW_CONNECTION: (3, 5, 7),
    K.CAPACITY_CHANGE: (5, 7, 10),
    K.ACCOUNT_CHANGE: (2, 3, 3),
    K.USAGE_INSPECTION: (7, 10, 14),
    K.CARE_VISIT: (7, 10, 14),
}
#: A job with no activity for this long while open is "stalled".
STALL_AFTER: dict[WorkOrderKind, timedelta] = {
    K.FAULT_REPAIR: timedelta(hours=1),
}
STALL_AFTER_DEFAULT = timedelta(days=1)

_CLASS_INDEX = {A.TOWN: 0, A.RURAL: 1, A.REMOTE: 2}
_PRIORITY_FACTOR = {Priority.URGENT: 0.5, Priority.HIGH: 0.75, Priority.NORMAL: 1.0,
                    Priority.LOW: 1.5}


@dataclass(frozen=True)
class Deadlines:
    arrive_by: datetime | None  # only fault repair has an arrival commitment
    complete_by: datetime


def compute_deadlines(
    *, kind: WorkOrderKind, area_class: AreaClass, reported_at: datetime,
    priority: Priority = Priority.NORMAL,
) -> Deadlines:
    start = ensure_aware(reported_at)
    if kind == K.FAULT_REPAIR:
        # Power-restoration commitments are absolute: priority does not stretch them.
        return Deadlines(start + ARRIVAL[area_class], start + RESTORE[area_class])
    days = COMPLETION_DAYS[kind][_CLASS_INDEX[area_class]]
    return Deadlines(None, start + timedelta(days=days) * _PRIORITY_FACTOR[priority])


@dataclass(frozen=True)
class Flags:
    overdue_arrival: bool
    overdue: bool
    stalled: bool


_ARRIVED = frozenset({WorkOrderStatus.ON_SITE, WorkOrderStatus.RESOLVED,
                      WorkOrderStatus.CONFIRMED, WorkOrderStatus.CLOSED})
#: Statuses before the assignee is on site: the arrival deadline still counts.
NOT_ARRIVED = frozenset({WorkOrderStatus.REPORTED, WorkOrderStatus.DISPATCHED,
                         WorkOrderStatus.ACCEPTED, WorkOrderStatus.EN_ROUTE})


def next_deadline(*, status: WorkOrderStatus, arrive_by: datetime | None,
                  complete_by: datetime | None) -> tuple[datetime | None, str]:
    """The deadline that counts now: ``("arrival")`` until on site (jobs with an arrival
    commitment), then ``("completion")``."""
    if arrive_by is not None and status in NOT_ARRIVED:
        return arrive_by, "arrival"
    return complete_by, "completion"
_DONE = frozenset({WorkOrderStatus.RESOLVED, WorkOrderStatus.CONFIRMED,
                   WorkOrderStatus.CLOSED, WorkOrderStatus.CANCELLED})


def assess(
    *, kind: WorkOrderKind, status: WorkOrderStatus, now: datetime,
    arrive_by: datetime | None, complete_by: datetime | None,
    arrived_at: datetime | None, resolved_at: datetime | None, last_activity_at: datetime,
) -> Flags:
    """Overdue (a commitment missed or about to be missed as of ``now``) and stalled flags.

    A finished job is overdue when it finished late; an open one when its deadline passed.
    """
    now = ensure_aware(now)
    late_arrival = False
    if arrive_by is not None and status != WorkOrderStatus.CANCELLED:
        late_arrival = (arrived_at > arrive_by) if arrived_at else (
            status not in _ARRIVED and now > arrive_by)
    overdue = False
    if complete_by is not None and status != WorkOrderStatus.CANCELLED:
        overdue = (resolved_at > complete_by) if resolved_at else (
            status not in _DONE and now > complete_by)
    stalled = status not in _DONE and (
        now - ensure_aware(last_activity_at) > STALL_AFTER.get(kind, STALL_AFTER_DEFAULT))
    return Flags(late_arrival, overdue or late_arrival, stalled)
