"""The demo's money: every account's ledger over the reading window, in the ledger's rules.

An account's history is what the real system would have recorded had it run for the
whole window (``gridone check-ledger`` passes on a fresh demo):

* an **opening balance** entry at the first reading day ``D0`` (the balance already paid
  for usage through ``D0``: ``server.billing.ledger.open_account``'s rule);
* a **usage charge** for every later day up to yesterday, computed exactly as the daily
  charging run computes it (``server.billing.charging.rate_account``): the same pure
  functions (``shared.billing.usage.daily_usage``, ``shared.billing.tariff.rate_month``)
  over the same readings (the planned swaps' final and start readings included), with
  the tariffs in the database, and a ``billing_day`` row per rated day (the usage chart).
  Running the real charging afterwards posts nothing more (the demo test checks it);
* **recharges** when the balance ran low — cash taken by a station agent against a paper
  receipt (``cash_receipt``), or, for customers who sign in, a credited online payment
  order (``payment_order``) — each one advancing the meter's purchase count.

The balance each account ends with is the one the world drew for it (a few in arrears,
some low); the history is laid out backwards from it, so the opening balance is whatever
the charges and recharges make it. An account whose meter is swapped by a demo job is
split at the swap: what happened before is written in bulk, the swap itself goes through
``record_swap`` (which carries the ledger's balance to the new meter), and the rest is
appended after it (``append_after_swaps``).

The bulk rows get no change-log entries, like the daily readings: a phone's fresh
download reads them from their tables.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from server.billing import tariffs
from server.billing.models import LedgerEntry
from server.billing.tariffs import day_end
from server.customers.models import Account
from server.db import bump_counter
from server.meters.models import Meter
from server.uow import UnitOfWork
from shared.billing.ledger import RECHARGE_MAX_FEN, EntryKind
from shared.billing.tariff import Schedule, rate_month
from shared.billing.usage import Point, daily_usage
from shared.enums import CustomerType, ReadingSource, Role
from shared.timeutil import LOCAL_TZ

#: Recharges are whole multiples of this (50 yuan), as people pay.
_STEP = 5_000
#: Days at least between two recharges of an account.
_MIN_GAP = 3


@dataclass
class History:
    """One account's money rows. ``later`` (entries after its swap) get their ``seq`` and
    ``balance_after_fen`` when appended after the swap was recorded."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    later: list[dict[str, Any]] = field(default_factory=list)
    billing_days: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    balance_now: int = 0  # after ``entries`` (the balance at the swap, if there is one)
    purchases: int = 0  # recharges in ``entries``
    later_purchases: int = 0


@dataclass
class Event:
    at: datetime
    kind: EntryKind
    amount: int
    row: dict[str, Any]  # the ledger row without seq / balance


class Counters:
    """Serial numbers across the world (receipts, orders)."""

    def __init__(self) -> None:
        self.cash = 0
        self.online = 0


@functools.lru_cache(maxsize=4096)
def _day_end(d: date) -> datetime:
    return day_end(d)


def _local_noon(d: date) -> datetime:
    return datetime.combine(d, time(12), LOCAL_TZ)


def _points(world: Any, acct: Any, readings: list[dict[str, Any]]) -> list[Point]:
    points = [Point(r["meter_id"], r["read_at"], r["value_centi"], ReadingSource(r["source"]))
              for r in readings]
    swap = world.swaps.get(acct.idx)
    if swap is not None:  # what record_swap will write when the demo job is played
        points.append(Point(acct.meter["id"], swap.at, swap.old_final_centi,
                            ReadingSource.SWAP_FINAL))
        points.append(Point(swap.new_meter["id"], swap.at, swap.new_start_centi,
                            ReadingSource.SWAP_START))
    return points


