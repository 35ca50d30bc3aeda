"""Work orders over HTTP, against a real SQLite file: the fault-repair life cycle from a
customer's report to the dispatcher's close, deadlines, overdue and stalled flags, list
filters, reassign / decline / reopen / cancel, hotline reports, idempotency and version
conflicts, and messages in Chinese and English."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from shared.ids import new_id
from shared.timeutil import utcnow
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows

WO = "/api/v1/work-orders"
PHOTO = "ab" * 32


def ts(value: str | None) -> datetime:
    assert value is not None
    return datetime.fromisoformat(value)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert set(body) == {"code", "message", "details"}
    assert body["message"]
    return body  # type: ignore[no-any-return]


def act(api: Any, order_id: str, action: str, status: int = 200, **body: Any) -> dict[str, Any]:
    return ok(api.post(f"{WO}/{order_id}/{action}", json=body), status)


def allowed(api: Any, order_id: str) -> list[str]:
    return ok(api.get(f"{WO}/{order_id}"))["allowed_actions"]  # type: ignore[no-any-return]


def listed(api: Any, **params: Any) -> list[str]:
    page = ok(api.get(WO, params=params))
    assert page["total"] >= len(page["items"])
    return [o["id"] for o in page["items"]]


# -- the whole life cycle -----------------------------------------------------------
def test_fault_repair_life_cycle_from_report_to_close(as_user, world, db):
    customer, dispatcher = as_user("customer1"), as_user("dispatcher1")
    crew, other_crew = as_user("crew1"), as_user("crew1b")
    acc1, s1 = world.accounts["acc1"], world.stations["s1"]

    # customer1 reports a fault on their own account from the app, with a GPS fix
    order = ok(customer.post(WO, json={
        "account_id": acc1.id, "description": "整栋楼停电 / whole building dark",
        "location": {"lat": 27.81, "lon": 112.91, "accuracy_m": 12.5},
        "photos": [PHOTO]}), 201)
    oid = order["id"]
    assert order["status"] == "reported" and order["kind"] == "fault_repair"
    assert order["channel"] == "app" and order["priority"] == "normal"
    assert order["account_id"] == acc1.id and order["account_no"] == acc1.account_no
    assert order["meter_no"] == world.meters["m1"].meter_no
    assert order["station_id"] == s1.id and order["area_class"] == "town"
    assert (order["lat"], order["lon"]) == (27.81, 112.91)
    assert order["assignee"] is None and order["version"] == 1
    reported_at = ts(order["reported_at"])
    assert abs(reported_at - utcnow()) < timedelta(seconds=30)
    assert ts(order["arrive_by"]) - reported_at == timedelta(minutes=45)  # town: 45 min
    assert ts(order["complete_by"]) - reported_at == timedelta(hours=3)  # town: 3 h
    assert order["flags"] == {"overdue": False, "overdue_arrival": False, "stalled": False}
    assert order["allowed_actions"] == ["add_note", "add_photo", "cancel"]
    assert [p["sha256"] for p in order["photos"]] == [PHOTO]

    # who may do what while it waits for dispatch
    assert allowed(dispatcher, oid) == ["dispatch", "add_note", "add_photo", "cancel"]
    assert allowed(crew, oid) == []  # a crew of the station sees it but cannot act yet
    assert allowed(as_user("admin"), oid) == ["dispatch", "add_note", "add_photo", "cancel"]

    # dispatcher1 finds it with every filter, and not with filters that exclude it
    for params in ({"status": "reported"}, {"kind": "fault_repair"}, {"station_id": s1.id},
                   {"overdue": "false"}, {"stalled": "false"}, {"account_id": acc1.id},
                   {"status": ["reported", "dispatched"], "kind": "fault_repair"}):
        assert oid in listed(dispatcher, **params), params
    for params in ({"status": "dispatched"}, {"kind": "meter_swap"},
                   {"station_id": world.stations["s2"].id}, {"overdue": "true"},
                   {"stalled": "true"}, {"assignee_id": world.user("crew1").id}):
        assert oid not in listed(dispatcher, **params), params

    # dispatch to crew1
    d = act(dispatcher, oid, "dispatch", assignee_id=world.user("crew1").id, priority="high")
    assert d["status"] == "dispatched" and d["priority"] == "high"
    assert d["assignee"]["id"] == world.user("crew1").id
    assert ts(d["dispatched_at"]) >= reported_at
    assert oid in listed(dispatcher, assignee_id=world.user("crew1").id)
    assert oid in listed(crew, assignee_id="me")
    assert oid not in listed(other_crew, assignee_id="me")
    assert allowed(crew, oid) == ["decline", "accept", "add_note", "add_photo"]
    assert allowed(other_crew, oid) == []
    assert allowed(customer, oid) == ["add_note", "add_photo"]  # no cancel after dispatch
    assert allowed(dispatcher, oid) == ["reassign", "add_note", "add_photo", "cancel"]

    # crew1 works the job
    assert act(crew, oid, "accept")["status"] == "accepted"
    assert allowed(crew, oid) == ["start_travel", "arrive", "add_note", "add_photo",
                                  "request_help"]
    assert act(crew, oid, "start-travel")["status"] == "en_route"
    arrived = act(crew, oid, "arrive", gps={"lat": 27.8101, "lon": 112.9102, "accuracy_m": 8})
    assert arrived["status"] == "on_site"
    assert allowed(crew, oid) == ["add_note", "add_photo", "request_help", "resolve"]
    noted = act(crew, oid, "add-note", text="Fuse in the meter box burnt out")
    assert noted["status"] == "on_site"
    photo2 = "cd" * 32
    with_photo = act(crew, oid, "add-photo", sha256=photo2, caption="burnt fuse")
    assert {p["sha256"]: p["purpose"] for p in with_photo["photos"]} == {
        PHOTO: "report", photo2: "job"}
    helped = act(crew, oid, "request-help", reason="need a ladder truck")
    assert helped["help_requested"] is True and helped["status"] == "on_site"
    resolved = act(crew, oid, "resolve", resolution="Replaced the fuse; power restored",
                   cause="overload")
    assert resolved["status"] == "resolved" and resolved["help_requested"] is False
    assert resolved["resolution"] == "Replaced the fuse; power restored"
    assert resolved["cause"] == "overload"
    assert allowed(customer, oid) == ["add_note", "add_photo", "reopen", "confirm"]
    assert allowed(dispatcher, oid) == ["add_note", "add_photo", "reopen", "confirm", "close"]
    assert allowed(crew, oid) == ["add_note", "add_photo"]

    # customer1 confirms and rates; dispatcher1 closes
    confirmed = act(customer, oid, "confirm", rating=4, comment="快，谢谢 quick, thanks")
    assert confirmed["status"] == "confirmed" and confirmed["rating"] == 4
    assert confirmed["rating_comment"] == "快，谢谢 quick, thanks"
    assert allowed(dispatcher, oid) == ["close"]
    closed = act(dispatcher, oid, "close")
    assert closed["status"] == "closed"
    for who in (customer, dispatcher, crew):
        assert allowed(who, oid) == []
    assert closed["flags"] == {"overdue": False, "overdue_arrival": False, "stalled": False}
    assert closed["version"] == 11  # version 1 at report, +1 for each of 10 actions

    # the timeline: every step, who, from and to
    timeline = ok(customer.get(f"{WO}/{oid}"))["timeline"]
    steps = [(e["action"], e["actor"]["display_name"], e["from_status"], e["to_status"])
             for e in timeline]
    assert steps == [
        ("report", "Customer1", None, "reported"),
        ("dispatch", "Dispatcher1", "reported", "dispatched"),
        ("accept", "Crew1", "dispatched", "accepted"),
        ("start_travel", "Crew1", "accepted", "en_route"),
        ("arrive", "Crew1", "en_route", "on_site"),
        ("add_note", "Crew1", "on_site", "on_site"),
        ("add_photo", "Crew1", "on_site", "on_site"),
        ("request_help", "Crew1", "on_site", "on_site"),
        ("resolve", "Crew1", "on_site", "resolved"),
        ("confirm", "Customer1", "resolved", "confirmed"),
        ("close", "Dispatcher1", "confirmed", "closed"),
    ]
    by_action = {e["action"]: e for e in timeline}
    assert by_action["report"]["data"]["location"] == {"lat": 27.81, "lon": 112.91,
                                                       "accuracy_m": 12.5}
    assert by_action["dispatch"]["data"]["assignee_id"] == world.user("crew1").id
    assert by_action["arrive"]["data"]["gps"]["accuracy_m"] == 8
    assert by_action["arrive"]["data"]["gps_quality"] == "good"
    assert by_action["add_note"]["data"]["text"] == "Fuse in the meter box burnt out"
    assert by_action["request_help"]["data"]["reason"] == "need a ladder truck"
    assert by_action["confirm"]["data"]["rating"] == 4
    assert by_action["confirm"]["actor"]["role"] == "customer"

    # timestamps: in order, and each status time is its event's time
    times = [ts(e["occurred_at"]) for e in timeline]
    assert times == sorted(times)
    for e in timeline:
        assert ts(e["recorded_at"]) >= ts(e["occurred_at"]) - timedelta(seconds=1)
    for field, action in (("reported_at", "report"), ("dispatched_at", "dispatch"),
                          ("accepted_at", "accept"), ("arrived_at", "arrive"),
                          ("resolved_at", "resolve"), ("confirmed_at", "confirm"),
                          ("closed_at", "close")):
        assert ts(closed[field]) == ts(by_action[action]["occurred_at"]), field
    assert closed["cancelled_at"] is None
    assert ts(closed["last_activity_at"]) == ts(closed["closed_at"])

    # the database agrees: one order, eleven events, status changes audited
    assert len(table_rows(db, "work_order")) == 1
    assert len(table_rows(db, "work_order_event", work_order_id=oid)) == 11
    audited = [a["action"] for a in table_rows(db, "audit_log", entity_id=oid)]
    assert audited == ["work_order.report", "work_order.dispatch", "work_order.accept",
                       "work_order.start_travel", "work_order.arrive", "work_order.resolve",
                       "work_order.confirm", "work_order.close"]


def test_poor_gps_fix_is_kept_but_marked_and_manual_arrival_allowed(as_user, world, db):
    dispatcher, crew = as_user("dispatcher1"), as_user("crew1")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    svc_act(db, world, "crew1", oid, "accept")
    before = db_snapshot(db)
    refused(crew.post(f"{WO}/{oid}/arrive",
                      json={"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 9000}}),
            422, "VALIDATION_ERROR")
    refused(crew.post(f"{WO}/{oid}/arrive", json={"gps": {"lat": 95, "lon": 0,
                                                         "accuracy_m": 5}}),
            422, "VALIDATION_ERROR")
    assert db_snapshot(db) == before
    poor = act(crew, oid, "arrive", gps={"lat": 27.8, "lon": 112.9, "accuracy_m": 800})
    ev = poor["timeline"][-1]
    assert ev["data"]["gps_quality"] == "poor" and ev["data"]["gps"]["accuracy_m"] == 800

    oid2 = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid2, "dispatch", assignee_id=world.user("crew1").id)
    svc_act(db, world, "crew1", oid2, "accept")
    manual = act(crew, oid2, "arrive")
    assert manual["status"] == "on_site"
    assert manual["timeline"][-1]["data"] == {"location": "manual"}
    assert ok(dispatcher.get(f"{WO}/{oid2}"))["arrived_at"] is not None


# -- deadlines ----------------------------------------------------------------------
@pytest.mark.parametrize(("customer", "account", "area_class", "arrive", "restore"), [
    ("customer1", "acc1", "town", timedelta(minutes=45), timedelta(hours=3)),
    ("customer2", "acc2", "rural", timedelta(minutes=90), timedelta(hours=4)),
    ("customer3", "acc3", "remote", timedelta(hours=2), timedelta(hours=6)),
])
def test_fault_deadlines_are_computed_from_the_area_class(
        as_user, world, customer, account, area_class, arrive, restore):
    order = ok(as_user(customer).post(WO, json={
        "account_id": world.accounts[account].id, "description": "no power",
        # a customer cannot make their own job more urgent or stretch its deadlines
        "priority": "low"}), 201)
    assert order["area_class"] == area_class and order["priority"] == "normal"
    assert ts(order["arrive_by"]) - ts(order["reported_at"]) == arrive
    assert ts(order["complete_by"]) - ts(order["reported_at"]) == restore


def test_non_fault_jobs_have_completion_days_and_no_arrival_deadline(as_user, world):
    dispatcher = as_user("dispatcher1")
    swap = ok(dispatcher.post(WO, json={"kind": "meter_swap", "description": "meter faulty",
                                        "account_id": world.accounts["acc2"].id}), 201)
    assert swap["arrive_by"] is None
    assert ts(swap["complete_by"]) - ts(swap["reported_at"]) == timedelta(days=3)  # rural
    urgent = ok(dispatcher.post(WO, json={"kind": "meter_swap", "priority": "urgent",
                                          "description": "meter smoking",
                                          "account_id": world.accounts["acc1"].id}), 201)
    assert ts(urgent["complete_by"]) - ts(urgent["reported_at"]) == timedelta(days=1)


# -- overdue and stalled --------------------------------------------------------------
def test_overdue_and_stalled_flags_and_filters(as_user, world, db):
    now = utcnow()
    acc1 = world.accounts["acc1"].id
    crew1 = world.user("crew1").id

    def job(reported_ago: timedelta, *steps: tuple[str, timedelta, dict[str, Any]]) -> str:
        oid = svc_report(db, world, "customer1", account_id=acc1, at=now - reported_ago)
        for action, ago, data in steps:
            svc_act(db, world, "crew1" if action in ("accept", "arrive", "resolve")
                    else "dispatcher1", oid, action, at=now - ago, **data)
        return oid

    dispatch = ("dispatch", timedelta(0), {"assignee_id": crew1})
    fresh = job(timedelta(minutes=5))
    # reported 50 min ago, dispatched just now: arrival (45 min) already missed
    late_arrival = job(timedelta(minutes=50), dispatch)
    # on site in time, then nothing for 90 minutes: stalled, not yet late
    stalled = job(timedelta(hours=2),
                  ("dispatch", timedelta(minutes=115), {"assignee_id": crew1}),
                  ("accept", timedelta(minutes=110), {}),
                  ("arrive", timedelta(minutes=90), {}))
    # reported four hours ago and never touched: late and stalled
    forgotten = job(timedelta(hours=4))
    # resolved after its 3-hour restore deadline: stays overdue once finished
    finished_late = job(timedelta(hours=5),
                        ("dispatch", timedelta(hours=5) - timedelta(minutes=5),
                         {"assignee_id": crew1}),
                        ("accept", timedelta(hours=4, minutes=50), {}),
                        ("arrive", timedelta(hours=4, minutes=30), {}),
                        ("resolve", timedelta(hours=1), {"resolution": "done"}))

    dispatcher = as_user("dispatcher1")
    flags = {o["id"]: o["flags"] for o in ok(dispatcher.get(WO, params={"limit": 100}))["items"]}
    assert flags[fresh] == {"overdue": False, "overdue_arrival": False, "stalled": False}
    assert flags[late_arrival] == {"overdue": True, "overdue_arrival": True, "stalled": False}
    assert flags[stalled] == {"overdue": False, "overdue_arrival": False, "stalled": True}
    assert flags[forgotten] == {"overdue": True, "overdue_arrival": True, "stalled": True}
    assert flags[finished_late] == {"overdue": True, "overdue_arrival": False,
                                    "stalled": False}

    assert set(listed(dispatcher, overdue="true")) == {late_arrival, forgotten, finished_late}
    assert set(listed(dispatcher, overdue="false")) == {fresh, stalled}
    assert set(listed(dispatcher, stalled="true")) == {stalled, forgotten}
    assert set(listed(dispatcher, stalled="false")) == {fresh, late_arrival, finished_late}
    assert listed(dispatcher, overdue="true", stalled="true") == [forgotten]
    # the detail agrees with the list
    assert ok(dispatcher.get(f"{WO}/{stalled}"))["flags"]["stalled"] is True

    # a late row edited straight in the database is flagged just the same
    from sqlalchemy import text
    with db.writer.begin() as conn:
        conn.execute(text("UPDATE work_order SET arrive_by = :t, complete_by = :t, "
                          "last_activity_at = :t WHERE id = :id"),
                     {"t": (now - timedelta(hours=10)).replace(tzinfo=None), "id": fresh})
    assert ok(dispatcher.get(f"{WO}/{fresh}"))["flags"] == {
        "overdue": True, "overdue_arrival": True, "stalled": True}
    assert fresh in listed(dispatcher, overdue="true", stalled="true")


# -- list ---------------------------------------------------------------------------
def test_list_filters_paging_and_visibility(as_user, world, db):
    acc1, acc2, acc3 = (world.accounts[k].id for k in ("acc1", "acc2", "acc3"))
    a = svc_report(db, world, "customer1", account_id=acc1)
    b = svc_report(db, world, "customer2", account_id=acc2)
    c = svc_report(db, world, "dispatcher1", kind="meter_swap", account_id=acc1)
    d = svc_report(db, world, "customer3", account_id=acc3)  # station 2
    svc_act(db, world, "dispatcher1", b, "dispatch", assignee_id=world.user("crew1b").id)
    svc_act(db, world, "dispatcher1", c, "dispatch", assignee_id=world.user("tech1").id)

    dispatcher = as_user("dispatcher1")
    assert set(listed(dispatcher)) == {a, b, c}
    assert set(listed(as_user("dispatcher2"))) == {d}
    assert set(listed(as_user("admin"))) == {a, b, c, d}
    assert set(listed(as_user("manager1"))) == {a, b, c}
    assert set(listed(dispatcher, kind="meter_swap")) == {c}
    assert set(listed(dispatcher, status="dispatched")) == {b, c}
    assert set(listed(dispatcher, status=["reported", "dispatched"])) == {a, b, c}
    assert set(listed(dispatcher, assignee_id=world.user("tech1").id)) == {c}
    assert set(listed(dispatcher, account_id=acc1)) == {a, c}
    assert listed(as_user("admin"), station_id=world.stations["s2"].id) == [d]
    # a dispatcher filtering for another station gets nothing, not that station's jobs
    assert listed(dispatcher, station_id=world.stations["s2"].id) == []

    # customers see their own accounts' jobs; crews their station's fault jobs; techs theirs
    assert set(listed(as_user("customer1"))) == {a, c}
    assert set(listed(as_user("customer2"))) == {b}
    assert set(listed(as_user("crew1"))) == {a, b}
    assert set(listed(as_user("crew1b"), assignee_id="me")) == {b}
    assert set(listed(as_user("tech1"))) == {c}
    assert listed(as_user("tech2")) == []
    assert listed(as_user("crew2")) == [d]

    # paging: sorted by completion deadline, total counts all matches
    page1 = ok(dispatcher.get(WO, params={"limit": 2, "offset": 0}))
    page2 = ok(dispatcher.get(WO, params={"limit": 2, "offset": 2}))
    assert page1["total"] == page2["total"] == 3
    assert (page1["limit"], page1["offset"]) == (2, 0)
    ids = [o["id"] for o in page1["items"] + page2["items"]]
    assert set(ids) == {a, b, c} and len(ids) == 3
    deadlines = [ts(o["complete_by"]) for o in page1["items"] + page2["items"]]
    assert deadlines == sorted(deadlines)


# -- reassign, decline, reopen, cancel ------------------------------------------------
def test_reassign_from_crew1_to_crew1b(as_user, world, db):
    dispatcher, crew1, crew1b = as_user("dispatcher1"), as_user("crew1"), as_user("crew1b")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    act(crew1, oid, "accept")

    before = db_snapshot(db)
    refused(dispatcher.post(f"{WO}/{oid}/reassign",
                            json={"assignee_id": world.user("crew1b").id}),
            422, "VALIDATION_ERROR")  # a reason is required
    refused(dispatcher.post(f"{WO}/{oid}/reassign",
                            json={"assignee_id": world.user("crew2").id, "reason": "x"}),
            422, "WO_ASSIGNEE_INVALID")  # another station's crew
    refused(dispatcher.post(f"{WO}/{oid}/reassign",
                            json={"assignee_id": world.user("tech1").id, "reason": "x"}),
            422, "WO_ASSIGNEE_INVALID")  # technicians do not repair faults
    refused(dispatcher.post(f"{WO}/{oid}/reassign",
                            json={"assignee_id": world.user("crew1").id, "reason": "x"}),
            422, "WO_ASSIGNEE_INVALID")  # already theirs
    refused(crew1.post(f"{WO}/{oid}/reassign",
                       json={"assignee_id": world.user("crew1b").id, "reason": "swap"}),
            403, "WO_ROLE_NOT_ALLOWED")
    assert db_snapshot(db) == before

    moved = act(dispatcher, oid, "reassign", assignee_id=world.user("crew1b").id,
                reason="crew1's truck broke down")
    assert moved["status"] == "dispatched"
    assert moved["assignee"]["id"] == world.user("crew1b").id
    ev = moved["timeline"][-1]
    assert (ev["action"], ev["from_status"], ev["to_status"]) == (
        "reassign", "accepted", "dispatched")
    assert ev["data"]["previous_assignee_id"] == world.user("crew1").id
    assert ev["data"]["reason"] == "crew1's truck broke down"

    # crew1 still sees the station's job (documented: crews see their station's fault
    # jobs) but may no longer act on it; another station's crew does not see it at all
    assert allowed(crew1, oid) == []
    assert oid not in listed(crew1, assignee_id="me")
    refused(crew1.post(f"{WO}/{oid}/accept", json={}), 403, "WO_NOT_ASSIGNEE")
    refused(crew1.post(f"{WO}/{oid}/add-note", json={"text": "x"}), 403, "WO_NOT_ASSIGNEE")
    refused(as_user("crew2").get(f"{WO}/{oid}"), 404, "WORK_ORDER_NOT_FOUND")
    refused(as_user("crew2").post(f"{WO}/{oid}/accept", json={}), 404,
            "WORK_ORDER_NOT_FOUND")
    assert allowed(crew1b, oid) == ["decline", "accept", "add_note", "add_photo"]
    assert act(crew1b, oid, "accept")["status"] == "accepted"
    assert oid in listed(crew1b, assignee_id="me")


def test_decline_sends_the_job_back_for_dispatch(as_user, world, db):
    dispatcher, crew1 = as_user("dispatcher1"), as_user("crew1")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    refused(crew1.post(f"{WO}/{oid}/decline", json={"reason": "   "}), 422,
            "VALIDATION_ERROR")
    declined = act(crew1, oid, "decline", reason="already on another outage")
    assert declined["status"] == "reported" and declined["assignee"] is None
    assert declined["timeline"][-1]["data"]["reason"] == "already on another outage"
    assert allowed(crew1, oid) == []
    assert act(dispatcher, oid, "dispatch",
               assignee_id=world.user("crew1b").id)["assignee"]["display_name"] == "Crew1B"
    # declining is only possible before accepting
    act(as_user("crew1b"), oid, "accept")
    refused(as_user("crew1b").post(f"{WO}/{oid}/decline", json={"reason": "no"}), 409,
            "WO_TRANSITION_NOT_ALLOWED")


def test_reopen_after_resolve_goes_back_to_the_same_crew(as_user, world, db):
    customer, crew1 = as_user("customer1"), as_user("crew1")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    for action, data in (("accept", {}), ("arrive", {}), ("resolve", {"resolution": "x"})):
        svc_act(db, world, "crew1", oid, action, **data)
    refused(crew1.post(f"{WO}/{oid}/reopen", json={"reason": "x"}), 403,
            "WO_ROLE_NOT_ALLOWED")
    reopened = act(customer, oid, "reopen", reason="the lights went out again")
    assert reopened["status"] == "dispatched" and reopened["reopen_count"] == 1
    assert reopened["resolved_at"] is None
    assert reopened["assignee"]["id"] == world.user("crew1").id
    assert allowed(crew1, oid) == ["decline", "accept", "add_note", "add_photo"]
    act(crew1, oid, "accept")
    act(crew1, oid, "arrive")
    again = act(crew1, oid, "resolve", resolution="replaced the cable")
    assert again["status"] == "resolved" and again["reopen_count"] == 1
    assert [e["action"] for e in again["timeline"]] == [
        "report", "dispatch", "accept", "arrive", "resolve", "reopen", "accept", "arrive",
        "resolve"]
    # confirming needs a rating from the customer; an office confirmation may skip it
    refused(customer.post(f"{WO}/{oid}/confirm", json={}), 422, "WO_RATING_INVALID")
    refused(customer.post(f"{WO}/{oid}/confirm", json={"rating": 6}), 422,
            "VALIDATION_ERROR")
    on_behalf = act(as_user("dispatcher1"), oid, "confirm")
    assert on_behalf["status"] == "confirmed" and on_behalf["rating"] is None
    assert on_behalf["timeline"][-1]["data"]["on_behalf"] is True


def test_cancel_with_reason_customer_only_before_dispatch(as_user, world, db):
    customer, dispatcher = as_user("customer1"), as_user("dispatcher1")
    acc1 = world.accounts["acc1"].id
    first = svc_report(db, world, "customer1", account_id=acc1)
    refused(customer.post(f"{WO}/{first}/cancel", json={}), 422, "VALIDATION_ERROR")
    cancelled = act(customer, first, "cancel", reason="power came back by itself")
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "power came back by itself"
    assert cancelled["cancelled_at"] is not None and cancelled["allowed_actions"] == []
    assert cancelled["flags"] == {"overdue": False, "overdue_arrival": False,
                                  "stalled": False}
    refused(dispatcher.post(f"{WO}/{first}/dispatch",
                            json={"assignee_id": world.user("crew1").id}),
            409, "WO_TRANSITION_NOT_ALLOWED")

    second = svc_report(db, world, "customer1", account_id=acc1)
    svc_act(db, world, "dispatcher1", second, "dispatch", assignee_id=world.user("crew1").id)
    before = db_snapshot(db)
    refused(customer.post(f"{WO}/{second}/cancel", json={"reason": "never mind"}), 409,
            "WO_TRANSITION_NOT_ALLOWED")
    refused(as_user("customer2").post(f"{WO}/{second}/cancel", json={"reason": "x"}), 404,
            "WORK_ORDER_NOT_FOUND")
    refused(as_user("crew1").post(f"{WO}/{second}/cancel", json={"reason": "x"}), 403,
            "WO_ROLE_NOT_ALLOWED")
    assert db_snapshot(db) == before
    by_office = act(dispatcher, second, "cancel", reason="duplicate of another report")
    assert by_office["status"] == "cancelled"
    assert by_office["timeline"][-1]["actor"]["role"] == "dispatcher"
    assert allowed(as_user("crew1"), second) == []


# -- reporting on behalf of a caller ----------------------------------------------------
def test_dispatcher_reports_on_behalf_of_a_caller(as_user, world, db):
    dispatcher = as_user("dispatcher1")
    hotline = ok(dispatcher.post(WO, json={
        "account_id": world.accounts["acc1"].id, "description": "caller: sparks at the pole",
        "priority": "urgent", "contact_name": "王先生", "contact_phone": "+86 138-0000-1111",
        "address": "next to the school gate"}), 201)
    assert hotline["channel"] == "hotline" and hotline["priority"] == "urgent"
    assert hotline["contact_name"] == "王先生"
    assert hotline["contact_phone"] == "+86 138-0000-1111"
    assert hotline["address"] == "next to the school gate"
    assert hotline["timeline"][0]["actor"]["role"] == "dispatcher"
    assert ts(hotline["arrive_by"]) - ts(hotline["reported_at"]) == timedelta(minutes=45)
    # the account holder follows the job in their app
    assert hotline["id"] in listed(as_user("customer1"))
    assert allowed(as_user("customer1"), hotline["id"]) == ["add_note", "add_photo", "cancel"]

    # a new connection has no account yet: the transformer area says where it is
    area = world.areas["town"]
    new_conn = ok(dispatcher.post(WO, json={
        "kind": "new_connection", "area_id": area.id, "description": "new house, 8 kW",
        "contact_name": "李女士", "contact_phone": "13700000000"}), 201)
    assert new_conn["account_id"] is None and new_conn["meter_id"] is None
    assert new_conn["area_id"] == area.id
    assert new_conn["station_id"] == world.stations["s1"].id
    assert new_conn["arrive_by"] is None
    assert ts(new_conn["complete_by"]) - ts(new_conn["reported_at"]) == timedelta(days=3)
    agent_job = ok(as_user("agent1").post(WO, json={
        "kind": "new_connection", "area_id": area.id, "channel": "counter",
        "description": "walk-in application"}), 201)
    assert agent_job["channel"] == "counter"

    before = db_snapshot(db)
    refused(dispatcher.post(WO, json={"kind": "new_connection", "description": "x"}),
            422, "WO_ACCOUNT_REQUIRED")
    refused(dispatcher.post(WO, json={"kind": "new_connection", "description": "x",
                                      "area_id": world.areas["remote"].id}),
            403, "FORBIDDEN")  # another station's area
    refused(as_user("crew1").post(WO, json={"account_id": world.accounts["acc1"].id,
                                            "description": "x"}),
            403, "WO_ROLE_NOT_ALLOWED")
    refused(as_user("customer1").post(WO, json={
        "kind": "meter_swap", "account_id": world.accounts["acc1"].id, "description": "x"}),
        403, "WO_KIND_NOT_REPORTABLE")
    refused(as_user("customer1").post(WO, json={"description": "no account"}), 422,
            "WO_ACCOUNT_REQUIRED")
    refused(as_user("customer2").post(WO, json={"account_id": world.accounts["acc1"].id,
                                                "description": "not mine"}),
            404, "ACCOUNT_NOT_FOUND")  # someone else's account looks like a missing one
    assert db_snapshot(db) == before

    # a customer may apply for a new connection without an account, and sees it
    applied = ok(as_user("customer1").post(WO, json={
        "kind": "new_connection", "area_id": area.id, "description": "new shop"}), 201)
    assert applied["channel"] == "app"
    assert applied["id"] in listed(as_user("customer1"))
    assert applied["id"] not in listed(as_user("customer2"))


# -- idempotency and conflicts ---------------------------------------------------------
def test_report_with_client_id_is_idempotent(as_user, world, db):
    customer = as_user("customer1")
    body = {"id": new_id(), "account_id": world.accounts["acc1"].id,
            "description": "no power since 9 am"}
    first = customer.post(WO, json=body)
    assert first.status_code == 201, first.text
    again = customer.post(WO, json=body)
    assert again.status_code == 200, again.text
    assert again.json()["id"] == first.json()["id"] == body["id"]
    assert again.json()["code"] == first.json()["code"]
    assert len(table_rows(db, "work_order")) == 1
    assert len(table_rows(db, "work_order_event")) == 1

    before = db_snapshot(db)
    refused(customer.post(WO, json={**body, "description": "something else"}), 409,
            "IDEMPOTENCY_CONFLICT")
    # someone else re-using the id learns nothing about the job behind it
    refused(as_user("customer2").post(WO, json={**body}), 409, "IDEMPOTENCY_CONFLICT")
    refused(as_user("dispatcher2").post(WO, json={**body}), 409, "IDEMPOTENCY_CONFLICT")
    assert db_snapshot(db) == before


def test_action_event_id_makes_a_retry_a_no_op(as_user, world, db):
    dispatcher, crew = as_user("dispatcher1"), as_user("crew1")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    ev = new_id()
    body = {"event_id": ev, "assignee_id": world.user("crew1").id}
    first = act(dispatcher, oid, "dispatch", **body)
    retry = act(dispatcher, oid, "dispatch", **body)  # the answer was lost; sent again
    assert retry["version"] == first["version"] == 2
    assert retry["status"] == "dispatched"
    assert [e["id"] for e in retry["timeline"]][-1] == ev
    assert len(table_rows(db, "work_order_event", work_order_id=oid)) == 2

    note = {"event_id": new_id(), "text": "gate code 1234"}
    act(crew, oid, "add-note", **note)
    act(crew, oid, "add-note", **note)
    notes = [e for e in ok(crew.get(f"{WO}/{oid}"))["timeline"] if e["action"] == "add_note"]
    assert len(notes) == 1

    before = db_snapshot(db)
    # the same event id for another action, or on another job, is refused
    refused(crew.post(f"{WO}/{oid}/accept", json={"event_id": ev}), 409,
            "IDEMPOTENCY_CONFLICT")
    other = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    snap_other = db_snapshot(db)
    refused(dispatcher.post(f"{WO}/{other}/dispatch", json=body), 409, "IDEMPOTENCY_CONFLICT")
    assert db_snapshot(db) == snap_other
    assert before != snap_other  # (the second job was really created in between)


def test_expected_version_conflict(as_user, world, db):
    dispatcher, crew = as_user("dispatcher1"), as_user("crew1")
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    seen = ok(dispatcher.get(f"{WO}/{oid}"))["version"]
    moved = act(dispatcher, oid, "dispatch", assignee_id=world.user("crew1").id,
                expected_version=seen)
    assert moved["version"] == seen + 1
    before = db_snapshot(db)
    stale = refused(crew.post(f"{WO}/{oid}/accept", json={"expected_version": seen}), 409,
                    "VERSION_CONFLICT")
    assert stale["details"] == {"expected": seen, "actual": seen + 1}
    assert db_snapshot(db) == before
    assert act(crew, oid, "accept", expected_version=seen + 1)["version"] == seen + 2


def test_transition_refusals_name_the_status_and_action(as_user, world, db):
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    before = db_snapshot(db)
    body = refused(as_user("dispatcher1").post(f"{WO}/{oid}/close", json={}), 409,
                   "WO_TRANSITION_NOT_ALLOWED")
    assert body["details"] == {"action": "close", "status": "reported"}
    assert body["message"] == "The work order is 'Reported'; 'close' is not possible now."
    # who before what (issue 8, item 9): not their job, whatever its status
    refused(as_user("crew1").post(f"{WO}/{oid}/resolve", json={"resolution": "x"}), 403,
            "WO_NOT_ASSIGNEE")
    refused(as_user("customer1").post(f"{WO}/{oid}/dispatch",
                                      json={"assignee_id": world.user("crew1").id}),
            403, "WO_ROLE_NOT_ALLOWED")
    refused(as_user("dispatcher1").get(f"{WO}/{new_id()}"), 404, "WORK_ORDER_NOT_FOUND")
    assert db_snapshot(db) == before


# -- languages ------------------------------------------------------------------------
def test_messages_follow_accept_language_default_chinese(as_user, world, db):
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    url = f"{WO}/{oid}/dispatch"
    body = {"assignee_id": world.user("crew1").id}
    zh = as_user("customer1", lang="zh-CN,zh;q=0.9,en;q=0.5").post(url, json=body)
    en = as_user("customer1", lang="en-US,en;q=0.9").post(url, json=body)
    bare = as_user("customer1")
    del bare.headers["Accept-Language"]
    default = bare.post(url, json=body)
    for r in (zh, en, default):
        refused(r, 403, "WO_ROLE_NOT_ALLOWED")
    assert zh.json()["message"] == "您的岗位不能对工单执行“派单”。"
    assert default.json()["message"] == zh.json()["message"]
    assert en.json()["message"] == "Your role may not 'dispatch' a work order."
    # English preferred over Chinese by q-value
    prefer_en = as_user("customer1", lang="zh;q=0.4, en;q=0.8").post(url, json=body)
    assert prefer_en.json()["message"] == en.json()["message"]

    missing = f"{WO}/{new_id()}"
    zh404 = as_user("customer1", lang="zh").get(missing).json()["message"]
    en404 = as_user("customer1", lang="en").get(missing).json()["message"]
    assert zh404.startswith("找不到工单") and en404.startswith("Work order ")
    anon = as_user(None, lang="zh").get(WO)
    refused(anon, 401, "AUTH_REQUIRED")
    assert anon.json()["message"] == "请先登录。"
    assert anon.headers["WWW-Authenticate"] == "Bearer"
