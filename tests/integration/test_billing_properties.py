"""Property tests through the real services and database: for random sequences of
readings (late, out of order, estimated then actual), daily charge runs (repeated, out of
order), cash and online recharges (callbacks repeated and shuffled), balance corrections
and a meter swap, after every step each balance equals its ledger's sum, and at the end
each month's charges are exactly the tariff of that month's usage."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, col, select

from server.billing import recharges
from server.billing.ledger import check
from server.billing.models import BillingDay
from server.billing.readings import import_rows
from server.db import make_database
from server.meters import service as meter_service
from server.payments import service as payments
from server.payments.sandbox import SandboxProvider
from server.supervision import approvals
from server.uow import UnitOfWork
from shared.ids import new_id
from shared.supervision import ApprovalKind
from shared.timeutil import LOCAL_TZ, utcnow
from tests.conftest import actor_for, svc_act, svc_report, table_rows
from tests.factories import build_world
from tests.integration.billing_kit import (
    PAYMENT_KEY,
    charge,
    entries,
    month_start,
    open_all,
    reading,
    tier_cost_fen,
)

M1 = "MTR-M1-0001"
DAYS = 20

_deliver = st.tuples(st.just("deliver"), st.integers(0, DAYS - 1))
_charge = st.tuples(st.just("charge"), st.integers(0, DAYS - 1))
ops = st.one_of(  # readings and charge runs are the common events: weighted up
    _deliver, _deliver, _charge, _charge,
    st.tuples(st.just("estimate"), st.integers(0, DAYS - 1), st.integers(-8, 8)),
    st.tuples(st.just("cash"), st.integers(100, 30_000)),
    st.tuples(st.just("online"), st.integers(100, 30_000), st.integers(1, 3)),
    st.tuples(st.just("correct"), st.integers(-5_000, 5_000).filter(bool)),
    st.tuples(st.just("swap"), st.integers(-2_000, 9_000)),
)


class Run:
    def __init__(self, template: Path) -> None:
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(template, self.dir / "g.db")
        self.db = make_database(f"sqlite:///{self.dir / 'g.db'}")
        self.world = build_world(self.db)
        open_all(self.db)
        self.acc = self.world.accounts["acc1"]
        self.first = month_start(1) - timedelta(days=DAYS // 2)  # across a month's end
        self.swapped = False
        self.receipts = 0

    def close(self) -> None:
        self.db.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def actor(self, name: str) -> Any:
        return actor_for(self.db, name, self.world)

    def day(self, i: int) -> Any:
        return self.first + timedelta(days=i)

    def import_(self, rows: list[dict[str, Any]]) -> Any:
        with UnitOfWork(self.db) as uow:
            report = import_rows(uow, rows=rows, actor=None)
            uow.commit()
        return report

    def assert_balanced(self) -> None:
        """Balance == ledger; each month's charges == its rated month to date."""
        with Session(self.db.reader) as s:
            assert check(s) == []
            for first in (self.first.replace(day=1), month_start(1)):
                last = s.exec(select(BillingDay).where(
                    BillingDay.account_id == self.acc.id, BillingDay.day >= first,
                    BillingDay.day < (first + timedelta(days=32)).replace(day=1))
                    .order_by(col(BillingDay.day).desc())).first()
                charged = -sum(e.amount_fen for e in entries(self.db, self.acc.id,
                                                             "usage_charge")
                               if e.billing_month == f"{first:%Y-%m}")
                assert charged == (last.mtd_cost_fen if last else 0)


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(increments=st.lists(st.integers(0, 40), min_size=DAYS, max_size=DAYS),
       steps=st.lists(ops, min_size=1, max_size=18))
def test_balance_is_the_ledger_and_charges_follow_the_tariff(template_db, increments, steps):
    run = Run(template_db)
    try:
        _play(run, increments, steps)
    finally:
        run.close()


