"""Closing the loop on the server: an anomaly raises one usage-inspection job (not one a
day), dispatched to the station's crew; the crew's finding resolves it — a mapping error
moves the customer to the right area (audited), tampering opens the office's follow-up;
late data clears a collection anomaly and cancels its job nobody accepted yet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.monitoring.service import analyse
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.integration.monitoring_kit import add_monitoring, ingest, q, rows, today

SHA = "ab" * 32


def window(n: int):
    last = today() - timedelta(days=2)
    return [last - timedelta(days=n - 1 - i) for i in range(n)]


def feed(db, days, *, silent=("MTR-M1-0001",), overload=False):
    """Town reports (but the silent meters), rural's transformer overloads if asked."""
    data = []
    for d in days:
        data += rows("SUP-TOWN", d, "1.000")
        for m in ("MTR-M1-0001", "MTR-T2", "MTR-T3"):
            if m not in silent:
                data += rows(m, d, "0.300")
        data += rows("MTR-M3-0001", d, "0.100")
        rural = [11.0] * 76 + [96.0] * 9 + [11.0] * 11 if overload else [11.0] * 96
        data += rows("SUP-RURAL", d, [f"{v:.3f}" for v in rural])
        data += rows("MTR-M2-0001", d, [f"{v * 0.95:.3f}" for v in rural])  # 5 % loss
    report = ingest(db, data)
    assert report.counts["rejected"] == 0, report.rejected


def anomalies(db):
    return q(db, "SELECT a.kind, a.status, a.work_order_id, a.last_day, m.meter_no "
                 "FROM monitoring_anomaly a LEFT JOIN meter m ON m.id = a.meter_id "
                 "ORDER BY a.kind")


@pytest.fixture
def mon_db(db, world):
    return add_monitoring(db, world)


def test_anomalies_raise_one_job_each_dispatched_to_the_station_crew(mon_db, as_user):
    db, world = mon_db
    days = window(4)
    feed(db, days[:3], overload=True)
    first = analyse(db).loop
    assert first is not None and sorted(first.new) == ["collection_failing", "overload"]
    found = anomalies(db)
    assert [(a["kind"], a["meter_no"]) for a in found] == [
        ("collection_failing", "MTR-M1-0001"), ("overload", None)]
    orders = {a["kind"]: table_rows(db, "work_order", id=a["work_order_id"])[0]
              for a in found}
    failing_job, load_job = orders["collection_failing"], orders["overload"]
    assert failing_job["kind"] == "usage_inspection" and failing_job["channel"] == "monitoring"
    assert failing_job["account_id"] == world.accounts["acc1"].id
    assert failing_job["status"] == "dispatched"
    assert failing_job["assignee_id"] == world.user("crew1").id  # crews first, fewest jobs
    assert "MTR-M1-0001" in failing_job["description"]
    assert load_job["account_id"] is None and load_job["area_id"] == world.areas["rural"].id
    assert load_job["priority"] == "high" and "106.7%" in load_job["description"]  # 96/0.9/400 x 4
    # the other crew of the station had fewer open jobs by then
    assert load_job["assignee_id"] == world.user("crew1b").id

    # the crew sees it among its jobs, with the evidence, and its phone pulls it
    crew = as_user("crew1")
    pulled = crew.get("/api/v1/sync/pull", params={"limit": 1000}).json()["changes"]
    assert failing_job["id"] in {c["id"] for c in pulled if c["entity"] == "work_order"}
    other = as_user("crew2").get("/api/v1/sync/pull", params={"limit": 1000}).json()
    assert failing_job["id"] not in {c["id"] for c in other["changes"]}
    mine = crew.get("/api/v1/work-orders", params={"assignee_id": "me"}).json()["items"]
    assert [o["id"] for o in mine] == [failing_job["id"]]
    evidence = crew.get(f"/api/v1/work-orders/{failing_job['id']}/inspection").json()
    assert evidence["anomaly"]["kind"] == "collection_failing"
    assert evidence["anomaly"]["evidence"]["failed_days"] is None  # never reported yet
    assert evidence["finding"] is None

    # the next day the same anomalies are seen again: no new job, the evidence moves on
    feed(db, days[3:], overload=True)
    second = analyse(db).loop
    assert second is not None and second.new == {} and second.jobs == []
    assert second.refreshed == 2
    again = anomalies(db)
    assert [a["work_order_id"] for a in again] == [a["work_order_id"] for a in found]
    assert {str(a["last_day"]) for a in again} == {days[3].isoformat()}
    assert q(db, "SELECT COUNT(*) AS n FROM work_order WHERE channel = 'monitoring'") == \
        [{"n": 2}]


