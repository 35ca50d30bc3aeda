"""The money screens' state over a real local store: balance cards with their alert state,
inbox, history with usage and tier, online recharge (fake server calls), the agent's
field cash (queued offline, idempotent on the receipt) and daily summary, purchase-count
correction."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from mobile.services.engine_backend import EngineBackend
from mobile.state.agent_cash import CashState, CountFixState, summarize
from mobile.state.billing import (
    HistoryState,
    InboxState,
    balance_card,
    balance_cards,
    daily_centi,
    schedule_for,
    usage_bars,
)
from mobile.state.recharge import RechargeState, parse_amount
from shared.enums import Role
from shared.errors import DomainError
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client.errors import PermanentError, TransientError
from sync.client.store import SignedIn
from sync.client.timefmt import to_iso
from tests.unit.mobile.test_support import ACCOUNT, CUSTOMER, METER, STATION, make_device, pull

AGENT = SignedIn(new_id(), Role.AGENT, username="agent1", display_name="Agent One",
                 station_id=STATION)


@pytest.fixture
def customer(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "cust", CUSTOMER)
    yield backend
    backend.close()


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "agent", AGENT)
    yield backend
    backend.close()


def ledger(seq: int, kind: str, amount: int, after: int, **kw: Any) -> tuple[str, dict[str, Any]]:
    return ("ledger_entry", {"id": new_id(), "account_id": ACCOUNT, "seq": seq, "kind": kind,
                             "amount_fen": amount, "balance_after_fen": after,
                             "occurred_at": to_iso(utcnow() - timedelta(days=10 - seq)),
                             "data": kw.pop("data", {}), **kw})


# -- balance card -----------------------------------------------------------------------
@pytest.mark.parametrize(("row", "alert", "notice"), [
    ({"balance_fen": 9000, "alert_level": "ok", "supply_state": "on"}, "ok", None),
    ({"balance_fen": 900, "alert_level": "low", "supply_state": "on"}, "low", "alert_low"),
    ({"balance_fen": -100, "alert_level": "arrears", "supply_state": "off"}, "arrears",
     "supply_off"),
    ({"balance_fen": -100, "alert_level": "arrears", "supply_state": "on",
      "care_flag": True}, "arrears", "supply_off_care"),
    ({"balance_fen": -5}, "arrears", "alert_arrears"),  # a row from before billing
])
def test_the_balance_card_shows_the_accounts_alert_and_supply(
        row: dict[str, Any], alert: str, notice: str | None) -> None:
    card = balance_card({"id": "a", "account_no": "77", **row},
                        [{"id": "m", "account_id": "a", "status": "installed",
                          "meter_no": "M1", "purchase_count": 7}])
    assert (card.alert, card.notice_key, card.purchase_count) == (alert, notice, 7)


def test_cards_come_from_the_synced_rows(customer: EngineBackend) -> None:
    (card,) = balance_cards(customer).values()
    assert (card.balance, card.meter_no, card.care) == ("¥12.50", "MTR-0001", True)


# -- inbox and history ------------------------------------------------------------------
def test_the_inbox_is_newest_first_in_the_users_language(customer: EngineBackend) -> None:
    pull(customer, [("notification", {
        "id": new_id(), "account_id": ACCOUNT, "kind": kind, "title_zh": f"{kind}中",
        "body_zh": "正文", "title_en": f"{kind} en", "body_en": "body",
        "created_at": to_iso(utcnow() - timedelta(hours=h)), "read_at": read})
        for kind, h, read in (("low_balance", 5, None), ("recharged", 1, to_iso(utcnow())))])
    inbox = InboxState(customer, "en")
    inbox.reload()
    assert [m.title for m in inbox.messages] == ["recharged en", "low_balance en"]
    assert inbox.unread == 1
    inbox.lang = "zh"
    inbox.reload()
    assert inbox.messages[0].title == "recharged中"


def test_history_lists_ledger_entries_and_usage_with_the_tier(customer: EngineBackend
                                                              ) -> None:
    pull(customer, [ledger(1, "opening_balance", 5000, 5000),
                    ledger(2, "usage_charge", -350, 4650),
                    ledger(3, "recharge_cash", 10000, 14650, data={"receipt_no": "R-000123"})])
    h = HistoryState(customer, ACCOUNT)
    h.reload()
    assert [(x.kind, x.amount, x.balance_after) for x in h.lines] == [
        ("recharge_cash", "+¥100.00", "¥146.50"), ("usage_charge", "-¥3.50", "¥46.50"),
        ("opening_balance", "+¥50.00", "¥50.00")]
    assert h.lines[0].receipt_no == "R-000123"
    h.show("month")
    assert h.bars == h.months
    with pytest.raises(ValueError):
        h.show("year")


def test_usage_by_day_and_month_follows_the_seasonal_tiers() -> None:
    # November (spring/autumn months: tiers up to 180 and 350 kWh): 10 kWh a day
    readings = [{"read_date": (date(2026, 10, 31) + timedelta(days=i)).isoformat(),
                 "value_centi": 1000 * i, "source": "actual"} for i in range(31)]
    usage = daily_centi(readings)
    assert len(usage) == 30 and set(usage.values()) == {1000}
    days, months = usage_bars(usage, schedule_for({"customer_type": "residential"}))
    assert [d.tier for d in days[:18]] == [1] * 18  # 180 kWh by the 18th
    assert days[18].tier == 2 and days[-1].tier == 2  # 300 kWh in all
    assert [(m.label, m.kwh, m.tier) for m in months] == [("2026-11", 300.0, 2)]


# -- online recharge --------------------------------------------------------------------
@pytest.mark.parametrize("text", ["0", "-5", "0.001", "abc", "5000.01", "1e9", "", "NaN"])
def test_amounts_out_of_range_or_not_money_are_refused(text: str) -> None:
    with pytest.raises(DomainError):
        parse_amount(text)
    r = RechargeState(None, ACCOUNT, amount_text=text)  # type: ignore[arg-type]
    asyncio.run(r.submit())
    assert (r.phase, r.error, r.order) == ("edit", "amount_invalid", None)


def test_amounts_become_integer_fen() -> None:
    assert parse_amount("100") == 10000
    assert parse_amount(" ¥1,234.5 ") == 123450
    assert parse_amount("5000") == 500000


class FakePayments:
    def __init__(self) -> None:
        self.keys: list[str] = []
        self.offline = False
        self.status = "pending"

    def create_payment_order(self, *, account_id: str, amount_fen: int,
                             idempotency_key: str) -> dict[str, Any]:
        if self.offline:
            raise TransientError("down", code="SYNC_OFFLINE")
        self.keys.append(idempotency_key)
        return {"id": "o1", "status": "pending", "amount_fen": amount_fen,
                "pay_url": "/sandbox/pay/T1"}

    def payment_order(self, order_id: str) -> dict[str, Any]:
        if self.offline:
            raise TransientError("down", code="SYNC_OFFLINE")
        return {"id": order_id, "status": self.status, "amount_fen": 10000}

    def payment_receipt(self, order_id: str) -> dict[str, Any]:
        return {"receipt_no": "PR1", "amount_fen": 10000, "balance_after_fen": 15000}


def test_a_recharge_goes_pending_paid_credited_then_shows_the_receipt() -> None:
    server = FakePayments()
    r = RechargeState(server, ACCOUNT)  # type: ignore[arg-type]
    r.set_amount("100")
    asyncio.run(r.submit())
    assert r.phase == "pending"
    assert r.pay_url("http://api:8000/") == "http://api:8000/sandbox/pay/T1"
    asyncio.run(r.submit())  # pressed again: the same key, so the same order
    assert len(set(server.keys)) == 1
    server.status = "paid"
    asyncio.run(r.poll())
    assert r.phase == "paid" and r.receipt is None
    server.status = "credited"
    asyncio.run(r.poll())
    assert r.phase == "credited" and r.receipt is not None
    assert r.receipt["balance_after_fen"] == 15000
    r.again()
    assert (r.phase, r.order, r.amount_text) == ("edit", None, "")


def test_online_payment_says_it_needs_a_connection() -> None:
    server = FakePayments()
    server.offline = True
    r = RechargeState(server, ACCOUNT, amount_text="50")  # type: ignore[arg-type]
    asyncio.run(r.submit())
    assert (r.phase, r.error, r.order) == ("offline", "needs_connection", None)
    server.offline = False
    asyncio.run(r.submit())
    assert r.phase == "pending" and r.error == ""


def test_a_declined_payment_and_a_server_refusal_are_shown() -> None:
    server = FakePayments()
    r = RechargeState(server, ACCOUNT, amount_text="50")  # type: ignore[arg-type]
    asyncio.run(r.submit())
    server.status = "declined"
    asyncio.run(r.poll())
    assert r.phase == "declined"

    def refuse(**_: Any) -> Any:
        raise PermanentError("Account not found", code="ACCOUNT_NOT_FOUND", status=404)

    server.create_payment_order = refuse  # type: ignore[method-assign]
    r2 = RechargeState(server, ACCOUNT, amount_text="50")  # type: ignore[arg-type]
    asyncio.run(r2.submit())
    assert (r2.phase, r2.error) == ("edit", "Account not found")


def test_the_real_backend_without_a_server_is_offline(tmp_path: Path) -> None:
    backend = EngineBackend(tmp_path / "none", lang="en")
    try:
        r = RechargeState(backend, ACCOUNT, amount_text="50")
        asyncio.run(r.submit())
        assert r.error == "needs_connection"
    finally:
        backend.close()


# -- agent: field cash ------------------------------------------------------------------
def test_cash_is_queued_offline_once_per_receipt(agent: EngineBackend) -> None:
    cash = CashState(agent, "en")
    cash.reload()
    cash.account_text = "7700000000"
    # before taking cash: who it is, from the phone's data (offline)
    assert cash.customer_line() == "Mrs Li · 1 River Road · balance ¥12.50"
    cash.amount_text, cash.receipt_text = "100", "R-000777"
    assert cash.submit()
    assert (cash.account_text, cash.amount_text, cash.receipt_text) == ("", "", "")
    receipt = cash.receipt  # the receipt screen to show or share
    assert receipt is not None and not receipt.already
    assert (receipt.receipt_no, receipt.amount_fen, receipt.balance_after_fen,
            receipt.agent) == ("R-000777", 10000, 11250, "Agent One")
    assert ("balance_after_est", "¥112.50") in receipt.lines()
    cash.close_receipt()
    assert cash.receipt is None
    (line,) = cash.lines
    assert (line.amount_fen, line.receipt_no, line.state) == (10000, "R-000777", "pending")
    assert agent.status().waiting == 1
    ops = agent.status().ops
    assert ops[0].action and agent.actions.read.cash_recharges()[0].account_id == ACCOUNT
    # the same paper receipt again (a double tap): nothing new, and it says so
    cash.account_text, cash.amount_text, cash.receipt_text = "7700000000", "100", "R-000777"
    assert not cash.submit()
    assert cash.receipt is not None and cash.receipt.already
    assert len(cash.lines) == 1 and agent.status().waiting == 1
    cash.close_receipt()
    # the same receipt for another amount: refused like the server would
    cash.account_text, cash.amount_text, cash.receipt_text = "7700000000", "200", "R-000777"
    assert not cash.submit()
    assert "R-000777" in cash.errors["form"] or cash.errors["form"]
    summary = cash.summary
    assert (summary.count, summary.total, summary.pending) == (1, "¥100.00", 1)


@pytest.mark.parametrize(("account", "amount", "receipt", "field"), [
    ("9999", "100", "R-000001", "account"),
    ("7700000000", "0", "R-000001", "amount"),
    ("7700000000", "5000.01", "R-000001", "amount"),
    ("7700000000", "12.345", "R-000001", "amount"),
    ("7700000000", "100", "R1", "receipt"),
    ("7700000000", "100", "R 0001 !", "receipt"),
])
def test_bad_cash_input_is_refused_and_nothing_is_queued(
        agent: EngineBackend, account: str, amount: str, receipt: str, field: str) -> None:
    cash = CashState(agent, "en")
    cash.reload()
    cash.account_text, cash.amount_text, cash.receipt_text = account, amount, receipt
    assert not cash.submit()
    assert field in cash.errors
    assert agent.status().waiting == 0


def test_only_agents_and_managers_take_cash(customer: EngineBackend) -> None:
    with pytest.raises(DomainError) as err:
        customer.cash_recharge(account_id=ACCOUNT, amount_fen=10000, receipt_no="R-000001")
    assert err.value.code == "FORBIDDEN"


def test_the_daily_summary_counts_synced_and_pending_cash_of_the_day(agent: EngineBackend
                                                                     ) -> None:
    today = utcnow()
    pull(agent, [ledger(5, "recharge_cash", 5000, 9000, actor_id=AGENT.user_id,
                        occurred_at=to_iso(today), data={"receipt_no": "R-SYNCED1"}),
                 ledger(4, "recharge_cash", 7000, 4000, actor_id=AGENT.user_id,
                        occurred_at=to_iso(today - timedelta(days=3)),
                        data={"receipt_no": "R-OLDDAY1"}),
                 ledger(3, "recharge_cash", 9900, 9900, actor_id=new_id(),
                        occurred_at=to_iso(today), data={"receipt_no": "R-OTHER01"})])
    agent.cash_recharge(account_id=ACCOUNT, amount_fen=2500, receipt_no="R-PENDING")
    cash = CashState(agent, "en", clock=lambda: today)
    cash.reload()
    assert {c.receipt_no: c.state for c in cash.lines} == {
        "R-SYNCED1": "synced", "R-OLDDAY1": "synced", "R-PENDING": "pending"}
    s = cash.summary
    assert (s.count, s.total_fen, s.pending) == (2, 7500, 1)
    assert summarize(cash.lines, (today - timedelta(days=3)).date()).total_fen in (7000, 0)


# -- agent: purchase count (four eyes) ----------------------------------------------------
class FakeCounts:
    """The server's side: a correction is recorded as a pending request (the meter keeps
    its count); the same id again answers the same request, marked ``duplicate``."""

    def __init__(self, backend: EngineBackend, offline: bool = False) -> None:
        self.backend, self.offline = backend, offline
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.requests: dict[str, dict[str, Any]] = {}

    def rows(self, entity: str) -> Any:
        return self.backend.rows(entity)

    def correct_purchase_count(self, meter_id: str, **kw: Any) -> dict[str, Any]:
        if self.offline:
            raise TransientError("down", code="SYNC_OFFLINE")
        self.calls.append((meter_id, kw))
        seen = self.requests.get(kw["correction_id"])
        if seen is not None:
            return {**seen, "duplicate": True}
        req = {"id": kw["correction_id"], "kind": "purchase_count", "status": "pending",
               "meter_id": meter_id, "meter_no": "MTR-0001",
               "old_count": kw["expected_count"], "new_count": kw["new_count"],
               "reason": kw["reason"], "duplicate": False}
        self.requests[req["id"]] = req
        return req


def _meter_row(count: int, version: int) -> tuple[str, dict[str, Any]]:
    return ("meter", {"id": METER, "meter_no": "MTR-0001", "status": "installed",
                      "account_id": ACCOUNT, "station_id": STATION,
                      "purchase_count": count, "version": version})


def test_a_purchase_count_correction_is_sent_for_approval_and_waits(
        agent: EngineBackend) -> None:
    pull(agent, [_meter_row(7, 2)])
    server = FakeCounts(agent)
    fix = CountFixState(server, "en")  # type: ignore[arg-type]
    fix.meter_text, fix.count_text = "7700000000", "8"
    asyncio.run(fix.submit())
    assert fix.error and not server.calls  # no reason
    fix.reason_text = "card reissued; meter shows 8"
    fix.count_text = "70000"
    asyncio.run(fix.submit())
    assert fix.error == "count_invalid" and not server.calls
    fix.count_text = "8"
    asyncio.run(fix.submit())
    assert (fix.phase, fix.result["status"], fix.result["old_count"],  # type: ignore[index]
            fix.result["new_count"]) == ("sent", "pending", 7, 8)  # type: ignore[index]
    ((meter_id, kw),) = server.calls
    assert meter_id == METER and kw["expected_count"] == 7
    # the meter keeps its count until a manager approves
    assert fix.meter()["purchase_count"] == 7  # type: ignore[index]

    # sent again (a second tap): the same request, and the phone says it is already waiting
    asyncio.run(fix.submit())
    assert len(server.requests) == 1
    assert server.calls[1][1]["correction_id"] == server.calls[0][1]["correction_id"]
    assert fix.phase == "already"

    # approved on the server: the pulled meter row brings the new count
    redrawn = fix.pulls
    pull(agent, [_meter_row(8, 3)])
    fix.reload()  # what the sync driver does after a pull
    assert fix.pulls == redrawn + 1
    assert fix.phase == "approved" and fix.meter()["purchase_count"] == 8  # type: ignore[index]

    server.offline = True
    fix.count_text = "9"
    asyncio.run(fix.submit())
    assert fix.error == "count_needs_connection"
    fix.meter_text = "NOPE"
    asyncio.run(fix.submit())
    assert fix.error == "count_unknown_meter"


def test_a_resend_after_a_lost_answer_keeps_the_id(agent: EngineBackend) -> None:
    """The connection dropped before the answer came: the retry sends the same id, so
    the server answers the request it already has instead of recording a second."""
    pull(agent, [_meter_row(7, 2)])
    server = FakeCounts(agent, offline=True)
    fix = CountFixState(server, "zh")  # type: ignore[arg-type]
    fix.meter_text, fix.count_text, fix.reason_text = "MTR-0001", "9", "换卡"
    asyncio.run(fix.submit())
    assert fix.error == "count_needs_connection" and fix.result is None
    kept = fix._id
    server.offline = False
    asyncio.run(fix.submit())
    assert server.calls[0][1]["correction_id"] == kept and fix.phase == "sent"


def test_the_answer_of_a_decided_request_is_shown(agent: EngineBackend) -> None:
    pull(agent, [_meter_row(7, 2)])
    fix = CountFixState(agent, "en")
    fix.meter_text = "MTR-0001"
    fix.result = {"id": "r1", "meter_id": METER, "old_count": 7, "new_count": 12,
                  "status": "pending"}
    assert fix.phase == "sent" and fix.meter()["purchase_count"] == 7  # type: ignore[index]
    fix.result = {**fix.result, "status": "rejected", "duplicate": True}
    assert fix.phase == "rejected"
    fix.result = {**fix.result, "status": "approved"}
    assert fix.phase == "approved"


def test_the_hand_over_lists_each_day_with_its_receipts(agent: EngineBackend) -> None:
    from datetime import date

    cash = CashState(agent, "en")
    cash.reload()
    for receipt, amount in (("R-000801", "50"), ("R-000802", "20.5")):
        cash.account_text, cash.amount_text, cash.receipt_text = "7700000000", amount, receipt
        assert cash.submit()
    ((summary, lines),) = cash.days()
    assert (summary.count, summary.total) == (2, "¥70.50")
    assert {c.receipt_no for c in lines} == {"R-000801", "R-000802"}
    assert summary.day == date.today() or summary.day
