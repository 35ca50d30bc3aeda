"""What a push answers and a pull pages (issue 8): ``row: null`` out of scope (item 3),
the reassigned crew hears why (item 9), the life of every status (item 10), ``has_more``
only when there is more (item 12)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.conftest import svc_act, table_rows
from tests.integration.sync_kit import dispatched_job, op, push

NOTE, ACCEPT, ARRIVE = ("work_order.add_note@1", "work_order.accept@1",
                        "work_order.arrive@1")


def _reassign(db: Any, world: Any, oid: str, to: str = "crew1b") -> None:
    svc_act(db, world, "dispatcher1", oid, "reassign", assignee_id=world.user(to).id,
            reason="crew1 is needed elsewhere")


def test_item3_a_refused_op_on_a_job_out_of_scope_answers_row_null(as_user, world,
                                                                   db) -> None:
    """crew1 still *sees* the job (their station's) through the API, but their phone no
    longer holds it: the refusal carries no row, so the phone removes its copy."""
    oid = dispatched_job(db, world)
    _reassign(db, world, oid)
    crew1 = as_user("crew1")
    assert crew1.get(f"/api/v1/work-orders/{oid}").status_code == 200  # visible online
    (result,) = push(crew1, [op(1, ACCEPT, oid)])
    assert result["status"] == "rejected"
    # no row, entity or version: each is null, and a null field is left out of the answer
    assert not {"row", "entity", "version"} & result.keys(), result
    (held,) = push(as_user("crew1b"), [op(1, ARRIVE, oid, device="device-crew1b-01")],
                   device="device-crew1b-01")
    assert held["status"] == "rejected"  # in scope: the row comes back to put in place
    assert held["row"]["id"] == oid and held["row"]["assignee_id"] == world.user("crew1b").id


def test_item9_a_reassigned_job_the_crew_had_accepted_is_refused_not_assignee(
        as_user, world, db) -> None:
    oid = dispatched_job(db, world)
    crew1 = as_user("crew1")
    accept = op(1, ACCEPT, oid)
    assert push(crew1, [accept])[0]["status"] == "applied"
    _reassign(db, world, oid)
    svc_act(db, world, "crew1b", oid, "accept")
    travel = op(2, "work_order.start_travel@1", oid, lane_prev=accept["op_id"])
    arrive = op(3, ARRIVE, oid, lane_prev=travel["op_id"])
    first, second = push(crew1, [travel, arrive])
    assert (first["status"], first["code"]) == ("rejected", "WO_NOT_ASSIGNEE"), first
    assert "assign" in first["message"].lower()
    assert second["code"] == "SYNC_LANE_PREDECESSOR_REJECTED"
    assert table_rows(db, "work_order", id=oid)[0]["status"] == "accepted"
    # the new crew's own refusals still say what the status does not allow
    (again,) = push(as_user("crew1b"), [op(1, ACCEPT, oid, device="device-crew1b-01")],
                    device="device-crew1b-01")
    assert again["code"] == "WO_TRANSITION_NOT_ALLOWED"


def test_item10_every_status_has_a_documented_life(as_user, world, db) -> None:
    """rejected is final and recorded; a held op (rejected, predecessor rejected) is not
    recorded: re-linked it is decided on its own; deferred is not recorded either."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    arrive = op(1, ARRIVE, oid)  # not accepted yet: refused
    note = op(2, NOTE, oid, {"text": "gate locked"}, lane_prev=arrive["op_id"])
    later = op(3, NOTE, oid, {"text": "waiting"}, lane_prev="0190f0f4-8a1b-7c3e-9a55-"
                                                             "3f0e3b1a2c4c")
    rejected, held, deferred = push(crew, [arrive, note, later])
    assert (rejected["status"], rejected["code"]) == ("rejected", "WO_TRANSITION_NOT_ALLOWED")
    assert (held["status"], held["code"]) == ("rejected", "SYNC_LANE_PREDECESSOR_REJECTED")
    assert held["details"] == {"predecessor": arrive["op_id"]}
    assert (deferred["status"], deferred["code"]) == ("deferred",
                                                      "SYNC_LANE_PREDECESSOR_MISSING")
    assert [r["op_id"] for r in table_rows(db, "applied_op")] == [arrive["op_id"]]
    # final: the same rejection however often it is sent
    assert push(crew, [arrive])[0]["code"] == "WO_TRANSITION_NOT_ALLOWED"
    # held: sent again as it was, held again; re-linked (lane_prev = null), decided
    assert push(crew, [note])[0]["code"] == "SYNC_LANE_PREDECESSOR_REJECTED"
    (relinked,) = push(crew, [{**note, "lane_prev": None}])
    assert relinked["status"] == "applied"
    # deferred: once its predecessor is known, applied
    assert push(crew, [{**later, "lane_prev": note["op_id"]}])[0]["status"] == "applied"


def _pages(api: Any, limit: int) -> tuple[int, int, list[bool]]:
    rows, pages, more, cursor = 0, 0, [], None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        body = api.get("/api/v1/sync/pull", params=params).json()
        pages += 1
        rows += len(body["changes"])
        more.append(body["has_more"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return rows, pages, more
        assert pages < 200


@pytest.mark.parametrize("who", ["crew1", "customer1", "dispatcher1"])
def test_item12_has_more_is_false_when_the_page_holds_everything(as_user, world, db,
                                                                 who: str) -> None:
    for _ in range(3):
        dispatched_job(db, world)
    api = as_user(who)
    total, pages, more = _pages(api, 5000)
    assert total > 0 and pages == 1 and more == [False]
    for limit in (1, 2, 3, total - 1, total):
        if limit < 1:
            continue
        rows, pages, more = _pages(api, limit)
        assert rows == total
        assert pages == math.ceil(total / limit), (limit, more)  # no empty last page
        assert more[-1] is False and all(more[:-1])


def test_item12_changes_made_during_the_download_come_in_the_same_pass(as_user, world,
                                                                       db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    first = crew.get("/api/v1/sync/pull", params={"limit": 2}).json()
    assert first["has_more"] is True
    svc_act(db, world, "crew1", oid, "accept")  # committed after the download began
    cursor, seen = first["next_cursor"], []
    while True:
        body = crew.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 50}).json()
        seen += [c for c in body["changes"] if c["entity"] == "work_order"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen[-1]["row"]["status"] == "accepted"
    again = crew.get("/api/v1/sync/pull", params={"cursor": cursor}).json()
    assert (again["changes"], again["has_more"]) == ([], False)