def test_late_data_clears_the_collection_anomaly_and_cancels_its_job(mon_db):
    db, _ = mon_db
    days = window(4)
    feed(db, days[:3])
    analyse(db)
    [anomaly] = anomalies(db)
    assert anomaly["kind"] == "collection_failing"
    # the head-end back-fills the meter's three days, and the fourth day comes in whole
    ingest(db, [r for d in days[:3] for r in rows("MTR-M1-0001", d, "0.300")])
    feed(db, days[3:], silent=())
    run = analyse(db)
    assert run.loop is not None and run.loop.cleared == 1 and run.loop.new == {}
    [anomaly] = anomalies(db)
    assert anomaly["status"] == "cleared"
    job = table_rows(db, "work_order", id=anomaly["work_order_id"])[0]
    assert job["status"] == "cancelled" and "reports again" in job["cancel_reason"]


def on_site(db, world, order_id, crew="crew1"):
    svc_act(db, world, crew, order_id, "accept")
    svc_act(db, world, crew, order_id, "arrive")


def finding(**kw):
    import uuid

    return {"id": str(uuid.uuid4()), "outcome": "meter_ok", "note": "", **kw}


def test_mapping_error_moves_the_customer_to_its_area_audited(mon_db, as_user):
    db, world = mon_db
    feed(db, window(3))
    analyse(db)
    [anomaly] = anomalies(db)
    order_id = anomaly["work_order_id"]
    crew = as_user("crew1")
    rural = world.areas["rural"].id
    body = finding(outcome="wiring_or_mapping", note="户表接在2号变压器", correct_area_id=rural,
                   register_kwh="1234.50", photos=[SHA])
    # not on site yet: the state machine refuses, nothing changes
    snapshot = db_snapshot(db)
    r = crew.post(f"/api/v1/work-orders/{order_id}/inspection-finding", json=body)
    assert (r.status_code, r.json()["code"]) == (409, "WO_TRANSITION_NOT_ALLOWED")
    assert db_snapshot(db) == snapshot
    on_site(db, world, order_id)
    # someone else's job looks like no job at all; another crew of the station is refused
    assert as_user("crew2").post(f"/api/v1/work-orders/{order_id}/inspection-finding",
                                 json=body).json()["code"] == "WORK_ORDER_NOT_FOUND"
    r = as_user("crew1b").post(f"/api/v1/work-orders/{order_id}/inspection-finding",
                               json=body)
    assert (r.status_code, r.json()["code"]) == (403, "WO_NOT_ASSIGNEE")

    r = crew.post(f"/api/v1/work-orders/{order_id}/inspection-finding", json=body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["work_order_status"] == "resolved" and out["anomaly_status"] == "resolved"
    assert out["previous_area_id"] == world.areas["town"].id
    assert out["correct_area_id"] == rural and out["register_kwh"] == "1234.50"
    account = table_rows(db, "account", id=world.accounts["acc1"].id)[0]
    assert account["area_id"] == rural and account["version"] == 2
    meter = table_rows(db, "meter", id=world.meters["m1"].id)[0]
    assert meter["area_id"] == rural
    [audit] = table_rows(db, "audit_log", action="account.area_fix")
    assert audit["entity_id"] == account["id"] and world.areas["town"].id in audit["before"]
    assert audit["actor_id"] == world.user("crew1").id
    # the photo is on the job's timeline; the job carries the outcome
    job = table_rows(db, "work_order", id=order_id)[0]
    assert job["cause"] == "inspection:wiring_or_mapping"
    assert table_rows(db, "photo_link", work_order_id=order_id)[0]["sha256"] == SHA
    # the same finding again is a no-op; another content under the same id is refused
    snapshot = db_snapshot(db)
    r = crew.post(f"/api/v1/work-orders/{order_id}/inspection-finding", json=body)
    assert r.status_code == 200 and r.json()["duplicate"] is True
    r = crew.post(f"/api/v1/work-orders/{order_id}/inspection-finding",
                  json={**body, "note": "something else"})
    assert (r.status_code, r.json()["code"]) == (409, "IDEMPOTENCY_CONFLICT")
    r = crew.post(f"/api/v1/work-orders/{order_id}/inspection-finding", json=finding())
    assert r.json()["code"] in ("FINDING_ALREADY_RECORDED", "WO_TRANSITION_NOT_ALLOWED")
    assert db_snapshot(db) == snapshot
    # the office's anomaly list shows what was found
    office = as_user("manager1").get("/api/v1/monitoring/anomalies").json()
    [row] = office["table"]["rows"]
    assert (row["status"], row["finding"]) == ("resolved", "wiring_or_mapping")
    # the next daily run recomputes the days computed with the wrong mapping and counts the
    # customer in its real area; its meter, checked, is left alone for the quiet days
    # although it still sends nothing
    rerun_report = analyse(db)
    assert sorted(d.day for d in rerun_report.days) == window(3)
    rerun = rerun_report.loop
    assert rerun is not None and "collection_failing" not in rerun.new and rerun.quiet == 1
    assert q(db, "SELECT a.meters_due FROM area_day a JOIN transformer_area t ON "
                 "t.id = a.area_id WHERE t.code = 'TA-rural' LIMIT 1") == [{"meters_due": 2}]


def test_tampering_opens_a_follow_up_for_the_office(db, world, as_user):
    order_id = svc_report(db, world, "dispatcher1", kind="usage_inspection",
                          account_id=world.accounts["acc2"].id, description="检查")
    svc_act(db, world, "dispatcher1", order_id, "dispatch", assignee_id=world.user("crew1").id)
    on_site(db, world, order_id)
    crew = as_user("crew1")
    url = f"/api/v1/work-orders/{order_id}/inspection-finding"
    for bad, code in (({"outcome": "tampering", "note": "seal broken"},
                       "FINDING_PHOTO_REQUIRED"),
                      ({"outcome": "tampering", "photos": [SHA]}, "FINDING_NOTE_REQUIRED"),
                      ({"outcome": "burnt"}, "FINDING_FIELD_INVALID"),
                      ({"outcome": "meter_ok", "register_kwh": "12.345"},
                       "FINDING_FIELD_INVALID"),
                      ({"outcome": "meter_ok", "correct_area_id": world.areas["town"].id},
                       "FINDING_FIELD_INVALID"),
                      ({"outcome": "wiring_or_mapping", "note": "x",
                        "correct_area_id": world.areas["remote"].id}, "FINDING_AREA_INVALID")):
        r = crew.post(url, json=finding(**bad))
        assert (r.status_code, r.json()["code"]) == (422, code), bad
    r = crew.post(url, json=finding(outcome="tampering", note="表前接线绕越计量", photos=[SHA],
                                    measured_load_kw="3.20"))
    assert r.status_code == 201, r.text
    out = r.json()
    follow = table_rows(db, "work_order", id=out["follow_up_work_order_id"])[0]
    assert (follow["kind"], follow["status"], follow["priority"]) == \
        ("usage_inspection", "reported", "high")
    assert follow["account_id"] == world.accounts["acc2"].id
    assert "表前接线绕越计量" in follow["description"] and out["follow_up_code"] == follow["code"]
    assert out["measured_load_kw"] == "3.20" and out["anomaly_id"] is None
    # the office of the station sees the follow-up among its jobs
    listed = as_user("dispatcher1").get("/api/v1/work-orders",
                                        params={"status": "reported"}).json()["items"]
    assert follow["id"] in [o["id"] for o in listed]
    # the customer sees neither the inspection nor the theft follow-up on their account:
    # not in their list, not by id, not in their phone's pull (round 1 let them read it)
    customer = as_user("customer2")
    mine = customer.get("/api/v1/work-orders").json()["items"]
    assert {order_id, follow["id"]}.isdisjoint(o["id"] for o in mine)
    for oid in (order_id, follow["id"]):
        assert customer.get(f"/api/v1/work-orders/{oid}").json()["code"] == \
            "WORK_ORDER_NOT_FOUND"
    pulled = customer.get("/api/v1/sync/pull", params={"limit": 5000}).json()["changes"]
    assert {order_id, follow["id"]}.isdisjoint(
        c["id"] for c in pulled if c["entity"] == "work_order")
    assert not [c for c in pulled if c["entity"] == "inspection_finding"]
    text = str(pulled)
    assert "窃电" not in text and "tampering" not in text.lower()


def test_a_finding_needs_an_inspection_job(db, world, as_user):
    order_id = svc_report(db, world, "dispatcher1", kind="fault_repair",
                          account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", order_id, "dispatch", assignee_id=world.user("crew1").id)
    on_site(db, world, order_id)
    r = as_user("crew1").post(f"/api/v1/work-orders/{order_id}/inspection-finding",
                              json=finding())
    assert (r.status_code, r.json()["code"]) == (409, "FINDING_WRONG_KIND")
