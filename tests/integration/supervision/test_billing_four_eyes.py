"""Four eyes on the billing endpoints that change money or counts (issue 10): a balance
correction, a refund and a purchase-count correction sent to ``/api/v1/billing`` are
recorded as pending requests (202) and change nothing; the author cannot approve their
own; another manager's approval applies the change exactly once (its audit names both);
a rejection changes nothing; the same id again answers the same request; bad input and
another station's objects are refused with a code and leave nothing stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from server.auth.security import make_token
from server.db import Database
from shared.enums import Role
from shared.ids import new_id
from tests.conftest import SECRET, Api, db_snapshot, table_rows
from tests.factories import World
from tests.integration.billing_kit import open_all
from tests.integration.office.board_kit import add_user, ok, refused

B = "/api/v1/billing"
A = "/api/v1/supervision/approvals"
#: what recording a request may write (the request, its audit entry and the audit's
#: sequence counter); everything else — ledger, balances, meters, corrections, change
#: log — stays exactly as it was
RECORDING = ("approval_request", "audit_log", "counter")


@dataclass(frozen=True)
class Case:
    name: str
    author: str  # who records it
    kind: str  # the approval kind it becomes
    url: str  # relative to /billing; {account} / {meter} filled in
    body: dict[str, Any]
    changed: dict[str, Any]  # the same id with another change: IDEMPOTENCY_CONFLICT


CASES = [
    Case("correction", "agent1", "adjustment", "accounts/{account}/corrections",
         {"amount_fen": -1200, "reason": "meter read twice in March"}, {"amount_fen": -1300}),
    Case("correction_by_manager", "manager1", "adjustment", "accounts/{account}/corrections",
         {"amount_fen": 800, "reason": "charged twice on the 3rd"}, {"amount_fen": 900}),
    Case("refund", "manager1", "refund", "accounts/{account}/refunds",
         {"amount_fen": 3000, "reason": "moving away, cash paid back"}, {"amount_fen": 3100}),
    Case("purchase_count", "agent1", "purchase_count", "meters/{meter}/purchase-count",
         {"new_count": 9, "expected_count": 7, "reason": "two card top-ups missing"},
         {"new_count": 10}),
    Case("purchase_count_by_manager", "manager1", "purchase_count",
         "meters/{meter}/purchase-count",
         {"new_count": 9, "expected_count": 7, "reason": "card re-issued"}, {"new_count": 10}),
]


@pytest.fixture(autouse=True)
def _opened(db: Database, world: World) -> None:
    open_all(db)


def _url(case: Case, world: World, acc: str = "acc1") -> str:
    meter = {"acc1": "m1", "acc2": "m2", "acc3": "m3"}[acc]
    return f"{B}/" + case.url.format(account=world.accounts[acc].id,
                                     meter=world.meters[meter].id)


def _second_manager(as_user: Any, db: Database, world: World) -> Api:
    """Another manager of station 1 (the world has one): the second pair of eyes."""
    user_id = add_user(db, "manager1b", Role.MANAGER, world.stations["s1"].id)
    token, _ = make_token(secret=SECRET, sub=user_id, kind="access",
                          ttl=timedelta(minutes=15))
    return Api(as_user(None).client, token)


def _money_and_counts(db: Database, world: World) -> tuple[Any, ...]:
    acc = table_rows(db, "account", id=world.accounts["acc1"].id)[0]
    meter = table_rows(db, "meter", id=world.meters["m1"].id)[0]
    return (acc["balance_fen"], meter["purchase_count"],
            len(table_rows(db, "ledger_entry", account_id=acc["id"])),
            len(table_rows(db, "purchase_count_correction")))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_recorded_pending_then_applied_once_by_another_manager(
        as_user: Any, db: Database, world: World, case: Case) -> None:
    url = _url(case, world)
    body = {"id": new_id(), **case.body}
    before = db_snapshot(db, exclude=RECORDING)
    req = ok(as_user(case.author).post(url, json=body), 202)
    assert (req["id"], req["kind"], req["status"], req["duplicate"], req["requested_by"]) == (
        body["id"], case.kind, "pending", False, world.user(case.author).id)
    # nothing changed but the pending request (and its audit entry)
    assert db_snapshot(db, exclude=RECORDING) == before
    (row,) = table_rows(db, "approval_request")
    assert (row["id"], row["status"]) == (body["id"], "pending")
    assert [a["action"] for a in table_rows(db, "audit_log", entity_id=req["id"])] == [
        "approval.request"]

    # sent again (a lost answer): the same request, nothing new
    again = ok(as_user(case.author).post(url, json=body), 200)
    assert (again["id"], again["status"], again["duplicate"]) == (req["id"], "pending", True)
    # the same id for another change is refused
    refused(as_user(case.author).post(url, json={**body, **case.changed}), 409,
            "IDEMPOTENCY_CONFLICT")
    assert len(table_rows(db, "approval_request")) == 1

    # the author cannot approve their own (a manager: APPROVAL_OWN_REQUEST, zh and en; an
    # agent approves nothing at all), and that changes nothing at all
    still = db_snapshot(db)
    if case.author.startswith("manager"):
        refused(as_user(case.author).post(f"{A}/{req['id']}/approve", json={}), 403,
                "APPROVAL_OWN_REQUEST")
        zh = refused(as_user(case.author, "zh").post(f"{A}/{req['id']}/approve", json={}),
                     403, "APPROVAL_OWN_REQUEST")
        assert "不能审批自己" in zh["message"]
        refused(as_user(case.author).post(f"{A}/{req['id']}/reject", json={"reason": "x"}),
                403, "APPROVAL_OWN_REQUEST")
    else:
        refused(as_user(case.author).post(f"{A}/{req['id']}/approve", json={}), 403,
                "FORBIDDEN")
    assert db_snapshot(db) == still

    # another manager of the station approves: applied now, exactly once
    other = _second_manager(as_user, db, world)
    balance0, count0, entries0, corrections0 = _money_and_counts(db, world)
    done = ok(other.post(f"{A}/{req['id']}/approve", json={"reason": "checked"}))
    assert done["status"] == "approved" and done["decided_by_name"] == "Manager1B"
    ok(other.post(f"{A}/{req['id']}/approve", json={}))  # again: nothing more
    ok(as_user(case.author).post(url, json=body), 200)  # resent after: nothing more
    balance1, count1, entries1, corrections1 = _money_and_counts(db, world)
    if case.kind == "purchase_count":
        assert (count0, count1, corrections1 - corrections0, entries1) == (7, 9, 1, entries0)
        (corr,) = table_rows(db, "purchase_count_correction")
        assert (corr["id"], corr["old_count"], corr["new_count"], corr["actor_id"]) == (
            req["id"], 7, 9, world.user(case.author).id)  # recorded by the author
        applied = "meter.purchase_count_correct"
    else:
        delta = case.body["amount_fen"] * (-1 if case.kind == "refund" else 1)
        assert (balance1 - balance0, entries1 - entries0, count1) == (delta, 1, count0)
        (entry,) = table_rows(db, "ledger_entry", source_id=req["id"])
        assert entry["id"] == done["result_id"] and entry["reason"] == case.body["reason"]
        data = json.loads(entry["data"]) if isinstance(entry["data"], str) else entry["data"]
        assert data == {"approval_id": req["id"], "requested_by": world.user(case.author).id}
        applied = f"ledger.{'refund' if case.kind == 'refund' else 'correction'}"
    # the audit names both: who recorded it, who approved it (and the change itself)
    trail = {a["action"]: a["actor_id"] for a in table_rows(db, "audit_log")
             if a["entity_id"] == req["id"] or a["action"] == applied}
    approver = table_rows(db, "user", username="manager1b")[0]["id"]
    assert trail == {"approval.request": world.user(case.author).id,
                     "approval.approve": approver, applied: approver}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_rejected_request_changes_nothing(as_user: Any, db: Database, world: World,
                                            case: Case) -> None:
    before = _money_and_counts(db, world)
    req = ok(as_user(case.author).post(_url(case, world), json={"id": new_id(), **case.body}),
             202)
    other = _second_manager(as_user, db, world)
    refused(other.post(f"{A}/{req['id']}/reject", json={}), 422, "WO_REASON_REQUIRED")
    out = ok(other.post(f"{A}/{req['id']}/reject", json={"reason": "no receipt shown"}))
    assert (out["status"], out["decision_reason"]) == ("rejected", "no receipt shown")
    assert _money_and_counts(db, world) == before
    refused(as_user("admin").post(f"{A}/{req['id']}/approve", json={}), 409,
            "APPROVAL_CLOSED")
    assert _money_and_counts(db, world) == before


BAD: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("correction", "agent1", {"amount_fen": 0}, 422, "BILLING_CORRECTION_INVALID"),
    ("correction", "agent1", {"amount_fen": 10**8}, 422, "BILLING_CORRECTION_INVALID"),
    ("correction", "agent1", {"reason": " "}, 422, "VALIDATION_ERROR"),
    ("correction", "crew1", {}, 403, "FORBIDDEN"),
    ("refund", "manager1", {"amount_fen": 999_999}, 422, "BILLING_REFUND_EXCEEDS_BALANCE"),
    ("refund", "manager1", {"amount_fen": -5}, 422, "BILLING_CORRECTION_INVALID"),
    ("refund", "agent1", {}, 403, "FORBIDDEN"),
    ("purchase_count", "agent1", {"new_count": 7, "expected_count": None}, 422,
     "PURCHASE_COUNT_UNCHANGED"),
    ("purchase_count", "agent1", {"new_count": 70_000}, 422, "PURCHASE_COUNT_INVALID"),
    ("purchase_count", "agent1", {"expected_count": 6}, 409, "PURCHASE_COUNT_STALE"),
    ("purchase_count", "dispatcher1", {}, 403, "FORBIDDEN"),
]


@pytest.mark.parametrize(("name", "who", "change", "status", "code"), BAD,
                         ids=[f"{b[0]}-{b[4]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_refused_with_a_code_and_nothing_is_stored(
        as_user: Any, db: Database, world: World, name: str, who: str,
        change: dict[str, Any], status: int, code: str) -> None:
    case = next(c for c in CASES if c.name == name)
    before = db_snapshot(db)
    r = as_user(who, "zh").post(_url(case, world),
                                json={"id": new_id(), **case.body, **change})
    body = refused(r, status, code)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body  # in Chinese
    assert db_snapshot(db) == before
    assert table_rows(db, "approval_request") == []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_another_stations_account_or_meter_is_not_found(as_user: Any, db: Database,
                                                        world: World, case: Case) -> None:
    """acc3 and its meter m3 are station 2's: station 1's staff cannot reach them."""
    before = db_snapshot(db)
    r = as_user(case.author).post(_url(case, world, "acc3"),
                                  json={"id": new_id(), **case.body})
    refused(r, 404, "METER_NOT_FOUND" if case.kind == "purchase_count" else
            "ACCOUNT_NOT_FOUND")
    assert db_snapshot(db) == before


def test_the_phone_sees_its_pending_request_and_a_second_one_for_the_meter_is_refused(
        as_user: Any, db: Database, world: World) -> None:
    """The agent lists the requests they recorded; another request for the same meter
    while one waits is APPROVAL_DUPLICATE (a resend of the same id is not)."""
    url = f"{B}/meters/{world.meters['m1'].id}/purchase-count"
    req = ok(as_user("agent1").post(url, json={"id": new_id(), "new_count": 9,
                                                "reason": "card top-ups"}), 202)
    assert req["meter_no"] == world.meters["m1"].meter_no
    mine = ok(as_user("agent1").get(A, params={"status": "pending"}))
    assert [r["id"] for r in mine["items"]] == [req["id"]]
    refused(as_user("manager1").post(url, json={"id": new_id(), "new_count": 8,
                                                "reason": "recount"}), 409,
            "APPROVAL_DUPLICATE")
    assert len(table_rows(db, "approval_request")) == 1
