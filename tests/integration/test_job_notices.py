"""A customer's inbox through a whole repair: dispatched (with the crew's name), set off,
arrived, resolved (confirm and rate, or "still not fixed"), reopened — newest first, each
once however often an op is retried, in zh and en; read/unread per message."""

from __future__ import annotations

from typing import Any

from shared.ids import new_id
from tests.conftest import table_rows

WO = "/api/v1/work-orders"
INBOX = "/api/v1/notifications"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def kinds(api: Any, lang: str = "en") -> list[dict[str, Any]]:
    return [n for n in ok(api.get(INBOX, params={"lang": lang}))
            if n["kind"].startswith("job_")]


def test_inbox_follows_a_repair_newest_first(as_user, world):
    customer, dispatcher, crew = as_user("customer1"), as_user("dispatcher1"), as_user("crew1")
    acc1 = world.accounts["acc1"]
    order = ok(customer.post(WO, json={"account_id": acc1.id,
                                       "description": "No power since noon"}), 201)
    oid, code = order["id"], order["code"]
    assert kinds(customer) == []  # reporting says nothing yet
    ok(dispatcher.post(f"{WO}/{oid}/dispatch", json={"assignee_id": world.users["crew1"].id}))
    ok(crew.post(f"{WO}/{oid}/accept", json={}))  # accepting is not news to the customer
    event_id = new_id()
    ok(crew.post(f"{WO}/{oid}/start-travel", json={"event_id": event_id}))
    ok(crew.post(f"{WO}/{oid}/start-travel", json={"event_id": event_id}))  # a retry
    ok(crew.post(f"{WO}/{oid}/arrive", json={"gps": None}))
    ok(crew.post(f"{WO}/{oid}/resolve", json={"resolution": "Replaced the fuse"}))
    ok(customer.post(f"{WO}/{oid}/reopen", json={"reason": "Lights still flicker"}))

    notes = kinds(customer)
    assert [n["kind"] for n in notes] == ["job_reopened", "job_resolved", "job_arrived",
                                          "job_en_route", "job_dispatched"]
    crew_name = world.users["crew1"].display_name
    by_kind = {n["kind"]: n for n in notes}
    assert crew_name in by_kind["job_dispatched"]["body"]
    assert code in by_kind["job_dispatched"]["body"]
    assert "Replaced the fuse" in by_kind["job_resolved"]["body"]
    assert "Still not fixed" in by_kind["job_resolved"]["body"]
    assert "Lights still flicker" in by_kind["job_reopened"]["body"]
    assert all(n["data"]["work_order_id"] == oid and n["read_at"] is None for n in notes)
    zh = {n["kind"]: n for n in kinds(customer, "zh")}
    assert zh["job_arrived"]["title"] == "抢修人员已到达"
    assert "仍未修好" in zh["job_resolved"]["body"]

    # read / unread
    ok(customer.post(f"{INBOX}/{by_kind['job_arrived']['id']}/read"))
    unread = ok(customer.get(INBOX, params={"unread": "true"}))
    assert by_kind["job_arrived"]["id"] not in {n["id"] for n in unread}
    assert by_kind["job_resolved"]["id"] in {n["id"] for n in unread}

    # another customer sees none of it, and cannot mark it read
    other = as_user("customer2")
    assert kinds(other) == []
    r = other.post(f"{INBOX}/{by_kind['job_resolved']['id']}/read")
    assert r.status_code == 404


def test_a_job_without_an_account_tells_nobody(as_user, world, db):
    dispatcher = as_user("dispatcher1")
    area = world.areas["town"]
    order = ok(dispatcher.post(WO, json={"kind": "fault_repair", "area_id": area.id,
                                         "description": "Pole leaning on the road"}), 201)
    ok(dispatcher.post(f"{WO}/{order['id']}/dispatch",
                       json={"assignee_id": world.users["crew1"].id}))
    assert [n for n in table_rows(db, "notification") if n["kind"].startswith("job_")] == []
