"""Recharges: online through the sandbox provider (signed callbacks, repeated, late, out of
order, forged, replayed, mismatched: credited exactly once) and field cash as a sync op
(pushed again after lost answers: credited once); purchase counts; bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from server.billing.setup import tick
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from tests.conftest import db_snapshot, table_rows
from tests.integration.billing_kit import (
    PAYMENT_KEY,
    assert_ledger_ok,
    balance,
    cash_op,
    entries,
    open_all,
    push,
    signed,
)

PAY = "/api/v1/payments"


@pytest.fixture(autouse=True)
def _opened(db, world):
    open_all(db)


def new_order(api, account_id, amount=5000, key=None):
    r = api.post(f"{PAY}/orders", json={"account_id": account_id, "amount_fen": amount,
                                        "idempotency_key": key or f"key-{new_id()}"})
    assert r.status_code in (200, 201), r.text
    return r.json()


def events(client, txn):
    r = client.get(f"/sandbox/pay/{txn}/events")
    assert r.status_code == 200, r.text
    return r.json()


def post_callback(client, body: bytes, headers):
    return client.post(f"{PAY}/callback", content=body, headers=headers)


def test_online_recharge_through_the_sandbox_is_credited_once(as_user, world, db, client,
                                                               app):
    acc = world.accounts["acc1"]
    me = as_user("customer1")
    order = new_order(me, acc.id, 5000, key="recharge-0001")
    assert order["status"] == "pending" and order["pay_url"].startswith("/sandbox/pay/")
    # the same key again: the same order, not a second one
    assert new_order(me, acc.id, 5000, key="recharge-0001")["id"] == order["id"]
    r = me.post(f"{PAY}/orders", json={"account_id": acc.id, "amount_fen": 6000,
                                       "idempotency_key": "recharge-0001"})
    assert (r.status_code, r.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    # the provider's page, then the payer approves there
    page = client.get(order["pay_url"])
    assert page.status_code == 200 and "50.00" in page.text and "approve" in page.text
    r = client.post(order["pay_url"] + "/approve")
    assert r.status_code == 200 and r.json()["status"] == "paid"
    got = me.get(f"{PAY}/orders/{order['id']}").json()
    assert got["status"] == "credited" and got["receipt_no"].startswith("OL")
    assert balance(db, acc.id) == 5000 + 5000
    (credit,) = entries(db, acc.id, "recharge_online")
    assert (credit.amount_fen, credit.actor_id, credit.source_id) == (
        5000, world.user("customer1").id, order["id"])
    receipt = me.get(f"{PAY}/orders/{order['id']}/receipt").json()
    assert receipt["amount_fen"] == 5000 and receipt["balance_after_fen"] == 10_000
    assert receipt["purchase_count"] == 8  # was 7: each recharge is a purchase
    # every notification again, in any order, many times, and late: nothing more
    for ev in reversed(events(client, order["provider_txn_id"]) * 3):
        r = post_callback(client, ev["body"].encode(), {"X-Signature": ev["signature"]})
        assert r.status_code == 200, r.text
        assert r.json()["result"] in ("duplicate", "ignored")
    services = app.state.billing
    tick(services, now=utcnow() + timedelta(hours=1))  # the provider's repeats, later
    tick(services, now=utcnow() + timedelta(hours=3))
    assert balance(db, acc.id) == 10_000
    assert len(entries(db, acc.id, "recharge_online")) == 1
    verdicts = {c["verdict"] for c in table_rows(db, "payment_callback")}
    assert verdicts <= {"accepted", "duplicate", "ignored"}
    inbox = me.get("/api/v1/notifications", params={"lang": "en"}).json()
    assert [n["kind"] for n in inbox].count("recharge_credited") == 1
    assert_ledger_ok(db)


def _paid_event(order, **changes):
    body = {"event_id": f"EVT-{new_id()}", "seq": 9, "order_id": order["id"],
            "txn_id": order["provider_txn_id"], "status": "paid",
            "amount_fen": order["amount_fen"], "currency": "CNY",
            "occurred_at": utcnow().isoformat()}
    body.update(changes)
    return body


def test_forged_replayed_and_mismatched_callbacks_are_refused_and_recorded(
        as_user, world, db, client):
    acc = world.accounts["acc1"]
    order = new_order(as_user("customer1"), acc.id, 3000)
    before = balance(db, acc.id)

    def refused(body: bytes, headers, status, code):
        r = post_callback(client, body, headers)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
        assert set(r.json()) == {"code", "message", "details"}

    good = _paid_event(order)
    # forged: signed with another key; no signature; a body altered after signing
    body, headers = signed(b"not-the-key" * 3, good)
    refused(body, headers, 400, "PAYMENT_CALLBACK_SIGNATURE_INVALID")
    refused(body, {}, 400, "PAYMENT_CALLBACK_SIGNATURE_INVALID")
    body, headers = signed(PAYMENT_KEY, good)
    tampered = body.replace(b'"amount_fen":3000', b'"amount_fen":300000')
    refused(tampered, headers, 400, "PAYMENT_CALLBACK_SIGNATURE_INVALID")
    # replayed: genuinely signed, but days ago
    body, headers = signed(PAYMENT_KEY, good, at=utcnow() - timedelta(days=4))
    refused(body, headers, 400, "PAYMENT_CALLBACK_STALE")
    # mismatched: amount, currency, transaction, unknown order
    for field, value in (("amount_fen", 300_000), ("currency", "USD"),
                         ("txn_id", "SBX-someone-else"), ("order_id", new_id())):
        body, headers = signed(PAYMENT_KEY, _paid_event(order, **{field: value}))
        refused(body, headers, 409, "PAYMENT_CALLBACK_MISMATCH")
    assert balance(db, acc.id) == before
    rejected = [c for c in table_rows(db, "payment_callback") if c["verdict"] == "rejected"]
    assert len(rejected) == 8
    assert {c["code"] for c in rejected} == {"PAYMENT_CALLBACK_SIGNATURE_INVALID",
                                             "PAYMENT_CALLBACK_STALE",
                                             "PAYMENT_CALLBACK_MISMATCH"}
    # the genuine one credits; the same event id with another body is refused
    body, headers = signed(PAYMENT_KEY, good)
    assert post_callback(client, body, headers).json()["status"] == "credited"
    body, headers = signed(PAYMENT_KEY, {**good, "occurred_at": "2026-01-01T00:00:00+00:00"})
    refused(body, headers, 409, "PAYMENT_CALLBACK_MISMATCH")
    assert balance(db, acc.id) == before + 3000
    # a decline after the money was credited contradicts it: refused, nothing undone
    body, headers = signed(PAYMENT_KEY, _paid_event(order, seq=10, status="declined"))
    refused(body, headers, 409, "PAYMENT_CALLBACK_MISMATCH")
    assert balance(db, acc.id) == before + 3000
    assert_ledger_ok(db)


def test_out_of_order_pending_after_paid_and_a_decline(as_user, world, db, client):
    acc = world.accounts["acc1"]
    me = as_user("customer1")
    order = new_order(me, acc.id, 2000)
    client.post(order["pay_url"] + "/approve", params={"deliver": "false"})
    pending, paid = events(client, order["provider_txn_id"])
    assert (pending["seq"], json.loads(paid["body"])["status"]) == (1, "paid")
    # paid arrives first, then the older pending: ignored, status stays credited
    r = post_callback(client, paid["body"].encode(), {"X-Signature": paid["signature"]})
    assert r.json() == {"result": "accepted", "order_id": order["id"], "status": "credited"}
    r = post_callback(client, pending["body"].encode(), {"X-Signature": pending["signature"]})
    assert r.json()["result"] == "ignored"
    assert me.get(f"{PAY}/orders/{order['id']}").json()["status"] == "credited"
    # another order, declined on the provider's page: nothing credited, the customer told
    other = new_order(me, acc.id, 1500)
    client.post(other["pay_url"] + "/decline")
    assert me.get(f"{PAY}/orders/{other['id']}").json()["status"] == "declined"
    r = me.get(f"{PAY}/orders/{other['id']}/receipt")
    assert (r.status_code, r.json()["code"]) == (409, "PAYMENT_ORDER_CLOSED")
    assert balance(db, acc.id) == 5000 + 2000
    kinds = [n["kind"] for n in me.get("/api/v1/notifications").json()]
    assert "payment_declined" in kinds


def test_paid_but_not_credited_is_credited_by_the_sweep(as_user, world, db, client, app,
                                                        monkeypatch):
    from server.payments import service

    acc = world.accounts["acc1"]
    order = new_order(as_user("customer1"), acc.id, 1000)
    monkeypatch.setattr(service, "credit", lambda db, **kw: False)  # crash after "paid"
    client.post(order["pay_url"] + "/approve")
    assert as_user("customer1").get(f"{PAY}/orders/{order['id']}").json()["status"] == "paid"
    monkeypatch.undo()
    assert service.credit_paid(db) == 1
    assert service.credit_paid(db) == 0
    assert balance(db, acc.id) == 6000 and len(entries(db, acc.id, "recharge_online")) == 1


def test_orders_are_the_customers_own(as_user, world, db):
    acc1 = world.accounts["acc1"]
    r = as_user("customer2").post(f"{PAY}/orders", json={
        "account_id": acc1.id, "amount_fen": 1000, "idempotency_key": "someone-else-1"})
    assert (r.status_code, r.json()["code"]) == (404, "ACCOUNT_NOT_FOUND")
    order = new_order(as_user("customer1"), acc1.id)
    r = as_user("customer2").get(f"{PAY}/orders/{order['id']}")
    assert (r.status_code, r.json()["code"]) == (404, "PAYMENT_ORDER_NOT_FOUND")
    r = as_user("agent1").post(f"{PAY}/orders", json={
        "account_id": acc1.id, "amount_fen": 1000, "idempotency_key": "agent-pays-1"})
    assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN")


@pytest.mark.parametrize(("amount", "status", "code"), [
    (-500, 422, "BILLING_AMOUNT_INVALID"), (0, 422, "BILLING_AMOUNT_INVALID"),
    (99, 422, "BILLING_AMOUNT_INVALID"), (10**9, 422, "BILLING_AMOUNT_INVALID"),
    (12.5, 422, "VALIDATION_ERROR"), ("100", 422, "VALIDATION_ERROR"),
])
def test_bad_online_amounts_change_nothing(as_user, world, db, amount, status, code):
    before = db_snapshot(db)
    r = as_user("customer1").post(f"{PAY}/orders", json={
        "account_id": world.accounts["acc1"].id, "amount_fen": amount,
        "idempotency_key": "bad-amount-1"})
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert db_snapshot(db) == before


# -- field cash ---------------------------------------------------------------------------------
def test_a_cash_op_pushed_three_times_credits_once(as_user, world, db):
    acc = world.accounts["acc1"]
    agent = as_user("agent1")
    op = cash_op(acc.id, 3000, "RC-2026-000001",
                 created_at=utcnow() - timedelta(hours=5))  # taken offline this morning
    first = push(agent, [op])[0]
    assert first["status"] == "applied" and first["entity"] == "ledger_entry", first
    # the answers were lost: the phone sends it again, twice
    assert push(agent, [op])[0]["status"] == "duplicate"
    assert push(agent, [op])[0]["status"] == "duplicate"
    assert balance(db, acc.id) == 8000
    (credit,) = entries(db, acc.id, "recharge_cash")
    assert credit.id == first["entity_id"] and credit.actor_id == world.user("agent1").id
    assert credit.data["receipt_no"] == "RC-2026-000001"
    assert table_rows(db, "meter", id=world.meters["m1"].id)[0]["purchase_count"] == 8
    # a new op for the same paper receipt (re-entered by hand): still one credit
    again = cash_op(acc.id, 3000, "RC-2026-000001", seq=2)
    assert push(agent, [again])[0]["status"] == "applied"
    assert balance(db, acc.id) == 8000 and len(entries(db, acc.id, "recharge_cash")) == 1
    # ... but that receipt number for another amount is a mistake: refused
    wrong = cash_op(acc.id, 3500, "RC-2026-000001", seq=3)
    result = push(agent, [wrong])[0]
    assert (result["status"], result["code"]) == ("rejected", "CASH_RECEIPT_REUSED")
    # the agent's summary for handing in the cash
    day = (utcnow() - timedelta(hours=5)).astimezone(LOCAL_TZ).date()
    summary = agent.get("/api/v1/billing/cash-recharges/summary",
                        params={"day": day.isoformat()}).json()
    assert (summary["count"], summary["total_fen"]) == (1, 3000)
    assert summary["receipts"][0]["receipt_no"] == "RC-2026-000001"
    assert_ledger_ok(db)


@pytest.mark.parametrize(("amount", "receipt", "code"), [
    (-3000, "RC-2026-000009", "BILLING_AMOUNT_INVALID"),
    (50_000_000, "RC-2026-000009", "BILLING_AMOUNT_INVALID"),
    (3000, "no", "CASH_RECEIPT_INVALID"),
    (30.5, "RC-2026-000009", "SYNC_BAD_PAYLOAD"),
])
def test_bad_cash_ops_are_rejected_and_change_no_money(as_user, world, db, amount, receipt,
                                                       code):
    acc = world.accounts["acc1"]
    result = push(as_user("agent1"), [cash_op(acc.id, amount, receipt)])[0]
    assert (result["status"], result["code"]) == ("rejected", code), result
    assert result["message"]
    assert balance(db, acc.id) == 5000 and entries(db, acc.id, "recharge_cash") == []


def test_cash_for_an_account_out_of_reach(as_user, world, db):
    # an unknown account, and another station's account: both look the same
    for seq, account_id in enumerate((new_id(), world.accounts["acc3"].id), start=1):
        result = push(as_user("agent1"), [cash_op(account_id, 1000, "RC-2026-000100",
                                                  seq=seq)])[0]
        assert (result["status"], result["code"]) == ("rejected", "ACCOUNT_NOT_FOUND")
    # a crew may not take cash
    op = cash_op(world.accounts["acc1"].id, 1000, "RC-X-000101", device="device-crew1-0001")
    result = push(as_user("crew1"), [op], device="device-crew1-0001")[0]
    assert (result["status"], result["code"]) == ("rejected", "FORBIDDEN")


def test_cash_at_the_counter_over_http(as_user, world, db):
    acc = world.accounts["acc1"]
    body = {"id": new_id(), "account_id": acc.id, "amount_fen": 2500,
            "receipt_no": "RC-COUNTER-0001"}
    r = as_user("agent1").post("/api/v1/billing/cash-recharges", json=body)
    assert r.status_code == 201 and r.json()["balance_after_fen"] == 7500, r.text
    r = as_user("agent1").post("/api/v1/billing/cash-recharges", json=body)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    before = db_snapshot(db)
    r = as_user("agent1").post("/api/v1/billing/cash-recharges", json={**body, "amount_fen": 1})
    assert (r.status_code, r.json()["code"]) == (422, "BILLING_AMOUNT_INVALID")
    r = as_user("customer1").post("/api/v1/billing/cash-recharges", json=body)
    assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN")
    assert db_snapshot(db) == before
