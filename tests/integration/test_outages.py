"""Planned outage notices: the office publishes one for areas, dates and a reason; the
customers of those areas (only) are told in their inbox and get it on their phones by
sync; a bad or foreign notice is refused with nothing stored; cancelling tells them again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.timeutil import utcnow
from tests.conftest import db_snapshot, table_rows
from tests.integration.test_sync_server import _pull_all

OUT = "/api/v1/outages"


def body(world: Any, *areas: str, hours: tuple[float, float] = (20, 28),
         reason: str = "更换 10 kV 开关 / replacing a 10 kV switch") -> dict[str, Any]:
    now = utcnow()
    return {"area_ids": [world.areas[a].id for a in areas],
            "starts_at": (now + timedelta(hours=hours[0])).isoformat(),
            "ends_at": (now + timedelta(hours=hours[1])).isoformat(), "reason": reason}


def refused(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_publish_tells_the_areas_customers_and_syncs_to_their_phones(as_user, world):
    dispatcher = as_user("dispatcher1")
    customer1, customer2 = as_user("customer1"), as_user("customer2", "zh")
    r = dispatcher.post(OUT, json=body(world, "town"))
    assert r.status_code == 201, r.text
    outage = r.json()
    assert outage["accounts_told"] == 1 and outage["status"] == "published"
    assert outage["areas"] == [{"id": world.areas["town"].id, "name": "Area town"}]

    notes = [n for n in customer1.get("/api/v1/notifications").json()
             if n["kind"] == "outage_planned"]
    assert len(notes) == 1
    assert "Area town" in notes[0]["body"] and "replacing a 10 kV switch" in notes[0]["body"]
    assert notes[0]["data"]["outage_id"] == outage["id"]
    assert [n for n in customer2.get("/api/v1/notifications").json()
            if n["kind"].startswith("outage")] == []  # rural area: not concerned

    rows, cursor1 = _pull_all(customer1)
    assert ("outage", outage["id"]) in rows
    assert rows[("outage", outage["id"])]["area_ids"] == [world.areas["town"].id]
    rows2, cursor2 = _pull_all(customer2)
    assert not [k for k in rows2 if k[0] == "outage"]
    assert [o["id"] for o in customer1.get(OUT).json()] == [outage["id"]]
    assert customer2.get(OUT).json() == []

    # a second notice, for both areas, arrives incrementally on both phones
    r = dispatcher.post(OUT, json=body(world, "town", "rural", hours=(30, 34)))
    second = r.json()
    assert r.status_code == 201 and second["accounts_told"] == 2
    rows, _ = _pull_all(customer1, cursor1)
    assert ("outage", second["id"]) in rows
    rows2, _ = _pull_all(customer2, cursor2)
    assert ("outage", second["id"]) in rows2
    zh = [n for n in customer2.get("/api/v1/notifications", params={"lang": "zh"}).json()
          if n["kind"] == "outage_planned"]
    assert zh[0]["title"] == "计划停电通知" and "Area town、Area rural" in zh[0]["body"]

    # cancelling tells them again, with the reason, and the phones get the cancelled row
    r = dispatcher.post(f"{OUT}/{second['id']}/cancel",
                        json={"reason": "Storm forecast: the crew is needed on call."})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert r.json()["cancel_reason"] == "Storm forecast: the crew is needed on call."
    rows2, _ = _pull_all(customer2, cursor2)
    assert rows2[("outage", second["id"])]["status"] == "cancelled"
    (told,) = [n for n in customer2.get("/api/v1/notifications").json()
               if n["kind"] == "outage_cancelled"]
    assert told["body_en"].endswith("is cancelled: Storm forecast: the crew is needed on "
                                    "call.")  # one full stop, not two
    assert "原因：Storm forecast: the crew is needed on call。" in told["body_zh"]


def test_cancelling_needs_a_reason_checked_by_the_server_and_it_is_audited(
        as_user, world, db):
    """Issue 15: no reason, a blank one or one too long is refused with a coded error and
    nothing changes; a good one is stored, audited and told to the customers."""
    dispatcher = as_user("dispatcher1")
    oid = dispatcher.post(OUT, json=body(world, "town")).json()["id"]
    before = db_snapshot(db)
    for bad in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x"},
                {"reason": "y" * 301}):
        refused(dispatcher.post(f"{OUT}/{oid}/cancel", json=bad), 422,
                "OUTAGE_CANCEL_REASON_INVALID")
    r = dispatcher.post(f"{OUT}/{oid}/cancel", json={}, headers={"Accept-Language": "zh"})
    assert "取消停电的原因" in r.json()["message"]
    assert db_snapshot(db) == before  # still published, nobody told anything

    r = dispatcher.post(f"{OUT}/{oid}/cancel", json={"reason": "  施工改期  "})
    assert (r.status_code, r.json()["cancel_reason"]) == (200, "施工改期")
    (audit,) = table_rows(db, "audit_log", action="outage.cancel", entity_id=oid)
    assert audit["reason"] == "施工改期" and audit["actor_id"] == world.users["dispatcher1"].id
    (told,) = [n for n in as_user("customer1").get("/api/v1/notifications").json()
               if n["kind"] == "outage_cancelled"]
    assert told["body_zh"].endswith("已取消，原因：施工改期。")
    assert told["body_en"].endswith("is cancelled: 施工改期.")
    # cancelling again changes nothing (and needs no new reason)
    again = dispatcher.post(f"{OUT}/{oid}/cancel", json={"reason": "again"})
    assert (again.status_code, again.json()["cancel_reason"]) == (200, "施工改期")


def test_bad_or_foreign_notices_are_refused_and_store_nothing(as_user, world, db):
    before = db_snapshot(db)
    dispatcher1, dispatcher2 = as_user("dispatcher1"), as_user("dispatcher2")
    refused(dispatcher1.post(OUT, json=body(world, "town", hours=(5, 3))), 422,
            "OUTAGE_INVALID")
    refused(dispatcher1.post(OUT, json=body(world, "town", hours=(-5, -1))), 422,
            "OUTAGE_INVALID")
    refused(dispatcher1.post(OUT, json=body(world, "town", hours=(1, 100))), 422,
            "OUTAGE_INVALID")
    refused(dispatcher1.post(OUT, json=body(world, "town", reason=" ")), 422,
            "OUTAGE_INVALID")
    refused(dispatcher1.post(OUT, json={**body(world, "town"), "area_ids": ["nope"]}), 404,
            "AREA_NOT_FOUND")
    refused(dispatcher1.post(OUT, json=body(world, "town", "remote")), 422, "OUTAGE_INVALID")
    refused(dispatcher2.post(OUT, json=body(world, "town")), 403, "FORBIDDEN")
    refused(as_user("customer1").post(OUT, json=body(world, "town")), 403, "FORBIDDEN")
    refused(as_user("crew1").post(OUT, json=body(world, "town")), 403, "FORBIDDEN")
    assert db_snapshot(db) == before  # every refusal left the data as it was
    r = dispatcher1.post(OUT, json=body(world, "town"))
    assert r.status_code == 201
    oid = r.json()["id"]
    refused(dispatcher2.post(f"{OUT}/{oid}/cancel", json={}), 404, "OUTAGE_NOT_FOUND")
    refused(as_user("customer1").post(f"{OUT}/{oid}/cancel", json={}), 403, "FORBIDDEN")