def _charges(world: Any, acct: Any, readings: list[dict[str, Any]], schedule: Schedule,
             days: list[date]) -> tuple[list[Event], list[dict[str, Any]]]:
    """The daily usage charges (and billing-day rows) the charging run would post for
    ``days`` (the opening balance paid for the first reading day and before)."""
    usage = daily_usage(_points(world, acct, readings))
    opened = world.read_dates[0]
    swap = world.swaps.get(acct.idx)
    account_id = acct.row["id"]
    events: list[Event] = []
    billing_days: list[dict[str, Any]] = []
    months = sorted({(d.year, d.month) for d in days})
    for year, month in months:
        through = max(d for d in days if (d.year, d.month) == (year, month))
        first = date(year, month, 1)
        ratings = rate_month({d: u.usage_centi for d, u in usage.items()
                              if first <= d <= through}, schedule, through=through)
        base = ratings[opened.day - 1].mtd_cost_fen if opened >= first else 0
        estimated = False
        for r in ratings:
            est = bool(usage.get(r.day) and usage[r.day].estimated)
            estimated = estimated or est
            if r.day < opened:  # before the readings: nothing to show (the run would
                continue  # write zero rows for them if it ever re-rated that month)
            end = _day_end(r.day)
            bd_id = world.ids(end)
            billing_days.append({
                "id": bd_id, "account_id": account_id, "day": r.day,
                "usage_centi": r.usage_centi, "mtd_usage_centi": r.mtd_usage_centi,
                "mtd_cost_fen": r.mtd_cost_fen, "day_cost_fen": r.day_cost_fen,
                "tier": r.tier, "tariff_code": r.tariff_code, "estimated": est,
                "revision": 1, "rated_at": min(end, world.now)})
            if r.day <= opened or r.day_cost_fen == 0:
                continue
            at = min(end, world.now)
            meter_id = (swap.new_meter["id"] if swap is not None and at >= swap.at
                        else acct.meter["id"])
            target = r.mtd_cost_fen - base
            events.append(Event(at, EntryKind.USAGE_CHARGE, -r.day_cost_fen, {
                "meter_id": meter_id, "source_type": "billing_day", "source_id": bd_id,
                "dedupe_key": f"usage:{account_id}:{r.day.isoformat()}:1",
                "billing_month": f"{year:04d}-{month:02d}", "billing_day": r.day,
                "actor_id": None, "actor_role": None, "reason": "daily usage charge",
                "data": {"mtd_usage_centi": r.mtd_usage_centi, "mtd_cost_fen": r.mtd_cost_fen,
                         "target_fen": target, "already_charged_fen": target - r.day_cost_fen,
                         "tariff": r.tariff_code, "tier": r.tier, "rerate": False,
                         "estimated": estimated}}))
    return events, billing_days


Rows = list[dict[str, Any]]