def _play(run: Run, increments: list[int], steps: list[tuple[Any, ...]]) -> None:
    base = Decimal("1000.00")
    values = [base + sum(increments[: i + 1]) for i in range(DAYS)]
    # the baseline before the month is known from the start
    run.import_([reading(M1, run.first - timedelta(days=1), str(base))])
    credits = 0
    for step in steps:
        kind = step[0]
        if kind == "deliver":
            report = run.import_([reading(M1, run.day(step[1]), str(values[step[1]]))])
            assert not report.rejected, report.rejected
        elif kind == "estimate":
            guess = values[step[1]] + step[2]
            run.import_([reading(M1, run.day(step[1]), str(guess), "estimated", hour=1)])
        elif kind == "charge":
            charge(run.db, run.day(step[1]))
        elif kind == "cash":
            run.receipts += 1
            agent = run.actor("agent1")
            with UnitOfWork(run.db, agent) as uow:
                recharges.record_cash(uow, actor=agent, receipt_id=new_id(),
                                      account_id=run.acc.id, amount_fen=step[1],
                                      receipt_no=f"RC-PROP-{run.receipts:06d}")
                uow.commit()
            credits += step[1]
        elif kind == "online":
            provider = SandboxProvider(run.db, PAYMENT_KEY, seed=step[2])
            order, _ = payments.create_order(
                run.db, actor=run.actor("customer1"), account_id=run.acc.id,
                amount_fen=step[1], idempotency_key=f"prop-{new_id()}", provider=provider)
            provider.decide(order.provider_txn_id, approve=True)

            def send(body: bytes, signature: str) -> bool:
                payments.handle_callback(run.db, key=PAYMENT_KEY, body=body,
                                         signature=signature)
                return True
            for k in range(step[2]):  # repeated, late, shuffled
                provider.deliver(send, now=utcnow() + timedelta(minutes=5 * k))
            credits += step[1]
        elif kind == "correct":
            manager, admin = run.actor("manager1"), run.actor("admin")  # four eyes
            with UnitOfWork(run.db, manager) as uow:
                req, _ = approvals.record(uow, actor=manager, kind=ApprovalKind.ADJUSTMENT,
                                          account_id=run.acc.id, amount_fen=step[1],
                                          reason="property test")
                uow.commit()
            with UnitOfWork(run.db, admin) as uow:
                approvals.decide(uow, actor=admin, request_id=req.id, approve=True)
                uow.commit()
            credits += step[1]
        elif kind == "swap" and not run.swapped:
            _swap(run, values[-1] + 3, step[1])
        run.assert_balanced()
    # every actual reading arrives in the end: late ones must re-rate what was charged.
    # A month charged on some day is left to that re-rating alone (as a closed month
    # is); a month never charged is charged for its last day.
    run.import_([reading(M1, run.day(i), str(values[i])) for i in range(DAYS)])
    split = DAYS // 2  # days 0..split-1 in the first month, the rest in the next
    months = ((run.first, 0, split - 1), (month_start(1), split, DAYS - 1))
    billed_to: dict[str, int] = {}
    for first, lo, hi in months:
        with Session(run.db.reader) as s:
            last = s.exec(select(BillingDay.day).where(
                BillingDay.account_id == run.acc.id, BillingDay.day >= run.day(lo),
                BillingDay.day <= run.day(hi)).order_by(col(BillingDay.day).desc())).first()
        if last is None:
            charge(run.db, run.day(hi))
            last = run.day(hi)
        billed_to[f"{first:%Y-%m}"] = (last - run.first).days
    today = utcnow().astimezone(LOCAL_TZ).date()
    if run.swapped:
        charge(run.db, today)
    run.assert_balanced()
    by_month: dict[str, int] = {}
    for e in entries(run.db, run.acc.id, "usage_charge"):
        by_month[e.billing_month] = by_month.get(e.billing_month, 0) - e.amount_fen
    for first, lo, _ in months:
        key = f"{first:%Y-%m}"
        start = values[lo - 1] if lo else base
        assert by_month.get(key, 0) == tier_cost_fen(values[billed_to[key]] - start,
                                                      first.month), key
    if run.swapped:  # 3 kWh on the old meter up to the swap, 7 on the new one after
        assert by_month.get(f"{today:%Y-%m}", 0) == tier_cost_fen(Decimal(10), today.month)
    all_entries = entries(run.db, run.acc.id)
    opening = 5000
    assert sum(e.amount_fen for e in all_entries) == opening + credits - sum(
        by_month.values())
    assert len({e.dedupe_key for e in all_entries}) == len(all_entries)


def _swap(run: Run, final: Decimal, remaining: int) -> None:
    db, world = run.db, run.world
    oid = svc_report(db, world, "dispatcher1", kind="meter_swap", account_id=run.acc.id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("tech1").id)
    svc_act(db, world, "tech1", oid, "accept")
    svc_act(db, world, "tech1", oid, "arrive")
    tech = run.actor("tech1")
    data = {"id": new_id(), "old_meter_no": M1, "old_final_kwh": final,
            "old_remaining_fen": remaining, "new_meter_no": "NEW-STOCK1",
            "new_start_kwh": Decimal("0.50"), "new_card_no": "6200123456789",
            "seal_numbers": [], "old_face_photo": "a" * 64, "new_face_photo": "b" * 64}
    for _ in range(2):  # sent twice: carried once
        with UnitOfWork(db, tech) as uow:
            meter_service.record_swap(uow, actor=tech, order_id=oid, data=data)
            uow.commit()
    report = run.import_([{"meter_no": "NEW-STOCK1", "source": "actual", "value_kwh": "7.50",
                           "read_at": (utcnow() + timedelta(minutes=1)).isoformat()}])
    assert not report.rejected, report.rejected
    carry = entries(db, run.acc.id, "swap_carry_over")
    assert [e.amount_fen for e in carry] == [0]  # a swap moves no money: one entry, once
    gaps = table_rows(db, "balance_discrepancy", account_id=run.acc.id)
    ledger = carry[0].balance_after_fen  # what the new meter got
    assert [g["difference_fen"] for g in gaps] == ([remaining - ledger]
                                                  if remaining != ledger else [])
    run.swapped = True
