"""Daily usage from readings, alert levels and crossings, supply decisions, ledger rules,
customer notices."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.billing.alerts import (
    AlertLevel,
    Policy,
    SupplyAction,
    SupplyState,
    crossing,
    days_left,
    level,
    supply_action,
)
from shared.billing.ledger import (
    check_correction_amount,
    check_purchase_count,
    check_reason,
    check_receipt_no,
    check_recharge_amount,
)
from shared.billing.notices import NoticeKind, render
from shared.billing.usage import Point, counted, daily_usage
from shared.enums import ReadingSource
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ

FAST = settings(database=None, max_examples=200, deadline=None)
A, E, F, S = (ReadingSource.ACTUAL, ReadingSource.ESTIMATED, ReadingSource.SWAP_FINAL,
              ReadingSource.SWAP_START)


def at(day: int, hour: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, 5, tzinfo=LOCAL_TZ)


def d(day: int, month: int = 4) -> date:
    return date(2026, month, day)


# -- usage ---------------------------------------------------------------------------------
def test_usage_goes_to_the_day_of_the_later_reading() -> None:
    pts = [Point("m", at(1), 1000_00, A), Point("m", at(2), 1010_00, A),
           Point("m", at(4), 1031_50, A)]
    usage = daily_usage(pts)
    assert {k: v.usage_centi for k, v in usage.items()} == {d(2): 10_00, d(4): 21_50}
    assert not any(v.estimated for v in usage.values())


def test_an_actual_reading_replaces_the_estimate_of_its_day() -> None:
    pts = [Point("m", at(1), 1000_00, A), Point("m", at(2, 1), 1020_00, E),
           Point("m", at(2, 3), 1012_00, A), Point("m", at(3), 1030_00, E)]
    assert [p.value_centi for p in counted(pts)] == [1000_00, 1012_00, 1030_00]
    usage = daily_usage(pts)
    assert usage[d(2)].usage_centi == 12_00 and not usage[d(2)].estimated
    assert usage[d(3)].usage_centi == 18_00 and usage[d(3)].estimated


def test_a_swap_day_adds_both_meters_and_the_new_start_is_a_baseline() -> None:
    pts = [Point("old", at(1), 5000_00, A), Point("old", at(2, 10), 5007_00, F),
           Point("new", at(2, 10), 50, S), Point("new", at(3), 4_50, A),
           Point("old", at(2, 1), 5003_00, A)]
    usage = daily_usage(pts)
    assert usage[d(2)].usage_centi == 7_00  # 5000 -> 5003 -> 5007 on the old meter
    assert usage[d(3)].usage_centi == 4_00  # 0.50 -> 4.50 on the new one


@FAST
@given(st.lists(st.integers(min_value=0, max_value=50_00), min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=40, max_size=40))
def test_usage_telescopes_to_last_minus_first(steps: list[int], estimated: list[bool]) -> None:
    value, pts = 10_000_00, [Point("m", at(1, month=1), 10_000_00, A)]
    for i, step in enumerate(steps, start=1):
        value += step
        src = E if estimated[i - 1] and i != len(steps) else A
        pts.append(Point("m", at(1, month=1) + timedelta(days=i), value, src))
    assert sum(u.usage_centi for u in daily_usage(pts).values()) == value - 10_000_00


# -- alerts and supply ----------------------------------------------------------------------
def test_days_left_from_recent_costs() -> None:
    assert days_left(1000, [100, 300, 0]) == Decimal("5.0")  # zero days do not count
    assert days_left(1000, []) is None
    assert days_left(-5, [100]) == Decimal(0)
    assert days_left(999, [300]) == Decimal("3.3")  # rounded down


@pytest.mark.parametrize(("balance", "left", "want"), [
    (5000, None, AlertLevel.OK), (1999, None, AlertLevel.LOW), (2000, None, AlertLevel.OK),
    (5000, Decimal("2.9"), AlertLevel.LOW), (5000, Decimal(3), AlertLevel.OK),
    (0, None, AlertLevel.LOW), (-1, None, AlertLevel.ARREARS),
])
def test_levels(balance: int, left: Decimal | None, want: AlertLevel) -> None:
    assert level(balance, left, Policy()) == want


def test_a_notice_only_when_it_gets_worse() -> None:
    ok, low, arrears = AlertLevel.OK, AlertLevel.LOW, AlertLevel.ARREARS
    assert crossing(ok, low) == low and crossing(low, arrears) == arrears
    assert crossing(ok, arrears) == arrears
    assert crossing(low, low) is None and crossing(arrears, arrears) is None  # no daily nag
    assert crossing(arrears, low) is None and crossing(low, ok) is None  # re-arms quietly
    assert crossing("ok", low) == low


@pytest.mark.parametrize(("balance", "target", "care", "limit", "want"), [
    (0, SupplyState.ON, False, 0, SupplyAction.DISCONNECT),
    (1, SupplyState.ON, False, 0, SupplyAction.NONE),
    (-500, SupplyState.ON, False, 1000, SupplyAction.NONE),  # within the overdraft
    (-1000, SupplyState.ON, False, 1000, SupplyAction.DISCONNECT),
    (0, SupplyState.ON, True, 0, SupplyAction.CARE_TASK),  # never automatically
    (0, SupplyState.OFF, False, 0, SupplyAction.NONE),  # already going off
    (1, SupplyState.OFF, False, 0, SupplyAction.RECONNECT),
    (1, SupplyState.OFF, True, 0, SupplyAction.RECONNECT),  # reconnecting is always fine
    (-1, SupplyState.OFF, False, 1000, SupplyAction.NONE),  # only above zero again
])
def test_supply(balance: int, target: SupplyState, care: bool, limit: int,
                want: SupplyAction) -> None:
    pol = Policy(overdraft_limit_fen=limit)
    assert supply_action(balance, target=target, care=care, policy=pol) == want


def test_policy_ranges() -> None:
    with pytest.raises(ValueError):
        Policy(low_days=-1)
    with pytest.raises(ValueError):
        Policy(recent_days=0)


# -- ledger rules ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, 99, -100, 500_001, 10**12, 12.5, "100", True, None])
def test_recharge_amounts(bad: object) -> None:
    with pytest.raises(DomainError) as exc:
        check_recharge_amount(bad)
    assert exc.value.code == ErrorCode.BILLING_AMOUNT_INVALID
    assert exc.value.details["min"] == 1 and exc.value.details["max"] == 5000


def test_good_amounts_and_fields() -> None:
    assert check_recharge_amount(100) == 100 and check_recharge_amount(500_000) == 500_000
    assert check_correction_amount(-1) == -1
    assert check_reason("  card re-issued ") == "card re-issued"
    assert check_receipt_no(" RC-000123 ") == "RC-000123"
    assert check_purchase_count(0) == 0


@pytest.mark.parametrize(("fn", "bad", "code"), [
    (check_correction_amount, 0, ErrorCode.BILLING_CORRECTION_INVALID),
    (check_correction_amount, 1_000_001, ErrorCode.BILLING_CORRECTION_INVALID),
    (check_reason, "   ", ErrorCode.WO_REASON_REQUIRED),
    (check_receipt_no, "12345", ErrorCode.CASH_RECEIPT_INVALID),
    (check_receipt_no, "RC 0001", ErrorCode.CASH_RECEIPT_INVALID),
    (check_receipt_no, "RC-０００１２", ErrorCode.CASH_RECEIPT_INVALID),  # full-width
    (check_purchase_count, -1, ErrorCode.PURCHASE_COUNT_INVALID),
    (check_purchase_count, 65_536, ErrorCode.PURCHASE_COUNT_INVALID),
])
def test_bad_fields(fn: object, bad: object, code: ErrorCode) -> None:
    with pytest.raises(DomainError) as exc:
        fn(bad)  # type: ignore[operator]
    assert exc.value.code == code


# -- notices ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(NoticeKind))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_notice_renders_fully(kind: NoticeKind, lang: str) -> None:
    title, body = render(kind, lang, account_no="7700000001", balance=-1234, amount=5000,
                         receipt_no="OL202611270000001", days_left="2.5", code="WO26112700001",
                         crew="Crew1", resolution="fuse", reason="still dark",
                         areas="Area 1", start="12-02 09:00", end="12-02 17:00",
                         cancel_reason="the storm has passed")
    assert title and body and "{" not in title + body
    if not kind.value.startswith(("job_", "outage_")):  # these carry no money
        assert ("元" in body) == (lang == "zh")


def test_notice_amounts_are_yuan() -> None:
    _, body = render(NoticeKind.ARREARS, "en", account_no="77", balance=-1234)
    assert "12.34 yuan in arrears" in body
    _, body = render(NoticeKind.LOW_BALANCE, "zh", account_no="77", balance=1500,
                     days_left=None)
    assert "15.00 元" in body and "预计" not in body
