"""Stall rules and escalation against a real database, at fixed times: a dispatched fault
nobody accepts is marked stalled with its reason (on the board and the job's panel), the
station manager is told once, the county dispatcher after the further delay, once; later
ticks tell nobody again; progress clears the mark. The rules are data an administrator
edits over the API (others may read them); bad edits are refused and store nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.dispatch.stalls import run_stall_rules
from shared.enums import Role
from shared.timeutil import utcnow
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.integration.office.board_kit import D, add_user, ok, put, refused


def notes(db, user_id):
    return sorted((n["kind"], n["title_en"]) for n in table_rows(db, "notification",
                                                                 user_id=user_id))


@pytest.fixture
def county(db):
    return add_user(db, "county", Role.DISPATCHER)


def test_a_fault_nobody_accepts_escalates_once_per_level(as_user, world, db, county):
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=3)
    job = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="no power", at=t0)
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id,
            at=t0 + timedelta(minutes=1))
    manager = world.user("manager1").id
    # 5 minutes after dispatch: not stalled yet (faults: 10 minutes to accept)
    r = run_stall_rules(db, now=t0 + timedelta(minutes=6))
    assert (r.stalled, r.level1_sent) == (0, 0)
    # 12 minutes after dispatch: stalled, the station manager is told
    r = run_stall_rules(db, now=t0 + timedelta(minutes=13))
    assert (r.stalled, r.newly_stalled, r.level1_sent, r.level2_sent) == (1, 1, 1, 0)
    assert notes(db, manager) == [("wo_stalled", f"Job {code(db, job)} stalled")]
    # the next ticks tell nobody again
    for minutes in (14, 20, 30):
        r = run_stall_rules(db, now=t0 + timedelta(minutes=minutes))
        assert (r.stalled, r.level1_sent, r.level2_sent) == (1, 0, 0)
    # 30 minutes after it stalled (fault rule: escalate after 30): the county dispatcher
    r = run_stall_rules(db, now=t0 + timedelta(minutes=42))
    assert (r.level1_sent, r.level2_sent) == (0, 1)
    assert [k for k, _ in notes(db, county)] == ["wo_stall_escalated"]
    r = run_stall_rules(db, now=t0 + timedelta(minutes=50))
    assert (r.level1_sent, r.level2_sent) == (0, 0)
    assert len(table_rows(db, "notification", user_id=manager)) == 1
    assert len(table_rows(db, "notification", user_id=county)) == 1
    # the mark and its reason are on the board and the panel (past its arrival deadline by
    # now too: town faults must be on site within 45 minutes)
    office = as_user("dispatcher1")
    page = ok(office.get(f"{D}/board", params={"list": "stalled"}))
    assert [row["id"] for row in page["items"]] == [job]
    assert page["items"][0]["stall_reasons"] == ["not_accepted", "past_arrival"]
    panel = ok(office.get(f"{D}/jobs/{job}"))
    assert panel["stall"]["active"] and panel["stall"]["level2_at"]
    assert ok(office.get(f"{D}/board/counts"))["counts"]["stalled"] == 1
    # the manager reads it in their inbox, in their language
    inbox = ok(as_user("manager1", lang="zh").get("/api/v1/notifications",
                                                  params={"lang": "zh"}))
    assert inbox[0]["title"].startswith("工单") and "派单后未接单" in inbox[0]["body"]
    # the crew accepts and arrives: the mark clears (no new notices)
    svc_act(db, world, "crew1", job, "accept", at=t0 + timedelta(minutes=55))
    svc_act(db, world, "crew1", job, "arrive", gps=None, at=t0 + timedelta(minutes=56))
    r = run_stall_rules(db, now=t0 + timedelta(minutes=57))
    assert (r.stalled, r.cleared, r.level1_sent, r.level2_sent) == (0, 1, 0, 0)
    assert ok(office.get(f"{D}/board", params={"list": "stalled"}))["total"] == 0
    assert ok(office.get(f"{D}/jobs/{job}"))["stall"]["active"] is False


def code(db, job_id):
    return table_rows(db, "work_order", id=job_id)[0]["code"]


def test_running_twice_for_the_same_moment_changes_nothing(world, db, county):
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=10)
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
               description="old fault", at=t0)
    now = t0 + timedelta(hours=9)
    first = run_stall_rules(db, now=now)
    assert first.stalled == 1 and first.level1_sent == 1 and first.level2_sent == 1
    snap = db_snapshot(db)
    again = run_stall_rules(db, now=now)
    assert (again.level1_sent, again.level2_sent, again.newly_stalled) == (0, 0, 0)
    assert db_snapshot(db) == snap


def test_a_resolved_or_cancelled_job_is_no_longer_stalled(world, db, county):
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=10)
    job = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="old fault", at=t0)
    assert run_stall_rules(db, now=t0 + timedelta(hours=2)).stalled == 1
    svc_act(db, world, "dispatcher1", job, "cancel", reason="duplicate",
            at=t0 + timedelta(hours=3))
    r = run_stall_rules(db, now=t0 + timedelta(hours=3, minutes=1))
    assert (r.checked, r.cleared) == (0, 1)


def test_the_levels_go_to_the_right_people(world, db, county):
    """No manager at station 2: its dispatcher is told at level 1."""
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=10)
    svc_report(db, world, "dispatcher2", account_id=world.accounts["acc3"].id,
               description="mountain fault", at=t0)
    run_stall_rules(db, now=t0 + timedelta(hours=9))
    assert [k for k, _ in notes(db, world.user("dispatcher2").id)] == ["wo_stalled"]
    assert [k for k, _ in notes(db, county)] == ["wo_stall_escalated"]
    assert notes(db, world.user("manager1").id) == []


# -- the rules as data ---------------------------------------------------------------------------
def test_rules_are_data_the_administrator_edits(as_user, world, db, county):
    admin = as_user("admin")
    rules = ok(as_user("dispatcher1").get(f"{D}/stall-rules"))
    assert {(r["trigger"], r["kind"]) for r in rules} >= {("not_accepted", "fault_repair"),
                                                          ("reopened", "*")}
    fault = next(r for r in rules if r["trigger"] == "not_accepted"
                 and r["kind"] == "fault_repair")
    assert fault["threshold"] == 10 and fault["description"] == "not accepted after dispatch"
    got = ok(put(admin, f"{D}/stall-rules/{fault['id']}", {"threshold": 30,
                                                             "expected_version": 1}))
    assert got["threshold"] == 30 and got["version"] == 2
    assert table_rows(db, "audit_log", action="stall_rule.update")[0]["entity_id"] == fault["id"]
    # the new threshold is what the next tick applies
    t0 = utcnow().replace(microsecond=0) - timedelta(hours=2)
    job = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="no power", at=t0)
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id,
            at=t0)
    assert run_stall_rules(db, now=t0 + timedelta(minutes=20)).stalled == 0
    assert run_stall_rules(db, now=t0 + timedelta(minutes=31)).stalled == 1
    # a rule for one kind replaces the * rule for it
    created = ok(admin.post(f"{D}/stall-rules", json={
        "trigger": "no_progress", "kind": "meter_swap", "threshold": 120,
        "escalate_after_min": 60}), 201)
    assert created["kind"] == "meter_swap"
    # switched off, a trigger stops counting
    reopened = next(r for r in rules if r["trigger"] == "reopened")
    assert ok(put(admin, f"{D}/stall-rules/{reopened['id']}", {"active": False}))[
        "active"] is False


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"threshold": -1}, 422, "VALIDATION_ERROR"),
    ({"threshold": "ten"}, 422, "VALIDATION_ERROR"),
    ({"threshold": 0}, 422, "STALL_RULE_INVALID"),  # not accepted after 0 minutes
    ({"escalate_after_min": 0}, 422, "STALL_RULE_INVALID"),
    ({"threshold": 999_999}, 422, "STALL_RULE_INVALID"),
    ({"trigger": "x"}, 422, "VALIDATION_ERROR"),
    ({"expected_version": 7, "threshold": 20}, 409, "VERSION_CONFLICT"),
])
def test_bad_rule_edits_are_refused_and_store_nothing(as_user, db, body, status, code):
    admin = as_user("admin")
    rule = next(r for r in ok(admin.get(f"{D}/stall-rules"))
                if r["trigger"] == "not_accepted" and r["kind"] == "fault_repair")
    snap = db_snapshot(db)
    refused(put(admin, f"{D}/stall-rules/{rule['id']}", body), status, code)
    assert db_snapshot(db) == snap


def test_only_the_administrator_changes_rules(as_user, db):
    rules = ok(as_user("manager1").get(f"{D}/stall-rules"))
    snap = db_snapshot(db)
    for name in ("dispatcher1", "manager1"):
        refused(put(as_user(name), f"{D}/stall-rules/{rules[0]['id']}", {"threshold": 5}),
                403, "FORBIDDEN")
        refused(as_user(name).post(f"{D}/stall-rules/run"), 403, "FORBIDDEN")
    refused(as_user("crew1").get(f"{D}/stall-rules"), 403, "FORBIDDEN")
    admin = as_user("admin")
    refused(put(admin, f"{D}/stall-rules/{'0' * 36}", {"threshold": 5}), 404,
            "STALL_RULE_NOT_FOUND")
    for body in ({"trigger": "sleeping", "kind": "*", "threshold": 5, "escalate_after_min": 5},
                 {"trigger": "no_progress", "kind": "picnic", "threshold": 5,
                  "escalate_after_min": 5},
                 {"trigger": "no_progress", "kind": "*", "threshold": 5,
                  "escalate_after_min": 5}):  # the * rule exists
        refused(admin.post(f"{D}/stall-rules", json=body), 422, "STALL_RULE_INVALID")
    assert db_snapshot(db) == snap


def test_the_administrator_can_run_the_rules_now(as_user, world, db, county):
    t0 = utcnow() - timedelta(hours=10)
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
               description="old fault", at=t0)
    got = ok(as_user("admin").post(f"{D}/stall-rules/run"))
    assert got["stalled"] == 1 and got["level1_sent"] == 1
