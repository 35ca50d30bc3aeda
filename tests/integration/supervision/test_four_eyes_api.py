"""Four eyes on money and counts: recorded by one person (a pending request, nothing
moves), applied only when another user with the right role approves — in the approval's
transaction, audited; nobody approves or rejects their own (a coded refusal, zh and en)."""

from __future__ import annotations

from typing import Any

from server.db import Database
from shared.enums import Role
from tests.conftest import db_snapshot, table_rows
from tests.factories import World
from tests.integration.office.board_kit import add_user, ok, refused

A = "/api/v1/supervision/approvals"


def _record(api: Any, **body: Any) -> dict[str, Any]:
    return ok(api.post(A, json=body), 201)  # type: ignore[no-any-return]


def _balance(db: Database, world: World, acc: str = "acc1") -> int:
    return int(table_rows(db, "account", id=world.accounts[acc].id)[0]["balance_fen"])


def test_an_adjustment_waits_for_another_manager_and_is_refused_to_its_author(
        as_user: Any, db: Database, world: World) -> None:
    acc1 = world.accounts["acc1"].id
    req = _record(as_user("manager1"), kind="adjustment", account_id=acc1, amount_fen=1200,
                  reason="meter read twice in March")
    assert (req["status"], req["amount_fen"], req["requested_by_name"]) == (
        "pending", 1200, "Manager1")
    assert _balance(db, world) == 5000  # nothing moved
    assert not table_rows(db, "ledger_entry", source_id=req["id"])

    before = db_snapshot(db)
    body = refused(as_user("manager1").post(f"{A}/{req['id']}/approve", json={}), 403,
                   "APPROVAL_OWN_REQUEST")
    assert "own request" in body["message"]
    zh = refused(as_user("manager1", "zh").post(f"{A}/{req['id']}/approve", json={}), 403,
                 "APPROVAL_OWN_REQUEST")
    assert "不能审批自己" in zh["message"]
    refused(as_user("manager1").post(f"{A}/{req['id']}/reject", json={"reason": "no"}), 403,
            "APPROVAL_OWN_REQUEST")
    refused(as_user("agent1").post(f"{A}/{req['id']}/approve", json={}), 403, "FORBIDDEN")
    refused(as_user("dispatcher1").post(f"{A}/{req['id']}/approve", json={}), 403,
            "FORBIDDEN")
    assert db_snapshot(db) == before  # refusals change nothing

    done = ok(as_user("admin").post(f"{A}/{req['id']}/approve", json={}))
    assert (done["status"], done["decided_by"]) == ("approved", world.user("admin").id)
    assert _balance(db, world) == 6200
    (entry,) = table_rows(db, "ledger_entry", source_id=req["id"])
    assert (entry["kind"], entry["amount_fen"], entry["id"]) == ("correction", 1200,
                                                                  done["result_id"])
    actions = [r["action"] for r in table_rows(db, "audit_log", entity_id=req["id"])]
    assert actions == ["approval.request", "approval.approve"]
    # the same approval again (a lost answer) changes nothing; another decision is refused
    again = db_snapshot(db)
    assert ok(as_user("admin").post(f"{A}/{req['id']}/approve", json={}))["version"] == \
        done["version"]
    assert db_snapshot(db) == again
    refused(as_user("admin").post(f"{A}/{req['id']}/reject", json={"reason": "late"}), 409,
            "APPROVAL_CLOSED")


def test_a_purchase_count_correction_by_an_agent_is_applied_when_the_manager_approves(
        as_user: Any, db: Database, world: World) -> None:
    meter = world.meters["m1"].id
    req = _record(as_user("agent1"), kind="purchase_count", meter_id=meter, new_count=9,
                  reason="two card top-ups missing", request_id="req-pc-1")
    assert (req["old_count"], req["new_count"]) == (7, 9)
    # the same request id again answers the same; a second request for the meter is refused
    assert _record(as_user("agent1"), kind="purchase_count", meter_id=meter, new_count=9,
                   reason="again", request_id="req-pc-1")["id"] == "req-pc-1"
    refused(as_user("manager1").post(A, json={"kind": "purchase_count", "meter_id": meter,
                                              "new_count": 8, "reason": "x"}), 409,
            "APPROVAL_DUPLICATE")
    assert table_rows(db, "meter", id=meter)[0]["purchase_count"] == 7
    # an agent sees their own requests; the manager sees the station's
    assert [r["id"] for r in ok(as_user("agent1").get(A))["items"]] == ["req-pc-1"]
    assert ok(as_user("agent2").get(A))["total"] == 0
    pending = ok(as_user("manager1").get(A, params={"status": "pending"}))
    assert [r["id"] for r in pending["items"]] == ["req-pc-1"]

    ok(as_user("manager1").post(f"{A}/req-pc-1/approve", json={"reason": "checked the card"}))
    assert table_rows(db, "meter", id=meter)[0]["purchase_count"] == 9
    (corr,) = table_rows(db, "purchase_count_correction", meter_id=meter)
    assert (corr["old_count"], corr["new_count"], corr["actor_id"]) == (
        7, 9, world.user("agent1").id)  # who recorded it; the approval says who approved


def test_reject_needs_a_reason_and_moves_nothing(as_user: Any, db: Database,
                                                 world: World) -> None:
    acc1 = world.accounts["acc1"].id
    req = _record(as_user("agent1"), kind="refund", account_id=acc1, amount_fen=3000,
                  reason="moving away")
    refused(as_user("agent1").post(A, json={"kind": "refund", "account_id": acc1,
                                            "amount_fen": 6000, "reason": "too much"}),
            422, "BILLING_REFUND_EXCEEDS_BALANCE")
    refused(as_user("manager1").post(f"{A}/{req['id']}/reject", json={}), 422,
            "WO_REASON_REQUIRED")
    out = ok(as_user("manager1").post(f"{A}/{req['id']}/reject",
                                      json={"reason": "no ID shown"}))
    assert (out["status"], out["decision_reason"]) == ("rejected", "no ID shown")
    assert _balance(db, world) == 5000


def test_a_station_manager_cannot_see_or_approve_another_stations_requests(
        as_user: Any, db: Database, world: World) -> None:
    acc3 = world.accounts["acc3"].id  # station 2
    req = _record(as_user("agent2"), kind="adjustment", account_id=acc3, amount_fen=-500,
                  reason="double charge")
    refused(as_user("manager1").post(f"{A}/{req['id']}/approve", json={}), 404,
            "APPROVAL_NOT_FOUND")
    refused(as_user("agent1").post(A, json={"kind": "adjustment", "account_id": acc3,
                                            "amount_fen": 100, "reason": "x"}), 404,
            "ACCOUNT_NOT_FOUND")
    manager2 = add_user(db, "manager2", Role.MANAGER, world.stations["s2"].id)
    assert manager2
    from datetime import timedelta

    from server.auth.security import make_token
    from tests.conftest import SECRET, Api

    token, _ = make_token(secret=SECRET, sub=manager2, kind="access",
                          ttl=timedelta(minutes=5), extra={"dev": "desk-pc-7"})
    api = Api(as_user(None).client, token)
    ok(api.post(f"{A}/{req['id']}/approve", json={}))
    assert _balance(db, world, "acc3") == 4500
    entry = next(r for r in table_rows(db, "audit_log", entity_id=req["id"])
                 if r["action"] == "approval.approve")
    assert entry["device_id"] == "desk-pc-7"  # from which device
