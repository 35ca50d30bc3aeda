"""Service-commitment deadlines and the overdue / stalled flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.enums import AreaClass, Priority, WorkOrderKind, WorkOrderStatus
from shared.timeutil import LOCAL_TZ
from shared.workorders.deadlines import Deadlines, Flags, assess, compute_deadlines

K = WorkOrderKind
S = WorkOrderStatus
AC = AreaClass
T0 = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# -- fault repair: product.md figures ----------------------------------------------------
@pytest.mark.parametrize(
    ("area", "arrive_min", "restore_h"),
    [(AC.TOWN, 45, 3), (AC.RURAL, 90, 4), (AC.REMOTE, 120, 6)],  # remote restore: our 6 h
)
def test_fault_repair_commitments(area: AreaClass, arrive_min: int, restore_h: int) -> None:
    d = compute_deadlines(kind=K.FAULT_REPAIR, area_class=area, reported_at=T0)
    assert d == Deadlines(arrive_by=T0 + timedelta(minutes=arrive_min),
                          complete_by=T0 + timedelta(hours=restore_h))


def test_town_fault_exact_clock_times() -> None:
    d = compute_deadlines(kind=K.FAULT_REPAIR, area_class=AC.TOWN, reported_at=T0)
    assert d.arrive_by == datetime(2024, 7, 1, 8, 45, tzinfo=UTC)
    assert d.complete_by == datetime(2024, 7, 1, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("priority", list(Priority))
def test_priority_does_not_stretch_fault_commitments(priority: Priority) -> None:
    d = compute_deadlines(kind=K.FAULT_REPAIR, area_class=AC.RURAL, reported_at=T0,
                          priority=priority)
    assert d.arrive_by == T0 + timedelta(minutes=90)
    assert d.complete_by == T0 + timedelta(hours=4)


def test_local_time_input_gives_the_same_instant_in_utc() -> None:
    local = T0.astimezone(LOCAL_TZ)
    assert local.hour == 16
    d = compute_deadlines(kind=K.FAULT_REPAIR, area_class=AC.TOWN, reported_at=local)
    assert d.arrive_by == T0 + timedelta(minutes=45)
    assert d.arrive_by is not None and d.arrive_by.utcoffset() == timedelta(0)


def test_naive_report_time_is_refused() -> None:
    with pytest.raises(ValueError):
        compute_deadlines(kind=K.FAULT_REPAIR, area_class=AC.TOWN,
                          reported_at=datetime(2024, 7, 1, 8, 0))
    with pytest.raises(ValueError):
        compute_deadlines(kind=K.METER_SWAP, area_class=AC.TOWN,
                          reported_at=datetime(2024, 7, 1, 8, 0))


# -- other kinds: calendar days by area class ------------------------------------------------
DAYS = {  # (town, rural, remote)
    K.METER_SWAP: (2, 3, 5),
    K.NEW_CONNECTION: (3, 5, 7),
    K.CAPACITY_CHANGE: (5, 7, 10),
    K.ACCOUNT_CHANGE: (2, 3, 3),
    K.USAGE_INSPECTION: (7, 10, 14),
    K.CARE_VISIT: (7, 10, 14),
}


def test_every_non_fault_kind_has_day_figures() -> None:
    assert set(DAYS) == set(K) - {K.FAULT_REPAIR}


@pytest.mark.parametrize("kind", list(DAYS))
@pytest.mark.parametrize("area", list(AC))
def test_non_fault_completion_in_days(kind: WorkOrderKind, area: AreaClass) -> None:
    days = DAYS[kind][[AC.TOWN, AC.RURAL, AC.REMOTE].index(area)]
    d = compute_deadlines(kind=kind, area_class=area, reported_at=T0)
    assert d.arrive_by is None
    assert d.complete_by == T0 + timedelta(days=days)


def test_remote_is_never_tighter_than_rural_nor_rural_than_town() -> None:
    for kind in K:
        by = {a: compute_deadlines(kind=kind, area_class=a, reported_at=T0) for a in AC}
        assert by[AC.TOWN].complete_by <= by[AC.RURAL].complete_by <= by[AC.REMOTE].complete_by


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (Priority.URGENT, timedelta(days=1)),  # halved
        (Priority.HIGH, timedelta(hours=36)),  # 0.75
        (Priority.NORMAL, timedelta(days=2)),
        (Priority.LOW, timedelta(days=3)),  # 1.5x
    ],
)
def test_priority_factors(priority: Priority, expected: timedelta) -> None:
    d = compute_deadlines(kind=K.METER_SWAP, area_class=AC.TOWN, reported_at=T0,
                          priority=priority)
    assert d.complete_by == T0 + expected


def test_urgent_capacity_change_remote() -> None:
    d = compute_deadlines(kind=K.CAPACITY_CHANGE, area_class=AC.REMOTE, reported_at=T0,
                          priority=Priority.URGENT)
    assert d.complete_by == T0 + timedelta(days=5)


# -- assess ------------------------------------------------------------------------------------
def flags(*, kind: WorkOrderKind = K.FAULT_REPAIR, status: WorkOrderStatus = S.DISPATCHED,
          now: datetime = T0 + 10 * MIN, arrive_by: datetime | None = T0 + 45 * MIN,
          complete_by: datetime | None = T0 + 3 * HOUR, arrived_at: datetime | None = None,
          resolved_at: datetime | None = None,
          last_activity_at: datetime | None = None) -> Flags:
    return assess(kind=kind, status=status, now=now, arrive_by=arrive_by,
                  complete_by=complete_by, arrived_at=arrived_at, resolved_at=resolved_at,
                  last_activity_at=last_activity_at if last_activity_at is not None else now)


def test_fresh_job_has_no_flags() -> None:
    assert flags() == Flags(overdue_arrival=False, overdue=False, stalled=False)


@pytest.mark.parametrize("status", [S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE])
def test_not_arrived_and_past_arrive_by_is_late(status: WorkOrderStatus) -> None:
    assert flags(status=status, now=T0 + 45 * MIN).overdue_arrival is False  # at the limit
    late = flags(status=status, now=T0 + 46 * MIN)
    assert late.overdue_arrival is True
    assert late.overdue is True  # a missed commitment makes the job overdue


def test_arrived_on_time_is_not_late_even_much_later() -> None:
    f = flags(status=S.ON_SITE, arrived_at=T0 + 45 * MIN, now=T0 + 2 * HOUR)
    assert f.overdue_arrival is False
    assert f.overdue is False


def test_arrived_after_arrive_by_stays_late() -> None:
    f = flags(status=S.ON_SITE, arrived_at=T0 + 46 * MIN, now=T0 + 50 * MIN)
    assert f.overdue_arrival is True
    assert f.overdue is True
    done = flags(status=S.CLOSED, arrived_at=T0 + 46 * MIN, resolved_at=T0 + 2 * HOUR,
                 now=T0 + DAY)
    assert done.overdue_arrival is True
    assert done.overdue is True


def test_on_site_without_recorded_arrival_is_not_flagged_late() -> None:
    assert flags(status=S.ON_SITE, arrived_at=None, now=T0 + 2 * HOUR).overdue_arrival is False


def test_no_arrival_commitment_no_arrival_flag() -> None:
    f = flags(kind=K.METER_SWAP, arrive_by=None, complete_by=T0 + 2 * DAY, now=T0 + DAY)
    assert f.overdue_arrival is False
    assert f.overdue is False


@pytest.mark.parametrize("status", [S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE])
def test_open_and_past_completion_is_overdue(status: WorkOrderStatus) -> None:
    kw = {"kind": K.METER_SWAP, "status": status, "arrive_by": None,
          "complete_by": T0 + 2 * DAY}
    assert flags(now=T0 + 2 * DAY, **kw).overdue is False  # type: ignore[arg-type]
    assert flags(now=T0 + 2 * DAY + MIN, **kw).overdue is True  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [S.RESOLVED, S.CONFIRMED, S.CLOSED])
def test_finished_job_overdue_only_if_resolved_late(status: WorkOrderStatus) -> None:
    kw = {"kind": K.METER_SWAP, "status": status, "arrive_by": None,
          "complete_by": T0 + 2 * DAY, "now": T0 + 30 * DAY}
    assert flags(resolved_at=T0 + 2 * DAY, **kw).overdue is False  # type: ignore[arg-type]
    assert flags(resolved_at=T0 + DAY, **kw).overdue is False  # type: ignore[arg-type]
    assert flags(resolved_at=T0 + 2 * DAY + MIN, **kw).overdue is True  # type: ignore[arg-type]


def test_fault_restored_late_but_arrived_in_time() -> None:
    f = flags(status=S.RESOLVED, arrived_at=T0 + 30 * MIN, resolved_at=T0 + 3 * HOUR + MIN,
              now=T0 + 4 * HOUR)
    assert f == Flags(overdue_arrival=False, overdue=True, stalled=False)


def test_cancelled_is_never_overdue_nor_stalled() -> None:
    f = flags(status=S.CANCELLED, now=T0 + 30 * DAY, arrived_at=T0 + 2 * HOUR,
              resolved_at=None, last_activity_at=T0)
    assert f == Flags(overdue_arrival=False, overdue=False, stalled=False)
    f2 = flags(status=S.CANCELLED, now=T0 + 30 * DAY, arrived_at=None, last_activity_at=T0)
    assert f2 == Flags(overdue_arrival=False, overdue=False, stalled=False)
    # even with a (stale) late resolution time on record
    f3 = flags(status=S.CANCELLED, now=T0 + 30 * DAY, arrived_at=T0 + 2 * HOUR,
               resolved_at=T0 + DAY, last_activity_at=T0)
    assert f3 == Flags(overdue_arrival=False, overdue=False, stalled=False)


@pytest.mark.parametrize(
    ("kind", "threshold"),
    [(K.FAULT_REPAIR, HOUR)] + [(k, DAY) for k in K if k != K.FAULT_REPAIR],
)
@pytest.mark.parametrize("status", [S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE])
def test_stalled_after_threshold_while_open(kind: WorkOrderKind, threshold: timedelta,
                                            status: WorkOrderStatus) -> None:
    last = T0
    kw = {"kind": kind, "status": status, "arrive_by": None, "complete_by": None,
          "last_activity_at": last}
    assert flags(now=last + threshold, **kw).stalled is False  # type: ignore[arg-type]
    assert flags(now=last + threshold + timedelta(seconds=1), **kw).stalled is True  # type: ignore[arg-type]


def test_non_fault_not_stalled_after_a_few_hours() -> None:
    f = flags(kind=K.NEW_CONNECTION, arrive_by=None, complete_by=None,
              last_activity_at=T0, now=T0 + 23 * HOUR)
    assert f.stalled is False


@pytest.mark.parametrize("status", [S.RESOLVED, S.CONFIRMED, S.CLOSED, S.CANCELLED])
def test_not_stalled_when_done(status: WorkOrderStatus) -> None:
    f = flags(status=status, last_activity_at=T0, now=T0 + 365 * DAY,
              arrived_at=T0 + MIN, resolved_at=T0 + HOUR)
    assert f.stalled is False


def test_assess_mixed_time_zones() -> None:
    """A local-time ``now`` compares by instant, not by wall clock."""
    now_local = (T0 + 46 * MIN).astimezone(LOCAL_TZ)
    assert flags(now=now_local).overdue_arrival is True
    now_local_ok = (T0 + 44 * MIN).astimezone(LOCAL_TZ)
    assert flags(now=now_local_ok).overdue_arrival is False


def test_assess_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        flags(now=datetime(2024, 7, 1, 9, 0))
    with pytest.raises(ValueError):
        flags(last_activity_at=datetime(2024, 7, 1, 8, 0))
