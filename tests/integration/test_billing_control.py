"""Remote cost control: disconnect at zero and reconnect after a recharge, commands re-sent
until acknowledged (lost frames, late / duplicate / out-of-order acks), never for a
care-list account (a care visit instead); low-balance and arrears alerts once per
crossing; the message outbox with delivery receipts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session

from server.customers.models import Account
from server.meter_commands import service as commands
from server.meter_commands.headend import Frame, SimulatedHeadEnd, signed_ack
from server.notifications import service as notifications
from server.notifications.sender import LogSender, OutgoingMessage, SendResult
from server.uow import UnitOfWork
from shared.timeutil import utcnow
from tests.conftest import table_rows
from tests.integration.billing_kit import (
    HEADEND_KEY,
    account_row,
    assert_ledger_ok,
    balance,
    cash_op,
    charge,
    import_readings,
    month_start,
    open_all,
    push,
    reading,
)

M1 = "MTR-M1-0001"
FIRST = month_start(1)


@pytest.fixture(autouse=True)
def _opened(db, world):
    open_all(db)


def use(db, kwh_by_day: list[int], *, start: int = 0,
        start_at: Decimal = Decimal("1000.00")) -> list:
    """Readings for m1 from day ``start`` of FIRST on, ``kwh_by_day`` a day (continuing
    from ``start_at``; at day 0 a baseline reading the day before)."""
    rows, value = [], start_at
    if start == 0:
        rows.append(reading(M1, FIRST - timedelta(days=1), str(start_at)))
    for i, kwh in enumerate(kwh_by_day, start=start):
        value += kwh
        rows.append(reading(M1, FIRST + timedelta(days=i), str(value)))
    import_readings(db, rows)
    return [FIRST + timedelta(days=i) for i in range(start, start + len(kwh_by_day))]


def cmds(db, account_id):
    return sorted(table_rows(db, "meter_command", account_id=account_id), key=lambda c: c["seq"])


def deliver(client, ack, at=None):
    body, sig = signed_ack(HEADEND_KEY, ack, at)
    return client.post("/api/v1/meter-commands/acks", content=body,
                       headers={"X-Signature": sig, "Content-Type": "application/json"})


def kinds(db, account_id):
    return [n["kind"] for n in sorted(table_rows(db, "notification", account_id=account_id),
                                      key=lambda n: n["created_at"])]


def set_care(db, account_id):
    with Session(db.writer) as s:
        account = s.get(Account, account_id)
        account.care_flag, account.care_reason = True, "oxygen concentrator at home"
        s.add(account)
        s.commit()


def test_disconnect_at_zero_resent_until_acknowledged_then_reconnect(db, world, client,
                                                                     as_user):
    acc = world.accounts["acc1"]
    days = use(db, [100])  # 58.80 yuan: below zero
    charge(db, *days)
    assert balance(db, acc.id) == 5000 - 5880
    (cmd,) = cmds(db, acc.id)
    assert (cmd["kind"], cmd["state"], cmd["origin"], cmd["seq"]) == (
        "disconnect", "queued", "auto", 1)
    assert account_row(db, acc.id).alert_level == "arrears"
    assert kinds(db, acc.id) == ["arrears", "disconnect"]
    head = SimulatedHeadEnd(lose_next=1)
    now = utcnow()
    assert commands.send_due(db, head, now=now).sent == 1  # the frame is lost
    assert head.take_acks() == []
    assert commands.send_due(db, head, now=now + timedelta(seconds=30)).sent == 0  # backoff
    assert commands.send_due(db, head, now=now + timedelta(minutes=2)).sent == 1  # again
    (ack,) = head.take_acks()
    assert table_rows(db, "meter_command", id=cmd["id"])[0]["attempts"] == 2
    r = deliver(client, ack)
    assert r.json() == {"verdict": "applied"}
    assert deliver(client, ack).json() == {"verdict": "duplicate"}  # acks come twice
    assert account_row(db, acc.id).supply_state == "off"
    assert cmds(db, acc.id)[0]["state"] == "acknowledged"
    # another day in the red: no second command, no second arrears notice
    more = use(db, [5], start=1, start_at=Decimal("1100.00"))
    charge(db, *more)
    assert len(cmds(db, acc.id)) == 1 and kinds(db, acc.id).count("arrears") == 1
    # a cash recharge brings the balance above zero: reconnect
    push(as_user("agent1"), [cash_op(acc.id, 3000, "RC-CTRL-000001")])
    assert balance(db, acc.id) > 0
    reconnect = cmds(db, acc.id)[-1]
    assert (reconnect["kind"], reconnect["state"], reconnect["seq"]) == ("reconnect", "queued", 2)
    commands.send_due(db, head, now=utcnow())
    for ack in head.take_acks():
        assert deliver(client, ack).json() == {"verdict": "applied"}
    assert account_row(db, acc.id).supply_state == "on"
    assert head.relay(M1) == "on"
    assert kinds(db, acc.id)[-2:] == ["recharge_credited", "reconnect"]
    assert_ledger_ok(db)


def test_a_recharge_before_the_ack_supersedes_and_late_acks_cannot_undo_it(db, world, client,
                                                                            as_user):
    acc = world.accounts["acc1"]
    charge(db, *use(db, [100]))
    head = SimulatedHeadEnd(duplicate_acks=True)
    commands.send_due(db, head, now=utcnow())  # the meter cuts, but its acks are late
    late = head.take_acks()
    push(as_user("agent1"), [cash_op(acc.id, 5000, "RC-CTRL-000002")])
    disconnect, reconnect = cmds(db, acc.id)
    assert (disconnect["state"], reconnect["state"]) == ("superseded", "queued")
    # the superseded disconnect is never sent again
    commands.send_due(db, head, now=utcnow() + timedelta(hours=2))
    assert [f.kind for f in head.received] == ["disconnect", "reconnect"]
    # acks out of order: the reconnect's first, the disconnect's (twice) afterwards
    for ack in head.take_acks() + late:
        assert deliver(client, ack).status_code == 200
    assert account_row(db, acc.id).supply_state == "on"
    # a stale frame reaching the meter late is refused by the meter (older sequence)
    head.send(Frame(disconnect["id"], M1, 1, "disconnect", 9))
    (stale,) = head.take_acks()[:1]
    assert stale["result"] == "stale"
    assert deliver(client, stale).json()["verdict"] in ("stale", "duplicate")
    assert head.relay(M1) == "on" and account_row(db, acc.id).supply_state == "on"


def test_a_command_never_acknowledged_fails_and_a_manager_can_retry(db, world, as_user):
    acc = world.accounts["acc1"]
    charge(db, *use(db, [100]))
    head = SimulatedHeadEnd(lose_next=10**6)
    now = utcnow()
    for i in range(commands.MAX_ATTEMPTS + 1):
        commands.send_due(db, head, now=now + timedelta(hours=2 * i))
    (cmd,) = cmds(db, acc.id)
    assert cmd["state"] == "failed" and "no acknowledgement" in cmd["error"]
    assert cmd["attempts"] == commands.MAX_ATTEMPTS
    r = as_user("dispatcher1").post(f"/api/v1/meter-commands/{cmd['id']}/retry")
    assert r.status_code == 403
    r = as_user("manager1").post(f"/api/v1/meter-commands/{cmd['id']}/retry")
    assert r.status_code == 200 and r.json()["state"] == "queued" and r.json()["attempts"] == 0
    r = as_user("manager1").post(f"/api/v1/meter-commands/{cmd['id']}/retry")
    assert (r.status_code, r.json()["code"]) == (409, "METER_COMMAND_NOT_ALLOWED")


def test_an_unreachable_head_end_is_retried_later(db, world):
    acc = world.accounts["acc1"]
    charge(db, *use(db, [100]))
    head = SimulatedHeadEnd(unreachable=True)
    report = commands.send_due(db, head, now=utcnow())
    assert report.transport_errors == 1 and report.sent == 0
    (cmd,) = cmds(db, acc.id)
    assert cmd["state"] == "queued" and cmd["error"] == "head-end unreachable"
    head.unreachable = False
    assert commands.send_due(db, head, now=utcnow() + timedelta(hours=1)).sent == 1


def test_care_list_accounts_are_never_cut_automatically(db, world, as_user):
    acc = world.accounts["acc1"]
    set_care(db, acc.id)
    days = use(db, [100, 10, 10])
    charge(db, *days)
    assert balance(db, acc.id) < 0 and cmds(db, acc.id) == []
    jobs = [j for j in table_rows(db, "work_order", account_id=acc.id)
            if j["kind"] == "care_visit"]
    assert len(jobs) == 1  # one task for a person, not one a day
    job = jobs[0]
    assert (job["channel"], job["priority"], job["status"]) == ("monitoring", "high", "reported")
    assert "Not disconnected automatically" in job["description"]
    # the manager decides after the visit: a manual disconnect, with a reason
    r = as_user("manager1").post("/api/v1/meter-commands", json={
        "account_id": acc.id, "kind": "disconnect", "reason": "visited; family agrees"})
    assert r.status_code == 201, r.text
    assert (r.json()["origin"], r.json()["requested_by"]) == ("manual",
                                                              world.user("manager1").id)
    r = as_user("agent1").post("/api/v1/meter-commands", json={
        "account_id": acc.id, "kind": "disconnect", "reason": "x"})
    assert r.status_code == 403
    # and reconnecting after a recharge is automatic again
    push(as_user("agent1"), [cash_op(acc.id, 10_000, "RC-CARE-000001")])
    assert [c["kind"] for c in cmds(db, acc.id)] == ["disconnect", "reconnect"]


def test_low_balance_alert_once_per_crossing(db, world, as_user):
    acc = world.accounts["acc1"]
    days = use(db, [20, 20, 20, 20])  # 11.76 yuan a day from 50 yuan
    charge(db, days[0])
    assert account_row(db, acc.id).alert_level == "ok"  # 38.24 left, 3.2 days
    charge(db, days[1], days[2])
    assert account_row(db, acc.id).alert_level == "low"
    assert kinds(db, acc.id).count("low_balance") == 1  # not one a day
    push(as_user("agent1"), [cash_op(acc.id, 10_000, "RC-LOW-000001")])
    assert account_row(db, acc.id).alert_level == "ok"  # re-armed, quietly
    more = use(db, [150], start=4, start_at=Decimal("1080.00"))  # a big day
    charge(db, *more)
    assert account_row(db, acc.id).alert_level == "low"
    assert kinds(db, acc.id).count("low_balance") == 2
    note = next(n for n in table_rows(db, "notification", account_id=acc.id)
                if n["kind"] == "low_balance")
    assert "days" in note["body_en"] and "元" in note["body_zh"]
    assert note["user_id"] == world.user("customer1").id


def test_messages_go_through_the_sender_with_receipts(db, world, as_user):
    acc = world.accounts["acc1"]
    charge(db, *use(db, [100]))
    queued = table_rows(db, "message_outbox", status="queued")
    assert len(queued) == 2 and all(m["recipient"] == "13900000000" for m in queued)

    class Flaky:
        name = "flaky"

        def __init__(self):
            self.calls = 0

        def send(self, message: OutgoingMessage) -> SendResult:
            self.calls += 1
            if self.calls == 1:
                return SendResult(accepted=False, error="gateway busy")
            if self.calls == 2:
                raise ConnectionError("reset by peer")
            return SendResult(accepted=True, provider_ref=f"gw-{message.id}")

    flaky, now = Flaky(), utcnow()
    report = notifications.deliver(db, flaky, now=now)
    assert (report.sent, report.retried) == (0, 2)
    report = notifications.deliver(db, flaky, now=now + timedelta(hours=1))
    assert report.sent == 2
    sent = table_rows(db, "message_outbox", status="sent")
    with UnitOfWork(db) as uow:
        assert notifications.record_receipt(uow, provider_ref=sent[0]["provider_ref"],
                                            delivered=True)
        assert not notifications.record_receipt(uow, provider_ref=sent[0]["provider_ref"],
                                                delivered=True)  # repeated receipt
        assert notifications.record_receipt(uow, provider_ref=sent[1]["provider_ref"],
                                            delivered=False, error="handset off")
        uow.commit()
    assert {m["status"] for m in table_rows(db, "message_outbox")} == {"delivered", "failed"}
    # the built-in sender: the log, delivered at once (a recharge: credited + reconnect)
    push(as_user("agent1"), [cash_op(acc.id, 10_000, "RC-MSG-000001")])
    log_sender = LogSender()
    report = notifications.deliver(db, log_sender, now=utcnow())
    assert (report.sent, report.delivered) == (2, 2)
    assert all(acc.account_no in m.body for m in log_sender.sent)
    assert all(m["status"] != "queued" for m in table_rows(db, "message_outbox"))
    assert len(table_rows(db, "message_outbox", status="delivered")) == 3


def test_acks_must_be_signed_and_known(db, world, client):
    acc = world.accounts["acc1"]
    charge(db, *use(db, [100]))
    (cmd,) = cmds(db, acc.id)
    ack = {"command_id": cmd["id"], "seq": 1, "result": "ok", "relay": "off"}
    body, _ = signed_ack(HEADEND_KEY, ack)
    r = client.post("/api/v1/meter-commands/acks", content=body,
                    headers={"X-Signature": "t=1,v1=" + "0" * 64})
    assert (r.status_code, r.json()["code"]) == (400, "METER_ACK_SIGNATURE_INVALID")
    r = deliver(client, ack, at=utcnow() - timedelta(days=30))
    assert (r.status_code, r.json()["code"]) == (400, "METER_ACK_SIGNATURE_INVALID")
    r = deliver(client, {**ack, "command_id": "no-such-command"})
    assert (r.status_code, r.json()["code"]) == (404, "METER_COMMAND_NOT_FOUND")
    verdicts = [a["verdict"] for a in table_rows(db, "meter_command_ack")]
    assert sorted(verdicts) == ["rejected", "rejected", "unknown"]
    assert account_row(db, acc.id).supply_state == "on"
