"""The times a synced op is recorded at (issue 8): one clock correction per device session,
so a job's times keep device order (item 11); device times bounded by the job and by the
server's receipt, flagged for the office when out of bounds (item 19)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from shared.timeutil import as_utc, utcnow
from tests.conftest import svc_act, svc_report, table_rows
from tests.integration.sync_kit import dispatched_job, op, push

ACCEPT, ARRIVE = "work_order.accept@1", "work_order.arrive@1"


def _t(value: Any) -> datetime:
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _job(db: Any, oid: str) -> dict[str, Any]:
    (row,) = table_rows(db, "work_order", id=oid)
    return row


def _event(db: Any, oid: str, action: str) -> dict[str, Any]:
    (event,) = [e for e in table_rows(db, "work_order_event", work_order_id=oid)
                if e["action"] == action]
    data = event["data"]
    return {**event, "data": json.loads(data) if isinstance(data, str) else data}


def test_item11_one_clock_correction_per_device_session_keeps_device_order(
        as_user, world, db) -> None:
    """The second push measures another offset (network jitter): its ops are still
    corrected with the session's, so the job's times keep the device's order and gaps."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    now = utcnow()
    accept = op(1, ACCEPT, oid, created_at=now - timedelta(seconds=70))
    push(crew, [accept], sent_at=now - timedelta(seconds=60))  # the clock is 60 s behind
    arrive = op(2, ARRIVE, oid, lane_prev=accept["op_id"],
                created_at=now - timedelta(seconds=65))  # 5 s later on the device
    push(crew, [arrive], sent_at=utcnow() + timedelta(seconds=30))  # jitter: -30 s now
    row = _job(db, oid)
    assert _t(row["arrived_at"]) - _t(row["accepted_at"]) == timedelta(seconds=5)
    assert abs(_t(row["accepted_at"]) - (now - timedelta(seconds=10))) < timedelta(seconds=2)
    (device,) = table_rows(db, "device", id=accept["device_id"])
    assert abs(device["clock_session_offset_s"] - 60) < 3  # (+ the transfer time)
    assert abs(device["last_clock_offset_s"] + 30) < 3  # measured, not used


def test_item11_after_a_clock_jump_a_later_op_never_gets_an_earlier_time(as_user, world,
                                                                        db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    now = utcnow()
    accept = op(1, ACCEPT, oid, created_at=now - timedelta(seconds=70))
    push(crew, [accept], sent_at=now - timedelta(seconds=60))
    # the clock was set 3 minutes ahead: a new session, whose correction puts the arrival
    # a few minutes before the accept -- it is moved onto the accept's time instead
    arrive = op(2, ARRIVE, oid, lane_prev=accept["op_id"],
                created_at=now - timedelta(seconds=65))
    push(crew, [arrive], sent_at=utcnow() + timedelta(minutes=3))
    row = _job(db, oid)
    assert row["arrived_at"] == row["accepted_at"]
    assert "time_flagged" not in _event(db, oid, "arrive")["data"]  # within tolerance


def test_item19_times_in_the_future_or_long_ago_get_the_server_time_and_a_flag(
        as_user, world, db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    ops = [op(1, ACCEPT, oid, created_at=datetime.fromisoformat("2020-01-01T08:00:00+08:00")),
           op(2, ARRIVE, oid, created_at=datetime.fromisoformat("2099-01-01T08:00:00+08:00"))]
    ops[1]["lane_prev"] = ops[0]["op_id"]
    before = utcnow()
    assert [r["status"] for r in push(crew, ops)] == ["applied", "applied"]
    after = utcnow()
    row = _job(db, oid)
    for action, column, reason in (("accept", "accepted_at", "too_old"),
                                   ("arrive", "arrived_at", "after_receipt")):
        assert before <= _t(row[column]) <= after, (column, row[column])
        flag = _event(db, oid, action)["data"]["time_flagged"]
        assert flag["reason"] == reason
        assert flag["device_time"][:4] in ("2020", "2099")
        (rec,) = table_rows(db, "applied_op", op_id=ops[0 if action == "accept" else 1]["op_id"])
        result = json.loads(rec["result"]) if isinstance(rec["result"], str) else rec["result"]
        assert result["time_flagged"]["reason"] == reason


def test_item19_a_crew_cannot_move_its_arrival_before_the_dispatch_to_meet_a_deadline(
        as_user, world, db) -> None:
    """The job came in three hours ago and is overdue; the crew arrives now but stamps the
    arrival a day back (before the job was even dispatched): recorded at the server's
    time of receipt -- still late -- and flagged for the office."""
    reported = utcnow() - timedelta(hours=3)
    oid = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id, at=reported)
    svc_act(db, world, "dispatcher1", oid, "dispatch", at=reported + timedelta(minutes=5),
            assignee_id=world.user("crew1").id)
    crew = as_user("crew1")
    accept = op(1, ACCEPT, oid, created_at=reported + timedelta(minutes=6))
    arrive = op(2, ARRIVE, oid, lane_prev=accept["op_id"],
                created_at=reported - timedelta(days=1))
    assert [r["status"] for r in push(crew, [accept, arrive])] == ["applied", "applied"]
    row = _job(db, oid)
    # plausible: trusted (corrected by the push's offset: its transfer time, ~1 s)
    assert abs(_t(row["accepted_at"]) - (reported + timedelta(minutes=6))) < timedelta(
        seconds=3)
    assert _t(row["arrived_at"]) > _t(row["arrive_by"])  # the deadline is still missed
    assert utcnow() - _t(row["arrived_at"]) < timedelta(minutes=1)
    assert _event(db, oid, "arrive")["data"]["time_flagged"]["reason"] == "before_job"


def test_item19_a_time_a_little_before_the_dispatch_is_moved_onto_it(as_user, world,
                                                                    db) -> None:
    """Clock jitter (within five minutes) is not a lie: moved onto the bound, no flag."""
    dispatched = utcnow() - timedelta(minutes=30)
    oid = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     at=dispatched - timedelta(minutes=1))
    svc_act(db, world, "dispatcher1", oid, "dispatch", at=dispatched,
            assignee_id=world.user("crew1").id)
    accept = op(1, ACCEPT, oid, created_at=dispatched - timedelta(minutes=2))
    assert push(as_user("crew1"), [accept])[0]["status"] == "applied"
    assert _t(_job(db, oid)["accepted_at"]) == dispatched
    assert "time_flagged" not in _event(db, oid, "accept")["data"]


def test_item19_a_customer_cannot_back_date_a_report(as_user, world, db) -> None:
    """A report's time sets the job's deadlines: a week-old claim gets the server's time."""
    from shared.ids import new_id

    oid = new_id()
    report = {**op(1, "work_order.report@1", oid, {
        "kind": "fault_repair", "account_id": world.accounts["acc1"].id,
        "description": "Sparks at the meter"}, device="device-cust1-0001",
        created_at=utcnow() - timedelta(days=8))}
    assert push(as_user("customer1"), [report], device="device-cust1-0001")[0][
        "status"] == "applied"
    assert utcnow() - _t(_job(db, oid)["reported_at"]) < timedelta(minutes=1)
    assert _event(db, oid, "report")["data"]["time_flagged"]["reason"] == "too_old"
