"""The review queue: resolved jobs (by the sample rules, data) that a manager approves or
returns with a reason; returning reopens the job through the work-order rules, and the
crew's device downloads it as reopened with the reason (like any synced change)."""

from __future__ import annotations

from typing import Any

from server.db import Database
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.factories import World
from tests.integration.office.board_kit import ok, refused

R = "/api/v1/supervision/reviews"


def resolved_job(db: Database, world: World, text: str = "fuse", crew: str = "crew1",
                 dispatcher: str = "dispatcher1", acc: str = "acc1") -> str:
    oid = svc_report(db, world, dispatcher, account_id=world.accounts[acc].id,
                     description=text)
    svc_act(db, world, dispatcher, oid, "dispatch", assignee_id=world.user(crew).id)
    for action, data in (("accept", {}), ("arrive", {"gps": None}),
                         ("resolve", {"resolution": f"fixed: {text}"})):
        svc_act(db, world, crew, oid, action, **data)
    return oid


def _pull(api: Any, cursor: str | None) -> tuple[list[dict[str, Any]], str]:
    changes: list[dict[str, Any]] = []
    while True:
        body = ok(api.get("/api/v1/sync/pull", params={"cursor": cursor} if cursor else {}))
        changes += body["changes"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return changes, cursor


def test_a_returned_job_is_reopened_with_the_reason_and_reaches_the_crew(
        as_user: Any, db: Database, world: World) -> None:
    done = resolved_job(db, world, "fuse")
    other = resolved_job(db, world, "far away", crew="crew2", dispatcher="dispatcher2",
                         acc="acc3")
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
               description="still open")
    page = ok(as_user("manager1").get(R))
    assert [j["id"] for j in page["items"]] == [done]  # its station's resolved jobs only
    assert page["items"][0]["assignee_name"] == "Crew1"
    assert page["rules"] == [{"kind": "*", "percent": 100, "version": 1}]
    assert {j["id"] for j in ok(as_user("admin").get(R))["items"]} == {done, other}
    refused(as_user("dispatcher1").get(R), 403, "FORBIDDEN")
    refused(as_user("crew1").post(f"{R}/{done}", json={"outcome": "approved"}), 403,
            "FORBIDDEN")
    refused(as_user("manager1").post(f"{R}/{other}", json={"outcome": "approved"}), 404,
            "WORK_ORDER_NOT_FOUND")

    before = db_snapshot(db)
    refused(as_user("manager1").post(f"{R}/{done}", json={"outcome": "returned"}), 422,
            "WO_REASON_REQUIRED")
    assert db_snapshot(db) == before

    # the crew's phone has synced everything so far
    crew = as_user("crew1")
    cursor = _pull(crew, None)[1]
    out = ok(as_user("manager1").post(f"{R}/{done}", json={
        "outcome": "returned", "reason": "photo of the new fuse missing"}))
    assert (out["outcome"], out["job_status"]) == ("returned", "dispatched")
    job = table_rows(db, "work_order", id=done)[0]
    assert (job["status"], job["reopen_count"], job["assignee_id"]) == (
        "dispatched", 1, world.user("crew1").id)
    ev = [e for e in table_rows(db, "work_order_event", work_order_id=done)
          if e["action"] == "reopen"]
    assert len(ev) == 1 and "photo of the new fuse missing" in ev[0]["data"]
    assert ok(as_user("manager1").get(R))["total"] == 0
    # the crew's next download brings the job back, reopened, with the reason
    changes, _ = _pull(crew, cursor)
    rows = {(c["entity"], c["id"]): c["row"] for c in changes}
    assert rows[("work_order", done)]["status"] == "dispatched"
    reopen = [r for (entity, _), r in rows.items()
              if entity == "work_order_event" and r["action"] == "reopen"]
    assert reopen[0]["data"]["reason"] == "photo of the new fuse missing"

    # resolved again: back in the queue; this time approved (no reopen)
    for action, data in (("accept", {}), ("arrive", {"gps": None}),
                         ("resolve", {"resolution": "fuse replaced, photo added"})):
        svc_act(db, world, "crew1", done, action, **data)
    assert [j["id"] for j in ok(as_user("manager1").get(R))["items"]] == [done]
    ok(as_user("manager1").post(f"{R}/{done}", json={"outcome": "approved"}))
    assert table_rows(db, "work_order", id=done)[0]["status"] == "resolved"
    refused(as_user("manager1").post(f"{R}/{done}", json={"outcome": "approved"}), 409,
            "REVIEW_NOT_PENDING")
    assert [r["outcome"] for r in table_rows(db, "job_review", work_order_id=done)] in (
        ["returned", "approved"], ["approved", "returned"])


def test_the_sample_rule_is_data(as_user: Any, db: Database, world: World) -> None:
    jobs = [resolved_job(db, world, f"job {i}") for i in range(4)]
    codes = {r["id"]: r["code"] for r in table_rows(db, "work_order")}
    ok(as_user("manager1").client.put(f"{R[:-8]}/review-rules/fault_repair",
                                      headers=as_user("manager1").headers,
                                      json={"percent": 0}))
    assert ok(as_user("manager1").get(R))["total"] == 0
    cut = sorted(int(codes[j][-2:]) for j in jobs)[2]  # the two lowest buckets
    r = as_user("manager1").client.put(f"{R[:-8]}/review-rules/fault_repair",
                                       headers=as_user("manager1").headers,
                                       json={"percent": cut})
    assert r.status_code == 200, r.text
    got = {j["id"] for j in ok(as_user("manager1").get(R))["items"]}
    assert got == {j for j in jobs if int(codes[j][-2:]) < cut} and len(got) == 2
    bad = as_user("manager1").client.put(f"{R[:-8]}/review-rules/nonsense",
                                         headers=as_user("manager1").headers,
                                         json={"percent": 5})
    assert bad.status_code == 422 and bad.json()["code"] == "VALIDATION_ERROR"