def _recharges(world: Any, acct: Any, charges: list[Event], days: list[date],
               counters: Counters) -> tuple[list[Event], Rows, Rows, int]:
    """Recharges laid out backwards from the account's final balance: whenever the
    balance (going back in time) is a recharge above the account's usual low point, the
    customer recharged that day. Returns the events, cash receipts, orders and the
    opening balance."""
    rng, row = world.rng, acct.row
    business = row["customer_type"] == CustomerType.NON_RESIDENTIAL.value
    usual = rng.choice((100_000, 200_000, 300_000) if business else (5_000, 10_000, 20_000))
    low_range = (5_000, 50_000) if business else (300, 4_000)
    stn = acct.area.stn
    agents = world.staff(stn, Role.AGENT)
    by_day: dict[date, int] = {}
    for ev in charges:
        d = ev.at.astimezone(LOCAL_TZ).date()
        by_day[d] = by_day.get(d, 0) + ev.amount
    balance, gap = row["balance_fen"], _MIN_GAP
    low = rng.randint(*low_range)
    events: list[Event] = []
    receipts: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    for d in reversed(days):
        balance -= by_day.get(d, 0)  # back before the day's charge
        gap += 1
        if balance - low < usual or gap < _MIN_GAP:
            continue
        amount = min(RECHARGE_MAX_FEN, (balance - low) // _STEP * _STEP)
        at = _local_noon(d) + timedelta(minutes=rng.randint(-240, 420))
        at = min(at, world.now - timedelta(minutes=5))
        online = acct.owner is not None and rng.random() < 0.6
        events.append(_online(world, acct, amount, at, counters, orders) if online
                      else _cash(world, acct, amount, at, counters, receipts,
                                 rng.choice(agents)))
        balance -= amount
        gap, low = 0, rng.randint(*low_range)
    return events, receipts, orders, balance


def _cash(world: Any, acct: Any, amount: int, at: datetime, counters: Counters,
          receipts: list[dict[str, Any]], agent: str) -> Event:
    counters.cash += 1
    stn = acct.area.stn
    receipt_id = world.ids(at)
    receipt_no = f"{stn.spec.code}-{counters.cash:07d}"
    agent_row = world.users[agent]
    entry_id = world.ids(at)
    receipts.append({
        "id": receipt_id, "receipt_no": receipt_no, "account_id": acct.row["id"],
        "station_id": stn.id, "amount_fen": amount, "agent_id": agent_row["id"],
        "collected_at": at, "collected_day": at.astimezone(LOCAL_TZ).date(), "op_id": None,
        "ledger_entry_id": entry_id, "recorded_at": at})
    return Event(at, EntryKind.RECHARGE_CASH, amount, {
        "id": entry_id, "meter_id": None, "source_type": "cash_receipt",
        "source_id": receipt_id, "dedupe_key": f"cash:{receipt_id}", "billing_month": None,
        "billing_day": None, "actor_id": agent_row["id"], "actor_role": Role.AGENT.value,
        "reason": "cash recharge", "data": {"receipt_no": receipt_no, "op_id": None}})


def _online(world: Any, acct: Any, amount: int, at: datetime, counters: Counters,
            orders: list[dict[str, Any]]) -> Event:
    counters.online += 1
    order_id, entry_id = world.ids(at - timedelta(minutes=1)), world.ids(at)
    owner = world.users[acct.owner]
    txn = f"SBXDEMO{world.seed % 10**6:06d}{counters.online:07d}"
    orders.append({
        "id": order_id, "account_id": acct.row["id"], "user_id": owner["id"],
        "idempotency_key": f"demo-{counters.online:07d}", "amount_fen": amount,
        "status": "credited", "provider": "sandbox", "provider_txn_id": txn,
        "provider_seq": 1, "pay_url": None,
        "receipt_no": f"OL{at.astimezone(LOCAL_TZ):%Y%m%d}{counters.online:07d}",
        "ledger_entry_id": entry_id, "created_at": at - timedelta(minutes=1),
        "paid_at": at, "credited_at": at, "declined_at": None, "updated_at": at,
        "version": 3})
    return Event(at, EntryKind.RECHARGE_ONLINE, amount, {
        "id": entry_id, "meter_id": None, "source_type": "payment_order",
        "source_id": order_id, "dedupe_key": f"payment:{order_id}", "billing_month": None,
        "billing_day": None, "actor_id": owner["id"], "actor_role": Role.CUSTOMER.value,
        "reason": "online recharge", "data": {"provider": "sandbox", "txn_id": txn}})


def account_history(world: Any, acct: Any, readings: list[dict[str, Any]],
                    schedule: Schedule, counters: Counters) -> History:
    """The account's ledger, billing days, receipts and orders (see the module doc)."""
    today = world.now.astimezone(LOCAL_TZ).date()
    opened = world.read_dates[0]
    days = [d for d in world.read_dates if opened < d < today]  # charged through yesterday
    charges, billing_days = _charges(world, acct, readings, schedule, days)
    recharges, receipts, orders, opening = _recharges(world, acct, charges, days, counters)
    account_id = acct.row["id"]
    open_at = datetime.combine(opened, time(0, 5), LOCAL_TZ)
    events = [Event(open_at, EntryKind.OPENING_BALANCE, opening, {
        "meter_id": None, "source_type": "account", "source_id": account_id,
        "dedupe_key": f"opening:{account_id}", "billing_month": None, "billing_day": opened,
        "actor_id": None, "actor_role": None, "reason": "balance before the ledger",
        "data": {"as_of": opened.isoformat()}})]
    events += sorted(charges + recharges, key=lambda e: e.at)
    swap = world.swaps.get(acct.idx)
    out = History(billing_days=billing_days, receipts=receipts, orders=orders)
    balance = 0
    for i, ev in enumerate(events):
        row = {"id": ev.row.get("id") or world.ids(ev.at), "account_id": account_id,
               "kind": ev.kind.value, "amount_fen": ev.amount, "occurred_at": ev.at,
               "recorded_at": ev.at, "version": 1,
               **{k: v for k, v in ev.row.items() if k != "id"}}
        purchase = ev.kind in (EntryKind.RECHARGE_CASH, EntryKind.RECHARGE_ONLINE)
        if swap is not None and i > 0 and ev.at >= swap.at:
            out.later.append(row)
            out.later_purchases += purchase
            continue
        balance += ev.amount
        out.entries.append({**row, "seq": len(out.entries) + 1, "balance_after_fen": balance})
        out.purchases += purchase
    out.balance_now = balance
    return out


class Writer:
    """Collects the bulk rows of a batch of accounts and writes them with ``put``."""

    def __init__(self, world: Any, session: Session) -> None:
        self.world = world
        self.counters = Counters()
        self.schedules = {ct: tariffs.schedule(session, ct) for ct in CustomerType}
        self.rows: dict[str, list[dict[str, Any]]] = {
            "ledger_entry": [], "billing_day": [], "cash_receipt": [], "payment_order": []}
        self.at_swap: dict[str, int] = {}  # account id -> balance when its swap is recorded

    def add(self, acct: Any, readings: list[dict[str, Any]]) -> None:
        """Work out the account's history; set its balance (at its swap, if any) and its
        meter's purchase count to match."""
        h = account_history(self.world, acct, readings,
                            self.schedules[CustomerType(acct.row["customer_type"])],
                            self.counters)
        acct.meter["purchase_count"] += h.purchases
        swap = self.world.swaps.get(acct.idx)
        if swap is not None:  # the account's row says its balance at the swap until then
            self.at_swap[acct.row["id"]] = swap.ledger_fen = h.balance_now
            swap.later, swap.later_purchases = h.later, h.later_purchases
        self.rows["ledger_entry"] += h.entries
        self.rows["billing_day"] += h.billing_days
        self.rows["cash_receipt"] += h.receipts
        self.rows["payment_order"] += h.orders

    def flush(self, put: Any, models: dict[str, Any]) -> None:
        for table in ("payment_order", "cash_receipt", "billing_day", "ledger_entry"):
            put(models[table], self.rows[table])
            self.rows[table] = []

    def finish(self, session: Session) -> None:
        """Swapped accounts hold their balance at the swap until ``append_after_swaps``;
        later online receipts take numbers after the demo's."""
        for account_id, balance in self.at_swap.items():
            session.execute(update(Account).where(Account.id == account_id)  # type: ignore[arg-type]
                            .values(balance_fen=balance))
        if self.counters.online:
            bump_counter(session, "receipt_ol", self.counters.online)


def append_after_swaps(db: Any, world: Any) -> None:
    """After the demo jobs recorded their swaps: each swapped account's entries from the
    swap on, its final balance, and the new meter's purchases."""
    with UnitOfWork(db) as uow:
        session = uow.session
        for acct in world.accounts:
            swap = world.swaps.get(acct.idx)
            if swap is None or not swap.later:
                continue
            seq, balance = session.execute(
                select(col(LedgerEntry.seq), col(LedgerEntry.balance_after_fen))
                .where(LedgerEntry.account_id == acct.row["id"])
                .order_by(col(LedgerEntry.seq).desc()).limit(1)).one()
            rows = []
            for row in swap.later:
                seq += 1
                balance += row["amount_fen"]
                rows.append({**row, "seq": seq, "balance_after_fen": balance})
            session.execute(insert(LedgerEntry), rows)
            account = session.get(Account, acct.row["id"])
            assert account is not None
            account.balance_fen = balance
            account.version += 1
            account.updated_at = world.now
            uow.changed(account)
            if swap.later_purchases:
                session.execute(update(Meter).where(Meter.id == swap.new_meter["id"]).values(
                    purchase_count=Meter.purchase_count + swap.later_purchases))
        uow.commit()
