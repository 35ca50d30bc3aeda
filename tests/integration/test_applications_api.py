"""Business applications over the real API and sync push (SQLite file, real app): the
whole new-connection flow, and every rule and refusal around it."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from tests.conftest import db_snapshot, table_rows
from tests.integration.apps_kit import (
    ID_CARD,
    body,
    jpeg,
    op,
    pull_all,
    push,
    sha,
    submit_op,
    upload,
    walk_job,
)

CUST_DEVICE = "device-cust1-0001"


def _apply_offline(as_user, world, *, seq: int = 1, **over):
    cust = as_user("customer1")
    data = body(world, **over)
    res = push(cust, [submit_op(data, seq=seq)], CUST_DEVICE)
    assert res[0]["status"] == "applied", res
    return cust, data


def _upload_docs(api, seeds=(1, 2)):
    return [upload(api, jpeg(s)) for s in seeds]


def _accepted(as_user, world, assignee="crew1"):
    cust, data = _apply_offline(as_user, world)
    _upload_docs(cust)
    clerk = as_user("agent1")
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept",
                   json={"area_id": world.areas["town"].id,
                         "assignee_id": world.user(assignee).id})
    assert r.status_code == 200, r.text
    return cust, clerk, r.json()


def test_new_connection_end_to_end(as_user, world, db):
    cust, clerk, app = _accepted(as_user, world)
    assert app["step"] == "site_survey" and app["status"] == "open"
    assert [s["step"] for s in app["steps"]] == ["acceptance", "site_survey"]
    assert app["steps"][0]["outcome"] == "done" and app["steps"][0]["ended_by_name"] == "Agent1"
    assert app["steps"][1]["holder_name"] == "Crew1" and app["steps"][1]["due_at"]
    assert app["id_card_masked"] == "110***********002X" and "id_card_digest" not in app
    # the desk looks at the document photos (the server's verified copies)
    doc = clerk.get(f"/api/v1/applications/{app['id']}/documents/{sha(jpeg(1))}")
    assert doc.status_code == 200 and doc.headers["content-type"] == "image/jpeg"
    assert as_user("agent2").get(
        f"/api/v1/applications/{app['id']}/documents/{sha(jpeg(1))}").status_code == 404
    # the survey is a job on the crew's phone
    crew = as_user("crew1")
    survey = app["survey_order_id"]
    job = crew.get(f"/api/v1/work-orders/{survey}").json()
    assert job["kind"] == "new_connection" and job["status"] == "dispatched"
    walk_job(crew, survey, "Line 30 m from pole T12; 10 kW feasible")
    app = clerk.get(f"/api/v1/applications/{app['id']}").json()
    assert app["step"] == "scheme" and app["findings"].startswith("Line 30 m")
    # a clerk cannot approve the scheme; the manager can, with the first purchase
    r = clerk.post(f"/api/v1/applications/{app['id']}/approve", json={})
    assert r.status_code == 403 and r.json()["code"] == "APP_ROLE_NOT_ALLOWED"
    mgr = as_user("manager1")
    r = mgr.post(f"/api/v1/applications/{app['id']}/approve",
                 json={"opening_fen": 5000, "assignee_id": world.user("tech1").id})
    assert r.status_code == 200, r.text
    app = r.json()
    assert app["step"] == "installation" and app["opening_fen"] == 5000
    tech = as_user("tech1")
    inst = app["install_order_id"]
    for action, payload in (("accept", {}), ("arrive", {"gps": None})):
        assert tech.post(f"/api/v1/work-orders/{inst}/{action}", json=payload).status_code == 200
    # resolving before the meter is recorded is refused
    r = tech.post(f"/api/v1/work-orders/{inst}/resolve", json={"resolution": "done"})
    assert r.status_code == 422 and r.json()["code"] == "APP_INSTALL_REQUIRED"
    # the meter from stock, as the technician's offline op
    res = push(tech, [op("application.install@1", inst,
                         {"meter_no": "NEW-STOCK1", "start_kwh": "0.50", "card_no": "88887777"},
                         lane=f"work_order:{inst}", seq=1, device="device-tech1-0001")],
               "device-tech1-0001")
    assert res[0]["status"] == "applied", res
    r = tech.post(f"/api/v1/work-orders/{inst}/resolve", json={"resolution": "Meter installed"})
    assert r.status_code == 200, r.text
    app = clerk.get(f"/api/v1/applications/{app['id']}").json()
    assert app["status"] == "completed" and app["step"] == "archive"
    assert app["account_no"] and app["meter_id"] == world.meters["stock1"].id
    # the new account: its meter, the opening reading, the opening balance in the ledger
    acc = table_rows(db, "account", id=app["account_id"])[0]
    assert acc["owner_user_id"] == world.user("customer1").id and acc["balance_fen"] == 5000
    assert acc["id_card_masked"] == app["id_card_masked"]
    meter = table_rows(db, "meter", id=app["meter_id"])[0]
    assert meter["status"] == "installed" and meter["account_id"] == acc["id"]
    assert meter["last_reading_centi"] == 50
    ledger = table_rows(db, "ledger_entry", account_id=acc["id"])
    assert [(e["kind"], e["amount_fen"], e["balance_after_fen"]) for e in ledger] == [
        ("opening_balance", 5000, 5000)]
    assert table_rows(db, "meter_reading", account_id=acc["id"])[0]["value_centi"] == 50
    # the customer's phone now holds the new account and the completed application
    rows = pull_all(as_user("customer1"))
    assert rows[("account", acc["id"])]["balance_fen"] == 5000
    mine = rows[("application", app["id"])]
    assert mine["status"] == "completed" and "id_card_digest" not in mine
    notices = [r for (e, _), r in rows.items() if e == "notification"
               and r.get("data", {}).get("application_id") == app["id"]]
    events = sorted(n["data"]["event"] for n in notices)
    assert events == ["completed", "step", "step", "step", "submitted"]
    # rate the service, once
    r = cust.post(f"/api/v1/applications/{app['id']}/rate", json={"rating": 5})
    assert r.status_code == 200 and r.json()["rating"] == 5
    r = cust.post(f"/api/v1/applications/{app['id']}/rate", json={"rating": 4})
    assert r.status_code == 409 and r.json()["code"] == "APP_ALREADY_RATED"
    # the archive: documents and decisions with their hashes, verified, staff only
    arch = clerk.get(f"/api/v1/applications/{app['id']}/archive")
    assert arch.status_code == 200, arch.text
    rec = arch.json()
    assert rec["verified"] is True
    assert {d["doc"]: d["sha256"] for d in rec["record"]["documents"]} == {
        "id_card": sha(jpeg(1)), "property_cert": sha(jpeg(2))}
    assert all(d["received"] for d in rec["record"]["documents"])
    assert [d["step"] for d in rec["record"]["decisions"]] == [
        "acceptance", "site_survey", "scheme", "installation", "archive"]
    assert ID_CARD not in str(rec)
    assert cust.get(f"/api/v1/applications/{app['id']}/archive").status_code == 404
    assert as_user("agent2").get(f"/api/v1/applications/{app['id']}/archive").status_code == 404


def test_archive_rows_cannot_be_changed(as_user, world, db):
    app_id = _completed_contact_change(as_user, world)
    with pytest.raises(DBAPIError), db.writer.begin() as conn:
        conn.exec_driver_sql("UPDATE application_archive SET record_sha256 = 'x' "
                             "WHERE application_id = ?", (app_id,))
    with pytest.raises(DBAPIError), db.writer.begin() as conn:
        conn.exec_driver_sql("DELETE FROM application_archive WHERE application_id = ?",
                             (app_id,))


def _completed_contact_change(as_user, world):
    cust = as_user("customer1")
    data = body(world, kind="contact_change", capacity_kw=None, station_id=None,
                account_id=world.accounts["acc1"].id, contact_phone="13700001111",
                docs={"id_card": sha(jpeg(7))})
    assert cust.post("/api/v1/applications", json=data).status_code == 201
    upload(cust, jpeg(7))
    r = as_user("agent1").post(f"/api/v1/applications/{data['id']}/accept", json={})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    return data["id"]


def test_contact_change_completes_at_acceptance_and_updates_the_account(as_user, world, db):
    _completed_contact_change(as_user, world)
    assert table_rows(db, "account", id=world.accounts["acc1"].id)[0]["phone"] == "13700001111"


def test_missing_documents_are_refused_and_unreadable_ones_sent_back(as_user, world, db):
    cust = as_user("customer1")
    data = body(world, docs={"id_card": sha(jpeg(1))})
    # (another phone of the customer: the one used below numbers its changes from 1)
    other = "device-cust1-0002"
    res = push(cust, [submit_op(data, device=other)], other)
    assert res[0]["status"] == "rejected" and res[0]["code"] == "APP_DOCUMENT_MISSING"
    assert "property_cert" in res[0]["details"]["documents"]
    # non-residential needs the business licence too
    data = body(world, kind="new_non_residential")
    r = cust.post("/api/v1/applications", json=data)
    assert r.status_code == 422 and r.json()["code"] == "APP_DOCUMENT_MISSING"
    # documents not uploaded yet: the clerk cannot accept, and returns it with a reason
    cust, data = _apply_offline(as_user, world)
    clerk = as_user("agent1")
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept",
                   json={"area_id": world.areas["town"].id})
    assert r.status_code == 409 and r.json()["code"] == "APP_DOCUMENTS_NOT_RECEIVED"
    r = clerk.post(f"/api/v1/applications/{data['id']}/return", json={})
    assert r.status_code == 422 and r.json()["code"] == "APP_REASON_REQUIRED"
    r = clerk.post(f"/api/v1/applications/{data['id']}/return",
                   json={"reason": "Property certificate unreadable",
                         "documents": ["property_cert"]})
    assert r.status_code == 200 and r.json()["status"] == "returned"
    # the customer sends a new photo offline; the first ones are all kept
    new_cert = sha(jpeg(3))
    res = push(cust, [op("application.resubmit@1", data["id"],
                         {"documents": {"property_cert": new_cert}},
                         lane=f"application:{data['id']}", seq=2, device=CUST_DEVICE)],
               CUST_DEVICE)
    assert res[0]["status"] == "applied", res
    app = cust.get(f"/api/v1/applications/{data['id']}").json()
    assert app["status"] == "open" and app["step"] == "acceptance"
    assert [(d["doc"], d["sha256"]) for d in app["documents"]] == [
        ("id_card", sha(jpeg(1))), ("property_cert", sha(jpeg(2))),
        ("property_cert", new_cert)]
    assert [s.get("outcome") for s in app["steps"]] == ["returned", None]
    upload(cust, jpeg(1))
    upload(cust, jpeg(3))  # the old certificate photo never arrived: not needed any more
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept",
                   json={"area_id": world.areas["town"].id})
    assert r.status_code == 200, r.text


def test_submission_field_rules(as_user, world):
    cust = as_user("customer1")
    r = cust.post("/api/v1/applications", json=body(world, id_card_no="110105194912310021",
                                                    capacity_kw=500, contact_phone="x"))
    assert r.status_code == 422
    fields = r.json()["details"]["fields"]
    assert set(fields) == {"id_card_no", "capacity_kw", "contact_phone"}
    r = cust.post("/api/v1/applications", json=body(world, station_id=None))
    assert r.json()["details"]["fields"]["station_id"]["code"] == "APP_FIELD_INVALID"
    r = cust.post("/api/v1/applications", json=body(world, kind="capacity_increase",
                                                    station_id=None,
                                                    account_id=world.accounts["acc2"].id,
                                                    docs={"id_card": sha(jpeg(1))}))
    assert r.status_code == 404 and r.json()["code"] == "ACCOUNT_NOT_FOUND"
    r = as_user("crew1").post("/api/v1/applications", json=body(world))
    assert r.status_code == 403 and r.json()["code"] == "APP_ROLE_NOT_ALLOWED"
    r = as_user("agent2").post("/api/v1/applications", json=body(world))
    assert r.status_code == 403


def test_submit_is_idempotent_and_refused_ops_change_nothing(as_user, world, db):
    cust = as_user("customer1")
    data = body(world)
    first = submit_op(data)
    assert push(cust, [first], CUST_DEVICE)[0]["status"] == "applied"
    assert push(cust, [first], CUST_DEVICE)[0]["status"] == "duplicate"
    r = cust.post("/api/v1/applications", json=data)
    assert r.status_code == 200  # the same application sent again online
    assert len(table_rows(db, "application")) == 1
    other = as_user("customer2").post("/api/v1/applications", json=data)
    assert other.status_code == 409 and other.json()["code"] == "IDEMPOTENCY_CONFLICT"
    before = db_snapshot(db, exclude=("applied_op", "device", "audit_log", "counter"))
    bad = as_user("customer2").post("/api/v1/applications",
                                    json=body(world, id_card_no="123"))
    assert bad.status_code == 422
    assert db_snapshot(db, exclude=("applied_op", "device", "audit_log", "counter")) == before


def test_who_sees_and_decides(as_user, world):
    cust, data = _apply_offline(as_user, world)
    _upload_docs(cust)
    assert as_user("customer2").get(f"/api/v1/applications/{data['id']}").status_code == 404
    assert as_user("agent2").get(f"/api/v1/applications/{data['id']}").status_code == 404
    assert as_user("crew1").get(f"/api/v1/applications/{data['id']}").status_code == 404
    r = cust.post(f"/api/v1/applications/{data['id']}/accept",
                  json={"area_id": world.areas["town"].id})
    assert r.status_code == 403
    r = as_user("agent2").post(f"/api/v1/applications/{data['id']}/accept",
                               json={"area_id": world.areas["remote"].id})
    assert r.status_code == 404 and r.json()["code"] == "APP_NOT_FOUND"
    clerk = as_user("agent1")
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept", json={})
    assert r.status_code == 422 and r.json()["code"] == "APP_AREA_REQUIRED"
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept",
                   json={"area_id": world.areas["remote"].id})  # another station's area
    assert r.status_code == 404 and r.json()["code"] == "AREA_NOT_FOUND"
    r = clerk.post(f"/api/v1/applications/{data['id']}/accept",
                   json={"area_id": world.areas["town"].id,
                         "assignee_id": world.user("tech1").id})  # not a surveyor
    assert r.status_code == 422 and r.json()["code"] == "WO_ASSIGNEE_INVALID"
    r = clerk.post(f"/api/v1/applications/{data['id']}/rate", json={"rating": 5})
    assert r.status_code == 403
    listing = clerk.get("/api/v1/applications", params={"id_card": ID_CARD}).json()
    assert [a["id"] for a in listing["items"]] == [data["id"]]
    assert as_user("agent2").get("/api/v1/applications").json()["total"] == 0


def test_install_refusals(as_user, world):
    _cust, _clerk, app = _accepted(as_user, world)
    walk_job(as_user("crew1"), app["survey_order_id"], "ok")
    app = as_user("manager1").post(f"/api/v1/applications/{app['id']}/approve",
                                   json={"assignee_id": world.user("tech1").id}).json()
    inst = app["install_order_id"]
    tech = as_user("tech1")
    url = f"/api/v1/applications/jobs/{inst}/install"
    good = {"meter_no": "NEW-STOCK1", "start_kwh": "0", "card_no": "88887777"}
    r = tech.post(url, json=good)  # not on site yet
    assert r.status_code == 409 and r.json()["code"] == "APP_TRANSITION_NOT_ALLOWED"
    for action, payload in (("accept", {}), ("arrive", {"gps": None})):
        tech.post(f"/api/v1/work-orders/{inst}/{action}", json=payload)
    r = tech.post(url, json={**good, "meter_no": "MTR-M1-0001"})  # installed elsewhere
    assert r.status_code == 422 and r.json()["code"] == "APP_METER_NOT_IN_STOCK"
    r = tech.post(url, json={**good, "meter_no": "NEW-STOCK3"})  # another station's stock
    assert r.json()["code"] == "APP_METER_NOT_IN_STOCK"
    r = tech.post(url, json={**good, "start_kwh": "50"})
    assert r.json()["details"]["fields"]["start_kwh"]["code"] == "SWAP_NEW_START_TOO_HIGH"
    assert as_user("tech2").post(url, json=good).status_code == 404
    assert tech.post(url, json=good).status_code == 200
    assert tech.post(url, json=good).status_code == 200  # the same installation again
    r = tech.post(url, json={**good, "meter_no": "NEW-STOCK2"})
    assert r.status_code == 409 and r.json()["code"] == "APP_ALREADY_INSTALLED"


def test_reject_and_cancel(as_user, world):
    cust, data = _apply_offline(as_user, world)
    r = cust.post(f"/api/v1/applications/{data['id']}/cancel", json={"reason": "moved away"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = cust.post(f"/api/v1/applications/{data['id']}/cancel", json={"reason": "again"})
    assert r.status_code == 409
    cust, data = _apply_offline(as_user, world, seq=2, id=body(world)["id"])
    r = as_user("agent1").post(f"/api/v1/applications/{data['id']}/reject",
                               json={"reason": "outside the service area"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["outcome_reason"] == "outside the service area"


def test_the_desk_sees_who_may_work_the_jobs(as_user, world):
    _cust, data = _apply_offline(as_user, world)
    names = {w["display_name"]: w["role"] for w in as_user("agent1").get(
        f"/api/v1/applications/{data['id']}/workers").json()}
    assert names == {"Crew1": "crew", "Crew1B": "crew", "Tech1": "meter_tech"}
    assert as_user("customer1").get(
        f"/api/v1/applications/{data['id']}/workers").status_code == 404
