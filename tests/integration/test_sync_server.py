"""Server side of sync over HTTP: push results, pull pages, scope moves, tombstones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import PROTOCOL_VERSION

DEVICE = "device-crew1-0001"


def _op(seq: int, type_: str, order_id: str, payload: dict[str, Any] | None = None,
        lane_prev: str | None = None, device: str = DEVICE) -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"work_order:{order_id}", "lane_prev": lane_prev, "type": type_,
            "entity_id": order_id, "payload": payload or {}, "photos": [],
            "created_at": utcnow().isoformat()}


def _push(api, ops, device: str = DEVICE):
    r = api.post("/api/v1/sync/push", json={"protocol": PROTOCOL_VERSION, "device_id": device,
                                            "sent_at": utcnow().isoformat(), "ops": ops})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _pull_all(api, cursor=None):
    rows: dict[tuple[str, str], Any] = {}
    while True:
        params = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        r = api.get("/api/v1/sync/pull", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        for ch in body["changes"]:
            if ch["deleted"]:
                rows.pop((ch["entity"], ch["id"]), None)
            else:
                rows[(ch["entity"], ch["id"])] = ch["row"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return rows, cursor


def _dispatched_job(as_user, world, crew="crew1"):
    disp = as_user("dispatcher1")
    r = disp.post("/api/v1/work-orders", json={"account_id": world.accounts["acc1"].id,
                                               "description": "No power since noon"})
    assert r.status_code == 201, r.text
    oid = r.json()["id"]
    r = disp.post(f"/api/v1/work-orders/{oid}/dispatch",
                  json={"assignee_id": world.user(crew).id})
    assert r.status_code == 200, r.text
    return oid


def test_fresh_pull_then_offline_ops_apply_once(as_user, world):
    oid = _dispatched_job(as_user, world)
    crew = as_user("crew1")
    rows, cursor = _pull_all(crew)
    assert rows[("work_order", oid)]["status"] == "dispatched"
    assert ("account", world.accounts["acc1"].id) in rows
    assert ("account", world.accounts["acc2"].id) not in rows
    assert "id_card_digest" not in rows[("account", world.accounts["acc1"].id)]
    accept = _op(1, "work_order.accept@1", oid)
    arrive = _op(2, "work_order.arrive@1", oid,
                 {"gps": {"lat": 28.1, "lon": 112.9, "accuracy_m": 8}}, accept["op_id"])
    resolve = _op(3, "work_order.resolve@1", oid, {"resolution": "Replaced fuse"},
                  arrive["op_id"])
    results = _push(crew, [accept, arrive, resolve])
    assert [r["status"] for r in results] == ["applied"] * 3
    assert results[-1]["version"] == 5  # report 1, dispatch 2, accept/arrive/resolve 3-5
    again = _push(crew, [accept, arrive, resolve])
    assert [r["status"] for r in again] == ["duplicate"] * 3
    detail = as_user("dispatcher1").get(f"/api/v1/work-orders/{oid}").json()
    assert [e["action"] for e in detail["timeline"]] == [
        "report", "dispatch", "accept", "arrive", "resolve"]
    rows, cursor = _pull_all(crew, cursor)
    assert rows[("work_order", oid)]["status"] == "resolved"


def test_rejection_returns_server_row_and_holds_lane(as_user, world):
    oid = _dispatched_job(as_user, world)
    crew = as_user("crew1")
    arrive = _op(1, "work_order.arrive@1", oid)  # not accepted yet: refused
    note = _op(2, "work_order.add_note@1", oid, {"text": "gate locked"}, arrive["op_id"])
    results = _push(crew, [arrive, note])
    assert results[0]["status"] == "rejected"
    assert results[0]["code"] == "WO_TRANSITION_NOT_ALLOWED"
    assert results[0]["row"]["status"] == "dispatched"
    assert results[1]["code"] == "SYNC_LANE_PREDECESSOR_REJECTED"
    # the rejected op stays rejected when sent again (recorded)
    assert _push(crew, [arrive])[0]["status"] == "rejected"


def test_op_id_reused_with_other_content_is_refused(as_user, world):
    oid = _dispatched_job(as_user, world)
    crew = as_user("crew1")
    op = _op(1, "work_order.add_note@1", oid, {"text": "one"})
    assert _push(crew, [op])[0]["status"] == "applied"
    op["payload"] = {"text": "two"}
    assert _push(crew, [op])[0]["code"] == "SYNC_OP_ID_REUSED"


def test_reassignment_moves_job_between_phones(as_user, world):
    oid = _dispatched_job(as_user, world)
    crew1, crew1b = as_user("crew1"), as_user("crew1b")
    rows1, cur1 = _pull_all(crew1)
    rows2, cur2 = _pull_all(crew1b)
    assert ("work_order", oid) in rows1 and ("work_order", oid) not in rows2
    r = as_user("dispatcher1").post(f"/api/v1/work-orders/{oid}/reassign", json={
        "assignee_id": world.user("crew1b").id, "reason": "crew1 is on another job"})
    assert r.status_code == 200, r.text
    rows1b, _ = _pull_all(crew1, cur1)
    rows1.update(rows1b)
    changes = crew1.get("/api/v1/sync/pull", params={"cursor": cur1}).json()["changes"]
    gone = {(c["entity"], c["id"]) for c in changes if c["deleted"]}
    assert ("work_order", oid) in gone
    assert ("account", world.accounts["acc1"].id) in gone
    rows2b, _ = _pull_all(crew1b, cur2)
    assert rows2b[("work_order", oid)]["assignee_id"] == world.user("crew1b").id
    assert any(k[0] == "work_order_event" for k in rows2b)


def test_bad_cursor_resets_and_other_users_cursor_is_refused(as_user, world):
    _dispatched_job(as_user, world)
    _, cursor = _pull_all(as_user("crew1"))
    r = as_user("crew1b").get("/api/v1/sync/pull", params={"cursor": cursor})
    assert r.json()["reset"] is True
    r = as_user("crew1").get("/api/v1/sync/pull", params={"cursor": cursor[:-3] + "abc"})
    assert r.json()["reset"] is True


def test_bad_pull_parameters_are_refused_with_the_field_and_nothing_changes(as_user, world):
    crew = as_user("crew1", lang="zh")
    rows, cursor = _pull_all(crew)
    for params, field in (({"limit": 0}, "limit"), ({"limit": 5001}, "limit"),
                          ({"limit": "ten"}, "limit"), ({"wait": 26}, "wait"),
                          ({"wait": -1}, "wait"), ({"protocol": "x"}, "protocol"),
                          ({"cursor": "c" * 2001}, "cursor")):
        r = crew.get("/api/v1/sync/pull", params=params)
        assert r.status_code == 422, (params, r.text)
        body = r.json()
        assert body["code"] == "VALIDATION_ERROR" and field in body["message"], body
        assert [f["loc"] for f in body["details"]["fields"]] == [["query", field]]
    r = crew.get("/api/v1/sync/pull", params={"limit": 0},
                 headers={"X-Device-ID": "no spaces!"})
    assert sorted(tuple(f["loc"]) for f in r.json()["details"]["fields"]) == [
        ("header", "X-Device-ID"), ("query", "limit")]
    # the same phone, asking properly, still gets exactly what it had
    again, _ = _pull_all(crew)
    assert again == rows
    same = crew.get("/api/v1/sync/pull", params={"cursor": cursor, "limit": 5000, "wait": 0})
    assert same.status_code == 200 and same.json()["changes"] == []


def test_customer_reports_offline_and_sees_only_own(as_user, world):
    cust = as_user("customer1")
    oid = new_id()
    op = _op(1, "work_order.report@1", oid, {"kind": "fault_repair",
             "account_id": world.accounts["acc1"].id, "description": "Sparks at the meter"},
             device="device-cust1-0001")
    op["created_at"] = (utcnow() - timedelta(minutes=30)).isoformat()
    res = _push(cust, [op], device="device-cust1-0001")
    assert res[0]["status"] == "applied", res
    rows, _ = _pull_all(cust)
    assert rows[("work_order", oid)]["description"] == "Sparks at the meter"
    accounts = {k[1] for k in rows if k[0] == "account"}
    assert accounts == {world.accounts["acc1"].id}


def test_field_agent_phone_holds_the_station_accounts(as_user, world):
    """An agent takes cash offline in the villages: every account of their station is on
    the phone, none of another station."""
    rows, _ = _pull_all(as_user("agent1"))
    accounts = {k[1] for k in rows if k[0] == "account"}
    assert accounts == {world.accounts["acc1"].id, world.accounts["acc2"].id}
    meters = {k[1] for k in rows if k[0] == "meter"}
    assert world.meters["m1"].id in meters and world.meters["m3"].id not in meters
