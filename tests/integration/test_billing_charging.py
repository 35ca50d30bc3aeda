"""Daily charging from readings: the tariff exactly, idempotent per account and day, late
and corrected readings re-rated as adjustments, never charged twice; the usage chart."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from server.billing.charging import charge_day
from server.billing.models import BillingDay
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from tests.integration.billing_kit import (
    assert_ledger_ok,
    balance,
    charge,
    entries,
    import_readings,
    month_start,
    open_all,
    reading,
    tier_cost_fen,
    today,
)

M1 = "MTR-M1-0001"


@pytest.fixture(autouse=True)
def _opened(db, world):
    open_all(db)


def usage_charges(db, account_id):
    return [e for e in entries(db, account_id) if e.kind == "usage_charge"]


def test_daily_charges_follow_the_tariff_and_run_once_per_day(db, world):
    acc = world.accounts["acc1"]
    first = month_start(2)
    # a baseline the day before, then 8 kWh, 12 kWh, ... a day
    values, rows = Decimal("1000.00"), [reading(M1, first - timedelta(days=1), "1000.00")]
    for i in range(10):
        values += Decimal(8 + 4 * i)
        rows.append(reading(M1, first + timedelta(days=i), str(values)))
    import_readings(db, rows)
    days = [first + timedelta(days=i) for i in range(10)]
    reports = charge(db, *days)
    assert all(r.charged == 1 and not r.errors for r in reports[:1])
    charges = usage_charges(db, acc.id)
    assert len(charges) == 10
    used = values - Decimal("1000.00")  # 260 kWh: into the second tier
    expected = tier_cost_fen(used, first.month)
    assert -sum(e.amount_fen for e in charges) == expected
    assert balance(db, acc.id) == 5000 - expected
    # each entry says what it is: the day, the month, the tariff, the month so far
    last = charges[-1]
    assert (last.billing_day, last.billing_month) == (days[-1], f"{first:%Y-%m}")
    assert last.data["mtd_cost_fen"] == expected and last.data["tariff"] == "HN-RES-TIERED"
    assert last.actor_id is None and last.reason == "daily usage charge"
    # running any day again posts nothing
    again = charge(db, *days)
    assert [r.charged for r in again] == [0] * 10
    assert len(usage_charges(db, acc.id)) == 10
    assert_ledger_ok(db)
    # the opening balance of the test account came first
    assert entries(db, acc.id)[0].kind == "opening_balance"


def test_a_late_reading_is_re_rated_as_an_adjustment(db, world):
    acc = world.accounts["acc1"]
    first = month_start(2)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, first, "1100.00"),
                         reading(M1, first + timedelta(days=1), "1160.00", "estimated"),
                         reading(M1, first + timedelta(days=2), "1250.00")])
    charge(db, first, first + timedelta(days=1), first + timedelta(days=2))
    assert -sum(e.amount_fen for e in usage_charges(db, acc.id)) == tier_cost_fen(
        Decimal(250), first.month)
    # the real reading of day 2 arrives (lower than the estimate), and a correction of day 3
    report = import_readings(db, [reading(M1, first + timedelta(days=1), "1150.00"),
                                  reading(M1, first + timedelta(days=2), "1240.00")])
    assert report.summary() == {"imported": 1, "corrected": 1, "duplicate": 0, "rejected": 0}
    assert report.rerated_accounts == 1
    charges = usage_charges(db, acc.id)
    assert -sum(e.amount_fen for e in charges) == tier_cost_fen(Decimal(240), first.month)
    adjustment = charges[-1]
    assert adjustment.data["rerate"] is True and adjustment.amount_fen > 0  # money back
    assert adjustment.reason.startswith("re-rated")
    # the usage chart shows the real figures now
    with Session(db.reader) as s:
        days = {r.day: r for r in s.exec(select(BillingDay).where(
            BillingDay.account_id == acc.id)).all()}
    assert days[first + timedelta(days=1)].usage_centi == 5000
    assert not days[first + timedelta(days=1)].estimated
    assert days[first + timedelta(days=2)].revision == 2
    # nothing more on another run, and the same file again changes nothing
    assert charge(db, first + timedelta(days=2))[0].charged == 0
    again = import_readings(db, [reading(M1, first + timedelta(days=2), "1240.00")])
    assert again.summary()["duplicate"] == 1 and again.rerated_accounts == 0
    assert_ledger_ok(db)


def test_a_reading_after_the_month_closed_adjusts_that_month(db, world):
    acc = world.accounts["acc1"]
    first = month_start(2)
    last_day = month_start(1) - timedelta(days=1)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, last_day - timedelta(days=1), "1190.00")])
    charge(db, last_day, month_start(1))
    assert -sum(e.amount_fen for e in usage_charges(db, acc.id)) == tier_cost_fen(
        Decimal(190), first.month)
    # the last day's reading comes in late, after the next month began
    import_readings(db, [reading(M1, last_day, "1230.00")])
    by_month: dict[str, int] = {}
    for e in usage_charges(db, acc.id):
        by_month[e.billing_month] = by_month.get(e.billing_month, 0) - e.amount_fen
    assert by_month[f"{first:%Y-%m}"] == tier_cost_fen(Decimal(230), first.month)
    assert by_month.get(f"{month_start(1):%Y-%m}", 0) == 0
    assert_ledger_ok(db)


def test_a_late_month_end_reading_re_rates_both_months(db, world):
    """The late reading of a month's last day also changes the next reading's usage,
    charged in the next month: both months are re-rated, nothing is charged twice."""
    acc = world.accounts["acc1"]
    first, next_first = month_start(2), month_start(1)
    last_day = next_first - timedelta(days=1)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, last_day - timedelta(days=1), "1190.00"),
                         reading(M1, next_first, "1250.00")])
    charge(db, last_day, next_first)
    import_readings(db, [reading(M1, last_day, "1230.00")])
    by_month: dict[str, int] = {}
    for e in usage_charges(db, acc.id):
        by_month[e.billing_month] = by_month.get(e.billing_month, 0) - e.amount_fen
    assert by_month == {f"{first:%Y-%m}": tier_cost_fen(Decimal(230), first.month),
                        f"{next_first:%Y-%m}": tier_cost_fen(Decimal(20), next_first.month)}
    assert_ledger_ok(db)


def test_a_day_without_a_run_is_caught_up_by_the_next(db, world):
    acc = world.accounts["acc1"]
    first = month_start(2)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, first, "1010.00"),
                         reading(M1, first + timedelta(days=1), "1030.00"),
                         reading(M1, first + timedelta(days=2), "1060.00")])
    charge_day(db, day=first + timedelta(days=2))  # days 1 and 2 never ran
    (one,) = usage_charges(db, acc.id)
    assert -one.amount_fen == tier_cost_fen(Decimal(60), first.month)
    with Session(db.reader) as s:
        rows = s.exec(select(BillingDay).where(BillingDay.account_id == acc.id)).all()
    assert sorted(r.usage_centi for r in rows) == [1000, 2000, 3000]


def test_a_swap_charges_both_meters_and_carries_the_balance_through_the_ledger(
        db, world, as_user):
    from tests.conftest import svc_act, svc_report

    acc = world.accounts["acc1"]
    now = utcnow()
    d0, d1 = (now - timedelta(days=2)).astimezone(LOCAL_TZ).date(), (
        now - timedelta(days=1)).astimezone(LOCAL_TZ).date()
    import_readings(db, [reading(M1, d0, "1000.00"), reading(M1, d1, "1020.00")])
    oid = svc_report(db, world, "dispatcher1", kind="meter_swap", account_id=acc.id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("tech1").id)
    svc_act(db, world, "tech1", oid, "accept")
    svc_act(db, world, "tech1", oid, "arrive")
    swap = {"id": new_id(), "old_meter_no": M1, "old_final_kwh": "1025.00",
            "old_remaining_fen": 4800, "new_meter_no": "NEW-STOCK1", "new_start_kwh": "0.50",
            "new_card_no": "6200123456789", "seal_numbers": ["SEAL-0001"],
            "old_face_photo": "a" * 64, "new_face_photo": "b" * 64}
    r = as_user("tech1").post(f"/api/v1/work-orders/{oid}/meter-swap", json=swap)
    assert r.status_code == 201, r.text
    carry = entries(db, acc.id, "swap_carry_over")
    # one entry of amount 0 on the new meter: moving between meters moves no money
    assert [(e.amount_fen, e.meter_id) for e in carry] == [(0, world.meters["stock1"].id)]
    assert carry[0].actor_id == world.user("tech1").id and carry[0].source_id == swap["id"]
    assert (carry[0].data["carried_fen"], carry[0].data["reported_fen"]) == (5000, 4800)
    assert balance(db, acc.id) == 5000
    again = as_user("tech1").post(f"/api/v1/work-orders/{oid}/meter-swap", json=swap)
    assert again.status_code == 200 and len(entries(db, acc.id, "swap_carry_over")) == 1
    # the new meter reads on; charging counts old-meter kWh up to the swap, new from 0.50
    import_readings(db, [{"meter_no": "NEW-STOCK1", "value_kwh": "10.50", "source": "actual",
                          "read_at": (utcnow() + timedelta(minutes=1)).isoformat()}])
    charge(db, d0, d1, today())
    charged = -sum(e.amount_fen for e in usage_charges(db, acc.id))
    # 20 kWh before the swap day, 5 + 10 on it: all first tier, exact in fen per month
    assert charged == tier_cost_fen(Decimal(35), 1)
    assert_ledger_ok(db)


def test_an_account_loaded_with_a_balance_is_not_charged_for_days_it_already_paid(db, world):
    """Accounts loaded with their balance (a seed, a migration) are opened as of the day
    before: the history's usage is in that balance already; from then on, charges start,
    and the history still counts for the tier the new days fall in."""
    from sqlmodel import Session

    from server.customers.models import Account
    from server.meters.models import Meter
    from shared.enums import MeterStatus

    area = world.areas["town"]
    now = utcnow()
    with Session(db.writer, expire_on_commit=False) as s:
        acc = Account(account_no="7799999999", name="Loaded", address="x", balance_fen=20_000,
                      station_id=area.station_id, area_id=area.id)
        s.add(acc)
        s.flush()
        s.add(Meter(meter_no="MTR-LOADED-1", model="DDZY", status=MeterStatus.INSTALLED,
                    account_id=acc.id, area_id=area.id, station_id=area.station_id,
                    installed_at=now - timedelta(days=400)))
        s.commit()
    today_ = today()
    yesterday = today_ - timedelta(days=1)
    before = yesterday - timedelta(days=1)
    import_readings(db, [reading("MTR-LOADED-1", before, "5000.00"),
                         reading("MTR-LOADED-1", yesterday, "5190.00"),
                         {"meter_no": "MTR-LOADED-1", "value_kwh": "5210.00",
                          "source": "actual", "read_at": now.isoformat()}])
    assert charge(db, before, yesterday)[1].charged == 0  # paid for by the loaded balance
    assert charge(db, today_)[0].charged == 1
    (opening, usage) = entries(db, acc.id)
    assert (opening.kind, opening.billing_day, opening.amount_fen) == (
        "opening_balance", yesterday, 20_000)
    if before.month == yesterday.month == today_.month:
        # 190 kWh before, 20 today: today's kWh are priced where they fall (tier 1 / 2)
        expected = tier_cost_fen(Decimal(210), today_.month) - tier_cost_fen(
            Decimal(190), today_.month)
        assert -usage.amount_fen == expected
    assert_ledger_ok(db)
