"""Meter swap money (issue 8, item 1): the account's ledger is the money truth, the
remaining balance read off the old meter is evidence.

The case from the issue: the ledger holds 33,533 fen, the technician reads 34,033 off the
old meter. The new meter gets 33,533, the account stays 33,533, the ledger takes no
detour (one entry of amount 0 names the new meter), and the 500 fen difference waits as
a balance discrepancy — the same online and through ``meter_swap.record@1``. The office
lists it and settles it (an audited ``adjustment`` entry of the difference) or dismisses
it (no money), always with a reason.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from server.billing.ledger import check
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import db_snapshot, table_rows
from tests.factories import World
from tests.integration.approval_kit import approved_correction
from tests.integration.test_meter_swap_api import swap_body, swap_job_on_site

WO = "/api/v1/work-orders"
D = "/api/v1/balance-discrepancies"
LEDGER, READ = 33_533, 34_033


def _ledger_at(as_user: Any, world: World, fen: int) -> None:
    """Bring acc1's ledger to ``fen`` with a correction (acc1 starts at 5000), recorded by
    the manager and approved by the admin (four eyes)."""
    approved_correction(as_user, world.accounts["acc1"].id, fen - 5000, "set-up",
                        by="manager1")


def _swap(as_user: Any, world: World, oid: str, how: str, **change: Any) -> None:
    body = swap_body(world, **change)
    if how == "online":
        r = as_user("tech1").post(f"{WO}/{oid}/meter-swap", json=body)
        assert r.status_code == 201, r.text
        return
    op = {"op_id": new_id(), "device_id": "device-tech1-0001", "device_seq": 1,
          "lane": f"work_order:{oid}", "lane_prev": None, "type": "meter_swap.record@1",
          "entity_id": oid, "payload": body, "photos": [], "created_at": utcnow().isoformat()}
    r = as_user("tech1").post("/api/v1/sync/push", json={
        "protocol": PROTOCOL_VERSION, "device_id": op["device_id"],
        "sent_at": utcnow().isoformat(), "ops": [op]})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["status"] == "applied", r.text


def _entries(db: Any, world: World) -> list[dict[str, Any]]:
    return sorted(table_rows(db, "ledger_entry", account_id=world.accounts["acc1"].id),
                  key=lambda e: e["seq"])


@pytest.mark.parametrize("how", ["online", "synced"])
def test_the_new_meter_gets_the_ledgers_figure_and_the_difference_waits(
        as_user, world: World, db, how: str) -> None:
    _ledger_at(as_user, world, LEDGER)
    oid = swap_job_on_site(db, world)
    before = _entries(db, world)
    _swap(as_user, world, oid, how, old_remaining_fen=READ)

    (new,) = table_rows(db, "meter", id=world.meters["stock1"].id)
    (account,) = table_rows(db, "account", id=world.accounts["acc1"].id)
    assert (new["status"], new["balance_fen"], account["balance_fen"]) == (
        "installed", LEDGER, LEDGER)
    added = _entries(db, world)[len(before):]
    assert [(e["kind"], e["amount_fen"], e["balance_after_fen"], e["meter_id"])
            for e in added] == [("swap_carry_over", 0, LEDGER, world.meters["stock1"].id)]
    with Session(db.reader) as s:
        assert check(s, account_ids=[world.accounts["acc1"].id]) == []
    (swap,) = table_rows(db, "meter_swap")
    assert (swap["carried_fen"], swap["old_remaining_fen"]) == (LEDGER, READ)
    (disc,) = table_rows(db, "balance_discrepancy")
    assert (disc["swap_id"], disc["account_id"], disc["ledger_fen"], disc["reported_fen"],
            disc["difference_fen"], disc["status"], disc["reported_by"]) == (
        swap["id"], world.accounts["acc1"].id, LEDGER, READ, 500, "open",
        world.user("tech1").id)
    assert [a["entity_id"] for a in table_rows(db, "audit_log",
                                               action="balance_discrepancy.open")] == [disc["id"]]


def test_a_reading_equal_to_the_ledger_leaves_nothing_to_review(as_user, world, db) -> None:
    oid = swap_job_on_site(db, world)
    _swap(as_user, world, oid, "online", old_remaining_fen=5000)
    assert table_rows(db, "balance_discrepancy") == []


def test_the_office_lists_its_stations_discrepancies_only(as_user, world, db) -> None:
    _ledger_at(as_user, world, LEDGER)
    _swap(as_user, world, swap_job_on_site(db, world), "online", old_remaining_fen=READ)
    (disc,) = table_rows(db, "balance_discrepancy")
    for who in ("dispatcher1", "manager1", "admin"):
        page = as_user(who).get(D, params={"status": "open"}).json()
        assert (page["total"], page["items"][0]["difference_fen"]) == (1, 500), who
        assert as_user(who).get(f"{D}/{disc['id']}").status_code == 200
    assert as_user("manager1").get(D, params={"status": "settled"}).json()["total"] == 0
    assert as_user("dispatcher2").get(D).json() == {"items": [], "total": 0}  # station 2
    r = as_user("dispatcher2").get(f"{D}/{disc['id']}")
    assert (r.status_code, r.json()["code"]) == (404, "DISCREPANCY_NOT_FOUND")
    for who in ("tech1", "crew1", "agent1", "customer1"):
        assert as_user(who).get(D).status_code == 403, who
    assert as_user(None).get(D).status_code == 401


def test_settling_takes_two_people_and_posts_the_difference_once(as_user, world,
                                                                  db) -> None:
    """One proposes (a pending four-eyes request; nothing moves), another approves: the
    difference is posted once, with the reason and an audit; nobody approves their own."""
    _ledger_at(as_user, world, LEDGER)
    _swap(as_user, world, swap_job_on_site(db, world), "online", old_remaining_fen=READ)
    (disc,) = table_rows(db, "balance_discrepancy")
    url = f"{D}/{disc['id']}/settle"

    before = db_snapshot(db)
    for who, body, status, code in [
            ("agent1", {"reason": "meter photo shows 340.33"}, 403, "FORBIDDEN"),
            ("manager1", {}, 422, "VALIDATION_ERROR"),
            ("manager1", {"reason": "\u200b\u202e "}, 422, "VALIDATION_ERROR"),
            ("manager1", {"reason": "x", "expected_version": 7}, 409, "VERSION_CONFLICT")]:
        r = as_user(who).post(url, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert db_snapshot(db) == before

    r = as_user("manager1").post(url, json={"reason": "meter photo shows ¥340.33\u202e",
                                            "expected_version": 1})
    assert r.status_code == 201, r.text
    req = r.json()
    assert (req["kind"], req["status"], req["amount_fen"], req["reason"]) == (
        "discrepancy_settle", "pending", 500, "meter photo shows ¥340.33")
    assert table_rows(db, "balance_discrepancy")[0]["status"] == "open"  # nothing moved yet
    assert table_rows(db, "account", id=world.accounts["acc1"].id)[0]["balance_fen"] == LEDGER
    r = as_user("manager1").post(url, json={"reason": "again"})
    assert (r.status_code, r.json()["code"]) == (409, "APPROVAL_DUPLICATE")
    approve = f"/api/v1/supervision/approvals/{req['id']}/approve"
    r = as_user("manager1").post(approve, json={})
    assert (r.status_code, r.json()["code"]) == (403, "APPROVAL_OWN_REQUEST")

    r = as_user("admin").post(approve, json={})
    assert r.status_code == 200, r.text
    (out,) = table_rows(db, "balance_discrepancy")
    assert (out["status"], out["resolved_by"], out["proposed_by"], out["resolution_reason"]) == (
        "settled", world.user("admin").id, world.user("manager1").id,
        "meter photo shows ¥340.33")
    assert r.json()["result_id"] == out["ledger_entry_id"]
    adjustment = _entries(db, world)[-1]
    assert (adjustment["id"], adjustment["kind"], adjustment["amount_fen"],
            adjustment["balance_after_fen"], adjustment["actor_id"], adjustment["reason"]) == (
        out["ledger_entry_id"], "adjustment", 500, READ, world.user("admin").id,
        "meter photo shows ¥340.33")
    (account,) = table_rows(db, "account", id=world.accounts["acc1"].id)
    assert account["balance_fen"] == READ
    (audit,) = table_rows(db, "audit_log", action="balance_discrepancy.settle")
    assert (audit["actor_id"], audit["reason"]) == (world.user("admin").id,
                                                    "meter photo shows ¥340.33")

    # the same approval again (a lost answer): nothing more; another proposal: refused
    before = db_snapshot(db)
    again = as_user("admin").post(approve, json={})
    assert (again.status_code, again.json()["result_id"]) == (200, out["ledger_entry_id"])
    r = as_user("dispatcher1").post(f"{D}/{disc['id']}/dismiss", json={"reason": "no"})
    assert (r.status_code, r.json()["code"]) == (409, "DISCREPANCY_CLOSED")
    assert db_snapshot(db) == before
    with Session(db.reader) as s:
        assert check(s, account_ids=[world.accounts["acc1"].id]) == []


def test_dismissing_moves_no_money(as_user, world, db) -> None:
    _swap(as_user, world, swap_job_on_site(db, world), "online", old_remaining_fen=4000)
    (disc,) = table_rows(db, "balance_discrepancy")
    entries = _entries(db, world)
    r = as_user("dispatcher1").post(f"{D}/{disc['id']}/dismiss",
                                    json={"reason": "ledger checked against the card history"})
    assert r.status_code == 201, r.text
    r = as_user("manager1").post(f"/api/v1/supervision/approvals/{r.json()['id']}/approve",
                                 json={})
    assert r.status_code == 200, r.text
    (row,) = table_rows(db, "balance_discrepancy")
    assert (row["status"], row["ledger_entry_id"]) == ("dismissed", None)
    assert _entries(db, world) == entries
    (audit,) = table_rows(db, "audit_log", action="balance_discrepancy.dismiss")
    assert audit["reason"] == "ledger checked against the card history"
    r = as_user("manager1").post(f"{D}/{disc['id']}/settle", json={"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "DISCREPANCY_CLOSED")
