"""The dispatch board over HTTP, against a real SQLite file: its lists and counts, filters
and search, one job's panel, the suggested crew, priority, several jobs at once, the map
and the desk's settings; a station's dispatcher never sees or changes another station's
jobs; bad input is refused with a code and stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.integration.office.board_kit import WO, D, add_user, ids, ok, refused


@pytest.fixture
def jobs(db, world):
    """Station 1: an unassigned fault, a dispatched fault, one in progress, a resolved one,
    an overdue one (reported 5 h ago in town); station 2: an unassigned fault."""
    acc1, acc3 = world.accounts["acc1"].id, world.accounts["acc3"].id
    j = {}
    j["new"] = svc_report(db, world, "dispatcher1", account_id=acc1, description="no power",
                          priority="urgent")
    j["sent"] = svc_report(db, world, "dispatcher1", account_id=acc1, description="flicker")
    svc_act(db, world, "dispatcher1", j["sent"], "dispatch", assignee_id=world.user("crew1").id)
    j["working"] = svc_report(db, world, "dispatcher1", account_id=acc1, description="sparks")
    svc_act(db, world, "dispatcher1", j["working"], "dispatch",
            assignee_id=world.user("crew1b").id)
    svc_act(db, world, "crew1b", j["working"], "accept")
    j["done"] = svc_report(db, world, "dispatcher1", account_id=acc1, description="fuse")
    svc_act(db, world, "dispatcher1", j["done"], "dispatch", assignee_id=world.user("crew1").id)
    for action, data in (("accept", {}), ("arrive", {"gps": None}),
                         ("resolve", {"resolution": "replaced the fuse"})):
        svc_act(db, world, "crew1", j["done"], action, **data)
    j["late"] = svc_report(db, world, "dispatcher1", account_id=acc1, description="old one",
                           at=utcnow() - timedelta(hours=5))
    j["other"] = svc_report(db, world, "dispatcher2", account_id=acc3, description="far away")
    return j


def board(api, **params):
    return ok(api.get(f"{D}/board", params=params))


def test_each_list_holds_its_jobs_with_what_the_board_shows(as_user, world, jobs):
    office = as_user("dispatcher1")
    assert set(ids(board(office, list="unassigned"))) == {jobs["new"], jobs["late"]}
    assert ids(board(office, list="dispatched")) == [jobs["sent"]]
    assert ids(board(office, list="in_progress")) == [jobs["working"]]
    assert ids(board(office, list="awaiting_confirmation")) == [jobs["done"]]
    assert ids(board(office, list="overdue")) == [jobs["late"]]
    page = board(office, list="unassigned")
    assert page["total"] == 2 and page["seq"] > 0
    first = page["items"][0]  # urgent first
    assert first["id"] == jobs["new"] and first["priority"] == "urgent"
    assert first["area_name"] == "Area town" and first["account_no"] == "7700000000"
    assert first["next_deadline_kind"] == "arrival" and not first["overdue"]
    late = next(r for r in page["items"] if r["id"] == jobs["late"])
    assert late["overdue"] is True
    sent = board(office, list="dispatched")["items"][0]
    assert sent["assignee"]["display_name"] == "Crew1"
    counts = ok(office.get(f"{D}/board/counts"))["counts"]
    assert counts == {"unassigned": 2, "dispatched": 1, "in_progress": 1, "overdue": 1,
                      "stalled": 0, "awaiting_confirmation": 1}


def test_a_station_dispatcher_never_sees_another_stations_jobs(as_user, world, jobs):
    d1, d2, admin = as_user("dispatcher1"), as_user("dispatcher2"), as_user("admin")
    assert jobs["other"] not in ids(board(d1, list="unassigned"))
    # asking for the other station's list by id gives nothing, not its jobs
    assert board(d1, list="unassigned", station_id=world.stations["s2"].id)["total"] == 0
    assert ids(board(d2, list="unassigned")) == [jobs["other"]]
    assert ok(d2.get(f"{D}/board/counts"))["counts"]["unassigned"] == 1
    # the county sees both stations, and can narrow to one
    assert len(ids(board(admin, list="unassigned"))) == 3
    assert ids(board(admin, list="unassigned", station_id=world.stations["s2"].id)) == [
        jobs["other"]]
    # someone else's job looks exactly like a missing one
    refused(d1.get(f"{D}/jobs/{jobs['other']}"), 404, "WORK_ORDER_NOT_FOUND")
    refused(d1.get(f"{D}/jobs/{jobs['other']}/suggestions"), 404, "WORK_ORDER_NOT_FOUND")
    refused(d1.get(f"{D}/jobs/{new_id()}"), 404, "WORK_ORDER_NOT_FOUND")


def test_the_board_is_for_office_staff_only(as_user, jobs):
    for name in ("crew1", "tech1", "customer1", "agent1"):
        api = as_user(name)
        refused(api.get(f"{D}/board"), 403, "FORBIDDEN")
        refused(api.get(f"{D}/board/counts"), 403, "FORBIDDEN")
        refused(api.get(f"{D}/jobs/{jobs['new']}"), 403, "FORBIDDEN")
        refused(api.get(f"{D}/roster"), 403, "FORBIDDEN")
        refused(api.get(f"{D}/map"), 403, "FORBIDDEN")
    refused(as_user(None).get(f"{D}/board"), 401, "AUTH_REQUIRED")


def test_filters_and_search(as_user, world, jobs, db):
    office = as_user("dispatcher1")
    rural = world.areas["rural"].id
    acc2 = world.accounts["acc2"].id
    j_rural = svc_report(db, world, "dispatcher1", account_id=acc2, description="rural fault",
                         kind="meter_swap", priority="low")
    assert ids(board(office, list="unassigned", area_id=rural)) == [j_rural]
    assert ids(board(office, list="unassigned", kind="meter_swap")) == [j_rural]
    assert ids(board(office, list="unassigned", priority="urgent")) == [jobs["new"]]
    code = board(office, list="unassigned", priority="urgent")["items"][0]["code"]
    assert ids(board(office, list="unassigned", q=code)) == [jobs["new"]]
    assert ids(board(office, list="unassigned", q=code.lower())) == [jobs["new"]]
    # the account number, the phone and a part of the address
    assert set(ids(board(office, list="unassigned", q="7700000001"))) == {j_rural}
    assert ids(board(office, list="unassigned", q="acc2 Road")) == [j_rural]
    assert set(ids(board(office, list="unassigned", q="13900000000"))) == {
        jobs["new"], jobs["late"], j_rural}
    # a wildcard in the search is taken literally
    assert board(office, list="unassigned", q="%")["total"] == 0
    counts = ok(office.get(f"{D}/board/counts", params={"area_id": rural}))["counts"]
    assert counts["unassigned"] == 1 and counts["dispatched"] == 0
    # paging on the server
    p1 = board(office, list="unassigned", limit=2, offset=0)
    p2 = board(office, list="unassigned", limit=2, offset=2)
    assert p1["total"] == p2["total"] == 3
    assert len(p1["items"]) == 2 and len(p2["items"]) == 1
    assert not set(ids(p1)) & set(ids(p2))


@pytest.mark.parametrize(("params", "field"), [
    ({"list": "everything"}, "list"), ({"limit": 0}, "limit"), ({"limit": 201}, "limit"),
    ({"offset": -1}, "offset"), ({"kind": "picnic"}, "kind"), ({"priority": "asap"}, "priority"),
    ({"q": "x" * 65}, "q"), ({"station_id": "s" * 37}, "station_id"),
])
def test_bad_board_queries_are_refused_with_a_code(as_user, jobs, params, field):
    body = refused(as_user("dispatcher1").get(f"{D}/board", params=params), 422,
                   "VALIDATION_ERROR")
    assert field in body["message"]


def test_the_job_panel_has_the_timeline_and_the_deadline(as_user, jobs):
    panel = ok(as_user("dispatcher1").get(f"{D}/jobs/{jobs['working']}"))
    assert panel["job"]["id"] == jobs["working"] and panel["area_name"] == "Area town"
    assert [e["action"] for e in panel["job"]["timeline"]] == ["report", "dispatch", "accept"]
    assert panel["station_name"] == "Station ST01" and panel["stall"] is None
    assert panel["next_deadline_kind"] == "arrival" and panel["overdue"] is False


def test_the_suggested_crew_follows_the_rule(as_user, world, db, jobs):
    office, manager = as_user("dispatcher1"), as_user("manager1")
    # crew1 has one open job (dispatched), crew1b one (accepted): both off duty, no fixes
    got = ok(office.get(f"{D}/jobs/{jobs['new']}/suggestions"))
    names = [c["crew"]["display_name"] for c in got["candidates"]]
    assert sorted(names) == ["Crew1", "Crew1B"]  # crews of station 1 only, no techs
    assert "on duty" in got["rule"] and "fewest open jobs" in got["rule"]
    # crew1b arrives on site with a GPS fix in the job's area: same area now
    svc_act(db, world, "crew1b", jobs["working"], "arrive",
            gps={"lat": 27.8, "lon": 112.9, "accuracy_m": 8})
    got = ok(office.get(f"{D}/jobs/{jobs['new']}/suggestions"))
    assert got["suggested"]["crew"]["display_name"] == "Crew1B"
    assert got["suggested"]["same_area"] is True and got["suggested"]["distance_km"] == 0.0
    # a manager marks crew1 on duty and crew1b off: on duty comes first
    for name, on in (("crew1", True), ("crew1b", False)):
        r = manager.client.put(f"{D}/roster/{world.user(name).id}/duty",
                               headers=manager.headers, json={"on_duty": on})
        ok(r)
    got = ok(office.get(f"{D}/jobs/{jobs['new']}/suggestions"))
    assert got["suggested"]["crew"]["display_name"] == "Crew1"
    assert got["suggested"]["crew"]["on_duty"] is True
    zh = ok(as_user("dispatcher1", lang="zh").get(f"{D}/jobs/{jobs['new']}/suggestions"))
    assert "值班" in zh["rule"]
    # a meter swap job is suggested to meter technicians
    swap = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                      kind="meter_swap", description="old meter")
    got = ok(office.get(f"{D}/jobs/{swap}/suggestions"))
    assert [c["crew"]["display_name"] for c in got["candidates"]] == ["Tech1"]


def test_setting_the_priority(as_user, world, db, jobs):
    office = as_user("dispatcher1")
    swap = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                      kind="meter_swap", description="old meter")
    before = ok(office.get(f"{WO}/{swap}"))
    got = ok(office.post(f"{D}/jobs/{swap}/priority", json={"priority": "urgent",
                                                            "reason": "hospital nearby"}))
    assert got["priority"] == "urgent" and got["version"] == before["version"] + 1
    # a day-counted job's deadline follows its priority (town meter swap: 2 days, halved)
    reported = got["reported_at"]
    assert got["complete_by"] != before["complete_by"]
    from datetime import datetime
    assert (datetime.fromisoformat(got["complete_by"]) - datetime.fromisoformat(reported)
            == timedelta(days=1))
    last = got["timeline"][-1]
    assert last["action"] == "set_priority"
    assert last["data"]["previous_priority"] == "normal" and last["data"]["priority"] == "urgent"
    assert last["data"]["reason"] == "hospital nearby"
    audit = table_rows(db, "audit_log", action="work_order.set_priority")
    assert len(audit) == 1
    # the same priority again changes nothing
    again = ok(office.post(f"{D}/jobs/{swap}/priority", json={"priority": "urgent"}))
    assert again["version"] == got["version"]
    # a fault's restoration commitment does not stretch with priority
    fault_before = ok(office.get(f"{WO}/{jobs['new']}"))
    fault = ok(office.post(f"{D}/jobs/{jobs['new']}/priority", json={"priority": "low"}))
    assert fault["complete_by"] == fault_before["complete_by"]


def test_priority_refusals_store_nothing(as_user, world, db, jobs):
    office = as_user("dispatcher1")
    snap = db_snapshot(db)
    refused(office.post(f"{D}/jobs/{jobs['new']}/priority", json={"priority": "asap"}), 422,
            "VALIDATION_ERROR")
    refused(office.post(f"{D}/jobs/{jobs['new']}/priority", json={"priority": "high",
                                                                  "extra": 1}),
            422, "VALIDATION_ERROR")
    refused(office.post(f"{D}/jobs/{jobs['done']}/priority", json={"priority": "high"}), 409,
            "WO_TRANSITION_NOT_ALLOWED")
    refused(office.post(f"{D}/jobs/{jobs['other']}/priority", json={"priority": "high"}), 404,
            "WORK_ORDER_NOT_FOUND")
    refused(as_user("crew1").post(f"{D}/jobs/{jobs['sent']}/priority",
                                  json={"priority": "high"}), 403, "FORBIDDEN")
    assert db_snapshot(db) == snap


def test_several_jobs_at_once_each_through_the_service(as_user, world, db, jobs):
    office = as_user("dispatcher1")
    crew1 = world.user("crew1").id
    extra = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                       description="third")
    got = ok(office.post(f"{D}/bulk", json={
        "action": "dispatch", "assignee_id": crew1,
        "order_ids": [jobs["new"], extra, jobs["working"], jobs["other"]]}))
    by_id = {r["order_id"]: r for r in got["results"]}
    assert got["done"] == 2 and got["failed"] == 2
    assert by_id[jobs["new"]]["ok"] and by_id[extra]["ok"]
    # an accepted job cannot be dispatched again; another station's job is not found
    assert by_id[jobs["working"]]["error_code"] == "WO_TRANSITION_NOT_ALLOWED"
    assert by_id[jobs["working"]]["code"].startswith("WO")
    assert by_id[jobs["other"]]["error_code"] == "WORK_ORDER_NOT_FOUND"
    assert by_id[jobs["other"]]["code"] is None  # nothing about it leaks
    assert by_id[jobs["other"]]["message"] == f"Work order {jobs['other']} not found."
    assert ok(office.get(f"{WO}/{jobs['new']}"))["assignee"]["id"] == crew1
    other = ok(as_user("dispatcher2").get(f"{WO}/{jobs['other']}"))
    assert other["status"] == "reported"
    # reassign needs a reason (refused per job), cancel with one works
    got = ok(office.post(f"{D}/bulk", json={
        "action": "reassign", "assignee_id": world.user("crew1b").id,
        "order_ids": [jobs["new"], extra], "reason": "crew1 is at a big outage"}))
    assert got["done"] == 2
    got = ok(office.post(f"{D}/bulk", json={"action": "set_priority", "priority": "high",
                                            "order_ids": [jobs["new"], jobs["done"]]}))
    assert [r["ok"] for r in got["results"]] == [True, False]
    got = ok(office.post(f"{D}/bulk", json={"action": "cancel", "reason": "duplicate call",
                                            "order_ids": [extra]}))
    assert got["done"] == 1 and ok(office.get(f"{WO}/{extra}"))["status"] == "cancelled"


def test_bulk_refusals_store_nothing(as_user, world, db, jobs):
    office = as_user("dispatcher1")
    snap = db_snapshot(db)
    crew1 = world.user("crew1").id
    for body in ({"action": "dispatch", "order_ids": []},
                 {"action": "explode", "order_ids": [jobs["new"]]},
                 {"action": "dispatch", "order_ids": ["not-an-id"], "assignee_id": crew1},
                 {"action": "dispatch", "order_ids": [new_id()] * 201, "assignee_id": crew1},
                 {"action": "cancel", "order_ids": [jobs["new"]], "reason": ""}):
        refused(office.post(f"{D}/bulk", json=body), 422, "VALIDATION_ERROR")
    got = ok(office.post(f"{D}/bulk", json={"action": "dispatch", "order_ids": [jobs["new"]]}))
    assert got["results"][0]["error_code"] == "VALIDATION_ERROR"
    got = ok(office.post(f"{D}/bulk", json={"action": "dispatch", "order_ids": [jobs["new"]],
                                            "assignee_id": world.user("crew2").id}))
    assert got["results"][0]["error_code"] == "WO_ASSIGNEE_INVALID"  # another station's crew
    got = ok(office.post(f"{D}/bulk", json={"action": "cancel", "order_ids": [jobs["new"]]}))
    assert got["results"][0]["error_code"] == "WO_REASON_REQUIRED"
    refused(as_user("crew1").post(f"{D}/bulk", json={"action": "cancel", "reason": "x",
                                                     "order_ids": [jobs["sent"]]}),
            403, "FORBIDDEN")
    assert db_snapshot(db) == snap


def test_the_map_shows_open_jobs_and_crews_last_positions(as_user, world, db, jobs):
    svc_act(db, world, "crew1b", jobs["working"], "arrive",
            gps={"lat": 27.81, "lon": 112.91, "accuracy_m": 12})
    got = ok(as_user("dispatcher1").get(f"{D}/map"))
    on_map = {j["id"] for j in got["jobs"]}
    assert jobs["new"] in on_map and jobs["other"] not in on_map and jobs["done"] not in on_map
    assert all(j["lat"] == 27.8 for j in got["jobs"])
    assert [(c["display_name"], c["lat"]) for c in got["crews"]] == [("Crew1B", 27.81)]
    assert not got["truncated"]


def test_the_desk_settings(as_user, world, settings):
    d1 = ok(as_user("dispatcher1").get(f"{D}/settings"))
    assert d1["county_wide"] is False and d1["map_tile_url"] is None
    assert [s["name"] for s in d1["stations"]] == ["Station ST01"]
    assert {a["name"] for a in d1["areas"]} == {"Area town", "Area rural"}
    admin = ok(as_user("admin").get(f"{D}/settings"))
    assert admin["county_wide"] and len(admin["stations"]) == 2 and len(admin["areas"]) == 3
    ok(as_user("agent1").get(f"{D}/settings"))  # the counter reports too
    refused(as_user("crew1").get(f"{D}/settings"), 403, "FORBIDDEN")


def test_the_apis_office_address_sends_the_browser_to_the_desk(client, settings, app):
    refused(client.get("/office", follow_redirects=False), 404, "NOT_FOUND")
    settings.office_url = "http://127.0.0.1:8550/office"
    r = client.get("/office", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "http://127.0.0.1:8550/office"


def test_a_county_dispatcher_reports_and_dispatches_across_stations(as_user, world, db, jobs,
                                                                    client):
    add_user(db, "county", Role.DISPATCHER)
    from datetime import timedelta as _td

    from server.auth.security import make_token
    from tests.conftest import SECRET, Api

    uid = table_rows(db, "user", username="county")[0]["id"]
    token, _ = make_token(secret=SECRET, sub=uid, kind="access", ttl=_td(minutes=5))
    county = Api(client, token)
    assert len(ids(board(county, list="unassigned"))) == 3
    got = ok(county.post(f"{D}/bulk", json={"action": "dispatch",
                                            "assignee_id": world.user("crew2").id,
                                            "order_ids": [jobs["other"]]}))
    assert got["done"] == 1
