"""The monthly bill from a ledger: balances at both ends, charges, recharges, other
entries, the month's usage split by tier at the tariff's prices."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.billing.bill import build, months_with_entries
from shared.billing.tariff import default_versions, flatten
from shared.enums import CustomerType

SCHEDULE = flatten(default_versions(), CustomerType.RESIDENTIAL)
ACCOUNT = {"account_no": "7700000001", "name": "Mrs Li", "address": "1 River Road"}


def entry(seq: int, kind: str, amount: int, balance: int, day: str, **data: object
          ) -> dict[str, object]:
    return {"seq": seq, "kind": kind, "amount_fen": amount, "balance_after_fen": balance,
            "occurred_at": datetime.fromisoformat(f"{day}T04:00:00+00:00"), "data": data}


LEDGER = [
    entry(1, "opening_balance", 5000, 5000, "2026-10-20"),
    entry(2, "usage_charge", -1200, 3800, "2026-10-31", mtd_usage_centi=2_000_00),
    entry(3, "recharge_online", 10000, 13800, "2026-11-02", receipt_no="OL1"),
    entry(4, "usage_charge", -5880, 7920, "2026-11-15", mtd_usage_centi=100_00),
    entry(5, "recharge_cash", 5000, 12920, "2026-11-20", receipt_no="R-000123"),
    entry(6, "usage_charge", -8000, 4920, "2026-11-30", mtd_usage_centi=250_00),
    entry(7, "correction", -100, 4820, "2026-11-30"),
    entry(8, "usage_charge", -300, 4520, "2026-12-01", mtd_usage_centi=5_00),
]


def at(e: dict[str, object]) -> object:
    return e["occurred_at"]


def test_a_month_from_the_ledger() -> None:
    bill = build(account=ACCOUNT, entries=list(reversed(LEDGER)), month="2026-11",
                 schedule=SCHEDULE, at_of=at)
    assert (bill.opening_fen, bill.closing_fen) == (3800, 4820)
    assert bill.charges_fen == -13880 and bill.recharges_fen == 15000
    assert bill.other_fen == -100 and bill.balanced
    assert [x.receipt_no for x in bill.lines] == ["OL1", None, "R-000123", None, None]
    # November (autumn): tier 1 up to 180 kWh at 0.588, tier 2 at 0.638
    assert bill.usage_kwh == 250.0
    assert [(x.tier, x.kwh, x.price, x.cost_fen) for x in bill.tiers] == [
        (1, 180.0, "0.588", 10584), (2, 70.0, "0.638", 4466)]


def test_a_month_without_entries_carries_the_balance() -> None:
    bill = build(account=ACCOUNT, entries=LEDGER, month="2026-09", schedule=SCHEDULE,
                 at_of=at)
    assert (bill.opening_fen, bill.closing_fen, bill.lines, bill.tiers) == (0, 0, (), ())
    later = build(account=ACCOUNT, entries=LEDGER, month="2027-01", schedule=SCHEDULE,
                  at_of=at)
    assert later.opening_fen == later.closing_fen == 4520 and later.balanced
    assert months_with_entries(LEDGER, at) == ["2026-12", "2026-11", "2026-10"]


def test_months_follow_local_time() -> None:
    late = {**LEDGER[1], "occurred_at": datetime(2026, 10, 31, 17, 0, tzinfo=UTC)}  # 01:00 +8
    assert months_with_entries([late], at) == ["2026-11"]


def test_an_account_without_a_ledger_keeps_its_balance() -> None:
    bill = build(account={**ACCOUNT, "balance_fen": 5000}, entries=[], month="2026-11",
                 schedule=SCHEDULE, at_of=at)
    assert (bill.opening_fen, bill.closing_fen, bill.lines) == (5000, 5000, ())
    assert bill.balanced
