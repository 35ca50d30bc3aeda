"""The push's edge (issue 8): each envelope checked on its own (item 4), the number of
ops (item 6), ``device_seq`` enforced (item 5), versions negotiated (item 8), every
integer bounded (item 24). Real app, real SQLite, real HTTP through the ASGI client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import MAX_DEVICE_SEQ, MAX_PUSH_OPS, PROTOCOL_VERSION
from tests.conftest import db_snapshot, table_rows
from tests.integration.sync_kit import DEVICE, dispatched_job, op, push, push_raw

NOTE = "work_order.add_note@1"

# What a second client got wrong, one envelope field at a time (item 4).
BAD_ENVELOPES: list[tuple[str, dict[str, Any], str]] = [
    ("upper-case op_id", {"op_id": "0190F0F4-8A1C-7C3E-9A55-3F0E3B1A2C4D"}, "op_id"),
    ("a time without offset", {"created_at": "2026-11-27T09:41:07"}, "created_at"),
    ("a lane over 100 characters", {"lane": "x" * 101}, "lane"),
    ("more than 20 photo hashes", {"photos": ["a" * 64] * 21}, "photos"),
    ("device_seq of 2^63", {"device_seq": 2**63}, "device_seq"),
    ("device_seq zero", {"device_seq": 0}, "device_seq"),
    ("device_seq as text", {"device_seq": "7"}, "device_seq"),
    ("an unknown field", {"colour": "red"}, "colour"),
    ("base_version past 32 bits", {"base_version": 2**31}, "base_version"),
]


@pytest.mark.parametrize(("what", "change", "field"), BAD_ENVELOPES,
                         ids=[b[0] for b in BAD_ENVELOPES])
def test_item4_one_bad_envelope_does_not_block_the_push(
        as_user, world, db, what: str, change: dict[str, Any], field: str) -> None:
    oid = dispatched_job(db, world)
    other = dispatched_job(db, world)
    crew = as_user("crew1")
    before = op(1, NOTE, oid, {"text": "before"})
    bad = {**op(2, NOTE, other, {"text": "bad"}), **change}
    after = op(3, "work_order.accept@1", oid, lane_prev=before["op_id"])
    results = push(crew, [before, bad, after])
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"], results
    assert results[1]["code"] == "SYNC_OP_INVALID"
    assert any(e["field"].startswith(field) for e in results[1]["details"]["errors"]), results[1]
    assert results[1]["message"].startswith("This change is malformed")
    assert table_rows(db, "work_order", id=oid)[0]["status"] == "accepted"
    assert not [e for e in table_rows(db, "work_order_event", work_order_id=other)
                if e["action"] == "add_note"]


def test_item4_ops_that_are_not_objects_are_refused_alone(as_user, world, db) -> None:
    oid = dispatched_job(db, world)
    good = op(1, NOTE, oid, {"text": "fine"})
    results = push(as_user("crew1"), [42, "op", None, [1], good])
    assert [r["status"] for r in results] == ["rejected"] * 4 + ["applied"]
    assert {r["code"] for r in results[:4]} == {"SYNC_OP_INVALID"}
    assert [r["op_id"] for r in results] == ["", "", "", "", good["op_id"]]


def test_item4_an_invalid_op_is_recorded_and_its_lane_is_held_not_stuck(
        as_user, world, db) -> None:
    """Under a valid op id the refusal is recorded: the same answer when sent again, and
    the next op of its lane is held behind it (rejected, predecessor rejected) instead of
    waiting for ever for a predecessor the server never heard of."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    bad = {**op(1, NOTE, oid, {"text": "x"}), "created_at": "2026-11-27T09:41:07"}
    nxt = op(2, "work_order.accept@1", oid, lane_prev=bad["op_id"])
    first = push(crew, [bad])
    assert first[0]["code"] == "SYNC_OP_INVALID"
    (rec,) = table_rows(db, "applied_op", op_id=bad["op_id"])
    assert (rec["status"], rec["code"]) == ("rejected", "SYNC_OP_INVALID")
    again, held = push(crew, [bad, nxt])
    assert (again["status"], again["code"]) == ("rejected", "SYNC_OP_INVALID")
    assert (held["status"], held["code"]) == ("rejected", "SYNC_LANE_PREDECESSOR_REJECTED")
    fixed = {**bad, "created_at": "2026-11-27T09:41:07+08:00", "payload": {"text": "y"}}
    assert push(crew, [fixed])[0]["code"] == "SYNC_OP_ID_REUSED"


