"""The crew roster and the board's change feed over HTTP: who is on duty (a manager's mark
for today, else signed in recently), open jobs, last known positions; managers mark only
their own station's field users; the feed names the jobs that changed for my station,
answers at once on a change and after ``wait`` without one."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from server.dispatch.models import CrewDuty
from server.dispatch.roster import duty_of
from shared.enums import Role
from shared.timeutil import LOCAL_TZ
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.integration.office.board_kit import D, add_user, ok, put, refused


def crews(api, **params):
    return {c["display_name"]: c for c in ok(api.get(f"{D}/roster", params=params))["items"]}


def test_the_roster_lists_the_stations_field_users_with_jobs_and_positions(as_user, world,
                                                                           db, client):
    office = as_user("dispatcher1")
    acc1 = world.accounts["acc1"].id
    job = svc_report(db, world, "dispatcher1", account_id=acc1, description="no power")
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id)
    svc_act(db, world, "crew1", job, "accept")
    svc_act(db, world, "crew1", job, "arrive", gps={"lat": 27.81, "lon": 112.91,
                                                    "accuracy_m": 9})
    got = ok(office.get(f"{D}/roster"))
    assert "signed in" in got["duty_rule"] and got["signed_in_hours"] == 12
    people = {c["display_name"]: c for c in got["items"]}
    assert set(people) == {"Crew1", "Crew1B", "Tech1", "Agent1"}  # station 1's field users
    c1 = people["Crew1"]
    assert [j["status"] for j in c1["open_jobs"]] == ["on_site"]
    assert c1["last_position"]["lat"] == 27.81 and c1["last_position"]["work_order_id"] == job
    assert (c1["on_duty"], c1["duty_source"]) == (False, "none")
    assert set(crews(office, role="meter_tech")) == {"Tech1"}
    # signing in on the phone puts a crew on duty (no mark today)
    r = client.post("/api/v1/auth/token", data={"username": "crew1b",
                                                "password": "Test-pass-123"})
    assert r.status_code == 200, r.text
    c1b = crews(office)["Crew1B"]
    assert (c1b["on_duty"], c1b["duty_source"]) == (True, "signed_in")
    zh = ok(as_user("dispatcher1", lang="zh").get(f"{D}/roster"))
    assert "值班" in zh["duty_rule"]
    # station 2 sees its own people only; the county all
    assert set(crews(as_user("dispatcher2"))) == {"Crew2", "Tech2", "Agent2"}
    assert set(crews(as_user("dispatcher2"), station_id=world.stations["s1"].id)) == {
        "Crew2", "Tech2", "Agent2"}
    assert len(crews(as_user("admin"))) == 7


def test_a_manager_marks_duty_for_today(as_user, world, db):
    manager, office = as_user("manager1"), as_user("dispatcher1")
    crew1 = world.user("crew1").id
    got = ok(put(manager, f"{D}/roster/{crew1}/duty", {"on_duty": True}))
    assert got["items"][0]["on_duty"] and got["items"][0]["duty_source"] == "manager"
    assert crews(office)["Crew1"]["on_duty"] is True
    ok(put(manager, f"{D}/roster/{crew1}/duty", {"on_duty": False}))
    assert crews(office)["Crew1"]["on_duty"] is False
    assert len(table_rows(db, "audit_log", action="crew.duty")) == 2
    ok(put(as_user("admin"), f"{D}/roster/{world.user('crew2').id}/duty", {"on_duty": True}))


def test_duty_marks_lapse_at_the_end_of_the_day() -> None:
    # mid-afternoon local time, so "an hour ago" is today whatever the hour the test runs
    now = datetime.now(LOCAL_TZ).replace(hour=15, minute=0).astimezone(UTC)
    mark = CrewDuty(id="u", on_duty=False, set_by="m", set_at=now - timedelta(hours=1))
    assert duty_of(mark, now, now).source == "manager"  # today's mark wins over a sign-in
    old = CrewDuty(id="u", on_duty=True, set_by="m", set_at=now - timedelta(days=1, hours=1))
    assert duty_of(old, None, now).on_duty is False  # yesterday's mark: gone
    assert duty_of(old, now - timedelta(hours=11), now).source == "signed_in"
    assert duty_of(None, now - timedelta(hours=13), now).on_duty is False


def test_duty_refusals_store_nothing(as_user, world, db):
    snap = db_snapshot(db)
    manager = as_user("manager1")
    refused(put(as_user("dispatcher1"), f"{D}/roster/{world.user('crew1').id}/duty",
                {"on_duty": True}), 403, "FORBIDDEN")
    refused(put(as_user("crew1"), f"{D}/roster/{world.user('crew1').id}/duty",
                {"on_duty": True}), 403, "FORBIDDEN")
    refused(put(manager, f"{D}/roster/{world.user('crew2').id}/duty", {"on_duty": True}),
            404, "USER_NOT_FOUND")  # another station's crew
    refused(put(manager, f"{D}/roster/{world.user('dispatcher1').id}/duty", {"on_duty": True}),
            422, "DUTY_NOT_FIELD_USER")
    refused(put(manager, f"{D}/roster/{world.user('crew1').id}/duty", {"on_duty": "maybe"}),
            422, "VALIDATION_ERROR")
    refused(put(manager, f"{D}/roster/{world.user('crew1').id}/duty", {}), 422,
            "VALIDATION_ERROR")
    assert db_snapshot(db) == snap


# -- the change feed -------------------------------------------------------------------------
def feed(api, since, wait=0.0):
    return ok(api.get(f"{D}/changes", params={"since": since, "wait": wait}))


def test_the_feed_names_the_jobs_that_changed_for_my_station(as_user, world, db):
    d1, d2, admin = as_user("dispatcher1"), as_user("dispatcher2"), as_user("admin")
    start = feed(d1, -1)
    assert start["order_ids"] == [] and start["seq"] >= 0
    assert feed(d1, start["seq"])["order_ids"] == []  # nothing new
    job = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="no power")
    other = svc_report(db, world, "dispatcher2", account_id=world.accounts["acc3"].id,
                       description="far away")
    got = feed(d1, start["seq"])
    assert got["order_ids"] == [job] and got["seq"] > start["seq"] and not got["more"]
    assert feed(d2, start["seq"])["order_ids"] == [other]
    assert set(feed(admin, start["seq"])["order_ids"]) == {job, other}
    # the crew's own step (as a synced op would) is on the feed too
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id)
    mid = feed(d1, got["seq"])
    assert mid["order_ids"] == [job]
    svc_act(db, world, "crew1", job, "accept")
    assert feed(d1, mid["seq"])["order_ids"] == [job]
    # a duty mark says "crews changed"
    seq = feed(d1, -1)["seq"]
    ok(put(as_user("manager1"), f"{D}/roster/{world.user('crew1').id}/duty", {"on_duty": True}))
    got = feed(d1, seq)
    assert got["crews"] is True and got["order_ids"] == []


def test_the_feed_waits_for_a_change_and_answers_at_once(as_user, world, db):
    d1 = as_user("dispatcher1")
    seq = feed(d1, -1)["seq"]
    t0 = time.monotonic()
    assert feed(d1, seq, wait=0.6)["order_ids"] == []  # nothing: after the wait
    assert time.monotonic() - t0 >= 0.55
    made: list[str] = []

    def report_soon() -> None:
        time.sleep(0.5)
        made.append(svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                               description="called in"))

    worker = threading.Thread(target=report_soon)
    worker.start()
    t0 = time.monotonic()
    got = feed(d1, seq, wait=10)
    took = time.monotonic() - t0
    worker.join()
    assert got["order_ids"] == made and took < 3.0


def test_feed_refusals(as_user):
    refused(as_user("crew1").get(f"{D}/changes"), 403, "FORBIDDEN")
    for params in ({"since": -2}, {"wait": 26}, {"wait": -1}, {"since": "x"}):
        refused(as_user("dispatcher1").get(f"{D}/changes", params=params), 422,
                "VALIDATION_ERROR")


def test_a_county_dispatcher_gets_every_stations_changes(as_user, world, db, client):
    add_user(db, "county", Role.DISPATCHER)
    from server.auth.security import make_token
    from tests.conftest import SECRET, Api

    uid = table_rows(db, "user", username="county")[0]["id"]
    token, _ = make_token(secret=SECRET, sub=uid, kind="access", ttl=timedelta(minutes=5))
    county = Api(client, token)
    seq = feed(county, -1)["seq"]
    other = svc_report(db, world, "dispatcher2", account_id=world.accounts["acc3"].id,
                       description="far away")
    assert feed(county, seq)["order_ids"] == [other]
