"""An agent's end-of-day cash hand-over: the station counter (manager) sees each agent's
day and confirms it once, only when the counted cash agrees with the receipts; the
confirmation reaches the agent's phone by sync; nobody else may confirm, and a refused
confirmation stores nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from tests.conftest import db_snapshot, table_rows
from tests.integration.test_sync_server import _pull_all

URL = "/api/v1/billing/cash-handovers"


def cash(api: Any, account_id: str, amount: int, receipt: str) -> None:
    r = api.post("/api/v1/billing/cash-recharges", json={
        "id": new_id(), "account_id": account_id, "amount_fen": amount, "receipt_no": receipt})
    assert r.status_code == 201, r.text


def test_the_counter_confirms_an_agents_day(as_user, world, db):
    agent, manager = as_user("agent1"), as_user("manager1")
    today = utcnow().astimezone(LOCAL_TZ).date()
    cash(agent, world.accounts["acc1"].id, 5000, "RC-HAND-0001")
    cash(agent, world.accounts["acc2"].id, 2500, "RC-HAND-0002")
    sheet = manager.get(URL, params={"day": today.isoformat()}).json()
    (row,) = [s for s in sheet if s["agent_id"] == world.users["agent1"].id]
    assert (row["count"], row["total_fen"], row["confirmed_by_name"]) == (2, 7500, None)
    assert [r["receipt_no"] for r in row["receipts"]] == ["RC-HAND-0001", "RC-HAND-0002"]

    body = {"agent_id": world.users["agent1"].id, "day": today.isoformat(),
            "receipt_count": 2, "total_fen": 7000}
    before = db_snapshot(db)
    r = manager.post(URL, json=body)  # counted 5 yuan short, no note: refused
    assert (r.status_code, r.json()["code"]) == (422, "HANDOVER_NOTE_REQUIRED")
    assert ("(receipts recorded: 2, ¥75.00; counted: 2, ¥70.00; difference -¥5.00)"
            in r.json()["message"])
    r = manager.post(URL, json={**body, "note": " ok "}, headers={"Accept-Language": "zh"})
    assert r.json()["code"] == "HANDOVER_NOTE_REQUIRED"  # a note too short explains nothing
    assert "记录 2 笔 ¥75.00，清点 2 笔 ¥70.00，差额 -¥5.00" in r.json()["message"]
    for who in ("agent1", "customer1", "dispatcher1"):
        r = as_user(who).post(URL, json={**body, "total_fen": 7500})
        assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN"), who
    r = manager.post(URL, json={**body, "day": date(2020, 1, 1).isoformat(),
                                "receipt_count": 0, "total_fen": 0})
    assert r.json()["code"] == "HANDOVER_NOTHING_RECORDED"
    assert db_snapshot(db) == before

    r = manager.post(URL, json={**body, "total_fen": 7500})
    assert r.status_code == 201, r.text
    assert r.json()["confirmed_by_name"] == "Manager1"
    r = manager.post(URL, json={**body, "total_fen": 7500})
    assert (r.status_code, r.json()["code"]) == (409, "HANDOVER_CONFIRMED")
    sheet = manager.get(URL, params={"day": today.isoformat()}).json()
    assert sheet[0]["confirmed_by_name"] == "Manager1"

    assert (sheet[0]["counted_fen"], sheet[0]["discrepancy"]) == (7500, False)

    rows, _ = _pull_all(agent)
    (handed,) = [v for (e, _), v in rows.items() if e == "cash_handover"]
    assert handed["day"] == today.isoformat() and handed["total_fen"] == 7500
    other, _ = _pull_all(as_user("agent2"))
    assert not [k for k in other if k[0] == "cash_handover"]


def test_a_count_that_differs_is_confirmed_only_with_a_note_and_shows_as_a_discrepancy(
        as_user, world, db):
    """Issue 15: the counter enters what it COUNTED; a difference from the receipts is
    refused (nothing stored) unless a note explains it, and then the day is confirmed
    "with a discrepancy": the sheet shows recorded and counted, the audit log has both."""
    agent, manager = as_user("agent1"), as_user("manager1")
    today = utcnow().astimezone(LOCAL_TZ).date()
    cash(agent, world.accounts["acc1"].id, 5000, "RC-DIFF-0001")
    cash(agent, world.accounts["acc2"].id, 2500, "RC-DIFF-0002")
    body = {"agent_id": world.users["agent1"].id, "day": today.isoformat(),
            "receipt_count": 2, "total_fen": 7000}
    before = db_snapshot(db)
    assert manager.post(URL, json=body).json()["code"] == "HANDOVER_NOTE_REQUIRED"
    assert db_snapshot(db) == before

    note = "Customer acc2 paid ¥20 not ¥25; receipt to be reissued"
    r = manager.post(URL, json={**body, "note": note})
    assert r.status_code == 201, r.text
    got = r.json()
    assert (got["receipt_count"], got["total_fen"], got["recorded_count"],
            got["recorded_fen"], got["note"]) == (2, 7000, 2, 7500, note)
    (row,) = manager.get(URL, params={"day": today.isoformat()}).json()
    assert (row["count"], row["total_fen"], row["counted_count"], row["counted_fen"],
            row["discrepancy"], row["difference_fen"], row["note"]) == (
        2, 7500, 2, 7000, True, -500, note)
    (entry,) = table_rows(db, "audit_log", entity_id=got["id"])
    after = json.loads(entry["after"]) if isinstance(entry["after"], str) else entry["after"]
    assert (entry["action"], after["recorded_fen"], after["counted_fen"],
            after["discrepancy"], entry["reason"]) == (
        "cash.handover_confirm", 7500, 7000, True, note)