@pytest.mark.parametrize("body", [
    "not json", "[]", '{"protocol": 1, "device_id": "device-crew1-0001", '
    '"sent_at": "2026-11-27T10:00:00+08:00", "ops": {"a": 1}}',
    '{"protocol": 1, "device_id": "short", "sent_at": "2026-11-27T10:00:00+08:00", '
    '"ops": []}'], ids=["not JSON", "not an object", "ops not a list", "bad device id"])
def test_item4_only_a_malformed_top_level_fails_the_whole_push(as_user, world, db,
                                                              body: str) -> None:
    before = db_snapshot(db, exclude=("rate_limit",))
    r = as_user("crew1").post("/api/v1/sync/push", content=body,
                              headers={"Content-Type": "application/json"})
    assert r.status_code in (400, 422), r.text
    assert r.json()["code"] in ("MALFORMED_JSON", "VALIDATION_ERROR")
    assert db_snapshot(db, exclude=("rate_limit",)) == before


@pytest.mark.parametrize("value", ["NaN", "-Infinity"], ids=["NaN", "Infinity"])
def test_what_only_pythons_json_reads_is_answered_as_before(as_user, world, db,
                                                            value: str) -> None:
    """orjson reads push bodies (``server.routing``) and refuses ``NaN``; the body is then
    read as the json module reads it, so validation answers as it always did (a lone
    surrogate in one op: ``tests/integration/test_input_rules.py``, that op alone)."""
    before = db_snapshot(db, exclude=("rate_limit",))
    body = ('{"protocol": ' + value + ', "device_id": "device-crew1-0001", '
            '"sent_at": "2026-11-27T10:00:00+08:00", "ops": []}')
    r = as_user("crew1").post("/api/v1/sync/push", content=body,
                              headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "VALIDATION_ERROR" and "protocol" in r.json()["message"]
    assert db_snapshot(db, exclude=("rate_limit",)) == before


@pytest.mark.parametrize("body", ['{"protocol": 1}', "{}", '{"ops": "x", "protocol": -1}'],
                         ids=["fields missing", "empty", "wrong types"])
def test_an_anonymous_push_hears_401_whatever_its_body(as_user, world, db, body: str) -> None:
    """Who asks is checked before the body's fields are (the token on the event loop, in
    the push's own dependency): an unauthenticated caller learns nothing of what its
    body lacks. (Text that is not JSON at all is refused first, as FastAPI reads it.)"""
    before = db_snapshot(db, exclude=("rate_limit",))
    r = as_user(None).post("/api/v1/sync/push", content=body,
                           headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "AUTH_REQUIRED", r.text
    r = as_user(None).post("/api/v1/sync/push", content=body, headers={
        "Content-Type": "application/json", "Authorization": "Bearer not-a-token"})
    assert r.status_code == 401 and r.json()["code"].startswith("AUTH_TOKEN"), r.text
    assert db_snapshot(db, exclude=("rate_limit",)) == before


def test_a_bad_device_header_on_a_push_is_422_naming_the_header(as_user, world, db) -> None:
    job = dispatched_job(db, world)
    before = db_snapshot(db, exclude=("rate_limit",))
    r = as_user("crew1").post("/api/v1/sync/push", headers={"X-Device-ID": "no spaces!"},
                              json={"protocol": PROTOCOL_VERSION, "device_id": DEVICE,
                                    "sent_at": "2026-11-27T10:00:00+08:00",
                                    "ops": [op(1, "work_order.add_note@1", job,
                                               {"text": "hello"})]})
    assert r.status_code == 422, r.text
    assert [f["loc"] for f in r.json()["details"]["fields"]] == [["header", "X-Device-ID"]]
    assert db_snapshot(db, exclude=("rate_limit",)) == before


def test_item6_more_than_the_maximum_ops_is_413_payload_too_large(as_user, world,
                                                                  db) -> None:
    oid = dispatched_job(db, world)
    ops = [op(i + 1, NOTE, oid, {"text": f"n{i}"}) for i in range(MAX_PUSH_OPS + 1)]
    before = db_snapshot(db, exclude=("rate_limit",))
    r = push_raw(as_user("crew1"), ops)
    assert r.status_code == 413, r.text
    body = r.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert body["details"] == {"limit": MAX_PUSH_OPS, "ops": MAX_PUSH_OPS + 1}
    assert "split" in body["message"]
    assert db_snapshot(db, exclude=("rate_limit",)) == before
    assert [x["status"] for x in push(as_user("crew1"), ops[:MAX_PUSH_OPS])] == (
        ["applied"] * MAX_PUSH_OPS)


def test_item5_a_repeated_or_lower_device_seq_in_a_push_is_refused(as_user, world,
                                                                   db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    a, b, c = (op(5, NOTE, oid, {"text": "a"}), op(5, NOTE, oid, {"text": "b"}),
               op(3, NOTE, oid, {"text": "c"}))
    results = push(crew, [a, b, c])
    assert [r["status"] for r in results] == ["applied", "rejected", "rejected"]
    assert {r["code"] for r in results[1:]} == {"SYNC_DEVICE_SEQ_NOT_INCREASING"}
    assert results[2]["details"] == {"device_seq": 3, "previous": 5}
    notes = [e for e in table_rows(db, "work_order_event", work_order_id=oid)
             if e["action"] == "add_note"]
    assert len(notes) == 1
    # the same op sent twice in one push is a duplicate, not a violation
    d = op(6, NOTE, oid, {"text": "d"})
    assert [r["status"] for r in push(crew, [d, d])] == ["applied", "duplicate"]


def test_item5_a_number_used_by_another_op_of_the_device_is_refused(as_user, world,
                                                                    db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    first = op(7, NOTE, oid, {"text": "first"})
    assert push(crew, [first])[0]["status"] == "applied"
    (again,) = push(crew, [op(7, NOTE, oid, {"text": "second"})])
    assert (again["status"], again["code"]) == ("rejected", "SYNC_DEVICE_SEQ_REUSED")
    assert again["details"] == {"device_seq": 7, "op_id": first["op_id"]}
    assert push(crew, [first])[0]["status"] == "duplicate"  # a resend is no violation


def test_item5_deferred_ops_keep_their_numbers_and_are_decided_later(as_user, world,
                                                                     db) -> None:
    """An op deferred behind a missing predecessor comes back with its own (lower)
    number after later ops of other lanes were applied: that is no violation."""
    oid, other = dispatched_job(db, world), dispatched_job(db, world)
    crew = as_user("crew1")
    accept = op(1, "work_order.accept@1", oid)
    waiting = op(2, NOTE, oid, {"text": "behind"}, lane_prev=accept["op_id"])
    elsewhere = op(3, NOTE, other, {"text": "other lane"})
    results = push(crew, [waiting, elsewhere])
    assert [r["status"] for r in results] == ["deferred", "applied"]
    assert [r["status"] for r in push(crew, [accept, waiting])] == ["applied", "applied"]


def test_item5_a_reinstalled_app_is_a_new_device_and_numbers_from_one(as_user, world,
                                                                      db) -> None:
    """The device id lives in the app's database: a reinstall makes a new one and counts
    from 1 again; the old device's numbers stay taken."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    assert push(crew, [op(1, NOTE, oid, {"text": "old install"})])[0]["status"] == "applied"
    reinstalled = "device-crew1-0002"
    fresh = op(1, NOTE, oid, {"text": "new install"}, device=reinstalled)
    assert push(crew, [fresh], device=reinstalled)[0]["status"] == "applied"
    assert push(crew, [op(1, NOTE, oid, {"text": "x"})])[0]["code"] == (
        "SYNC_DEVICE_SEQ_REUSED")


def test_item24_the_largest_device_seq_is_stored_and_one_more_is_refused(as_user, world,
                                                                         db) -> None:
    oid = dispatched_job(db, world)
    top = op(MAX_DEVICE_SEQ, NOTE, oid, {"text": "last number"})
    over = {**op(1, NOTE, oid, {"text": "over"}), "device_seq": MAX_DEVICE_SEQ + 1}
    results = push(as_user("crew1"), [top, over])
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert results[1]["code"] == "SYNC_OP_INVALID"
    (rec,) = table_rows(db, "applied_op", op_id=top["op_id"])
    assert rec["device_seq"] == MAX_DEVICE_SEQ


@pytest.mark.parametrize("protocol", [2**63, -1, 2**31, 1.5, "1", True, None])
def test_item24_an_unusable_protocol_number_is_422_not_500(as_user, world, db,
                                                           protocol: Any) -> None:
    before = db_snapshot(db, exclude=("rate_limit",))
    r = push_raw(as_user("crew1"), [], protocol=protocol)
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), r.text
    if protocol != "1":  # (a query string is text: "1" is the number one there)
        r = as_user("crew1").get("/api/v1/sync/pull", params={"protocol": str(protocol)})
        assert r.status_code == 422, r.text
    assert db_snapshot(db, exclude=("rate_limit",)) == before


def test_item8_versions_are_negotiated_on_push_and_pull(as_user, world, db) -> None:
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    note = op(1, NOTE, oid, {"text": "hi"})
    old = push_raw(crew, [note], protocol=0)
    assert old.status_code == 426
    assert old.json()["code"] == "SYNC_CLIENT_TOO_OLD"
    assert old.json()["details"] == {"minimum": 1, "maximum": PROTOCOL_VERSION}
    new = push_raw(crew, [note], protocol=PROTOCOL_VERSION + 1)
    assert (new.status_code, new.json()["code"]) == (400, "SYNC_CLIENT_TOO_NEW")
    assert new.json()["details"] == {"minimum": 1, "maximum": PROTOCOL_VERSION}
    assert table_rows(db, "applied_op") == []
    for protocol, status in ((0, 426), (PROTOCOL_VERSION + 1, 400), (PROTOCOL_VERSION, 200)):
        r = crew.get("/api/v1/sync/pull", params={"protocol": protocol})
        assert r.status_code == status, r.text
    zh = as_user("crew1", lang="zh")
    assert "升级" in push_raw(zh, [note], protocol=0).json()["message"]
    ok = push(crew, [note])
    assert ok[0]["status"] == "applied"


def test_item24_a_revoked_device_keeps_its_valid_ops_and_ignores_bad_ones(as_user, world,
                                                                          db) -> None:
    """The held-ops path reads the same per-op envelopes (a bad op is not held)."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    assert push(crew, [op(1, NOTE, oid, {"text": "seen"})])[0]["status"] == "applied"
    r = as_user("manager1").post(
        f"/api/v1/users/{world.user('crew1').id}/devices/{DEVICE}/revoke",
        json={"reason": "phone lost"})
    assert r.status_code == 200, r.text
    good = op(2, NOTE, oid, {"text": "held"})
    r = push_raw(crew, [good, {"op_id": new_id(), "device_seq": 2**70}])
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED")
    assert [h["op_id"] for h in table_rows(db, "held_op")] == [good["op_id"]]


def test_an_op_time_with_an_offset_is_recorded_as_the_same_instant(as_user, world, db) -> None:
    """A time sent with another offset than UTC (+08:00, the county's) is the same instant:
    the record and the event keep it in UTC, as one sent in UTC."""
    oid = dispatched_job(db, world)
    crew = as_user("crew1")
    local = (utcnow() - timedelta(seconds=30)).astimezone(timezone(timedelta(hours=8)))
    sent = {**op(1, NOTE, oid, {"text": "local time"}), "created_at": local.isoformat()}
    assert push(crew, [sent])[0]["status"] == "applied"
    (rec,) = table_rows(db, "applied_op", op_id=sent["op_id"])
    (event,) = table_rows(db, "work_order_event", id=sent["op_id"])
    utc_text = local.astimezone(UTC).isoformat(" ", "microseconds")[:26]
    assert str(rec["device_created_at"]) == utc_text
    assert abs(datetime.fromisoformat(str(event["occurred_at"])).replace(tzinfo=UTC)
               - local) < timedelta(seconds=5)
