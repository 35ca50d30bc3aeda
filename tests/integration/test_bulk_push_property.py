"""The set-wise push (``server.sync.bulk``) against its oracle, the per-op push
(``server.sync.push``): random op streams — valid, refused, duplicated, reused ids, out of
lane order, heavy ops in between — pushed into two copies of the same SQLite database,
one by each path; the answers and every table they write must be the same (but for the
server's own clock readings)."""

from __future__ import annotations

import functools
import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, text

from server.changes.models import TIMELINE, timeline_of
from server.db import make_database
from server.sync import bulk
from server.sync import push as per_op
from shared.timeutil import as_utc
from sync.protocol import OpEnvelope, PushRequest
from tests.conftest import actor_for, svc_act, svc_report
from tests.factories import build_world

DEVICE = "device-prop-0001"
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
#: Values the server takes from its own clock (differ between any two runs).
VOLATILE = {"received_at", "recorded_at", "updated_at", "last_seen", "first_seen", "at",
            "hash", "prev_hash", "created_at", "added_at", "uploaded_at"}
TABLES = ("work_order", "work_order_event", "applied_op", "change_log", "audit_log",
          "photo", "photo_link", "device", "counter")
SHA = "ab" * 32
#: The per-op push, in transactions of the same size as the set-wise one's.
oracle = functools.partial(per_op.push, chunk=bulk.CHUNK)


@pytest.fixture(scope="module")
def base(template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A world and its jobs, as a database file each example copies twice."""
    folder = tmp_path_factory.mktemp("bulk-prop")
    path = folder / "base.db"
    shutil.copy(template_db, path)
    db = make_database(f"sqlite:///{path}")
    try:
        world = build_world(db)
        acc1, acc2 = world.accounts["acc1"].id, world.accounts["acc2"].id
        at = T0 - timedelta(hours=1)  # the jobs exist before the ops (times are bounded)
        mine = []
        for _ in range(3):  # dispatched to crew1
            oid = svc_report(db, world, "dispatcher1", account_id=acc1, description="mine",
                             at=at)
            svc_act(db, world, "dispatcher1", oid, "dispatch", at=at,
                    assignee_id=world.user("crew1").id)
            mine.append(oid)
        other = svc_report(db, world, "dispatcher1", account_id=acc2, description="crew1b's",
                           at=at)
        svc_act(db, world, "dispatcher1", other, "dispatch", at=at,
                assignee_id=world.user("crew1b").id)
        unassigned = svc_report(db, world, "dispatcher1", account_id=acc1,
                                description="not dispatched", at=at)
        hidden = svc_report(db, world, "dispatcher2", account_id=world.accounts["acc3"].id,
                            description="another station", at=at)
        actor = actor_for(db, "crew1", world)
        with db.reader.connect() as conn:  # the change log's end before any push
            seq = conn.execute(text("SELECT max(seq) FROM change_log")).scalar()
    finally:
        db.dispose()
    return {"path": path, "folder": folder, "jobs": [*mine, other, unassigned, hidden],
            "actor": actor, "seq": seq}


_TEXT = st.sampled_from(["Replaced fuse", "", "   ", "检查了表箱", "x" * 2100])
_PAYLOADS: dict[str, Any] = {
    "work_order.accept@1": st.just({}),
    "work_order.start_travel@1": st.just({}),
    "work_order.arrive@1": st.one_of(
        st.just({}), st.builds(lambda a: {"gps": {"lat": 28.1, "lon": 112.9, "accuracy_m": a}},
                               st.sampled_from([5, 80, 5000]))),
    "work_order.add_note@1": st.builds(lambda t: {"text": t}, _TEXT),
    "work_order.request_help@1": st.one_of(st.just({}), st.just({"reason": "Need a ladder"})),
    "work_order.resolve@1": st.one_of(
        st.builds(lambda t: {"resolution": t}, _TEXT),
        st.just({"resolution": "Fixed", "cause": "storm"})),
    "work_order.confirm@1": st.one_of(st.just({}), st.just({"rating": 5}),
                                      st.just({"rating": 9})),
    "work_order.cancel@1": st.one_of(st.just({}), st.just({"reason": "Duplicate report"})),
    "work_order.decline@1": st.one_of(st.just({}), st.just({"reason": "Out of area"})),
    "work_order.add_photo@1": st.just({"sha256": SHA, "caption": "meter box"}),
    "work_order.bogus@1": st.just({}),
}
_STEP = st.tuples(
    st.sampled_from(sorted(_PAYLOADS)),  # type
    st.integers(0, 5),  # job index
    st.sampled_from(["chain", "chain", "chain", "none", "missing"]),  # lane_prev
    st.sampled_from(["new", "new", "new", "new", "repeat", "reuse", "stranger"]),
    st.integers(0, 10_000),  # seconds after T0 (device clock)
    st.booleans(),  # with an expected_version
    st.data(),
)


def _streams(draw: Any) -> list[list[dict[str, Any]]]:
    """Pushes of op dicts (the same list goes to both paths)."""
    steps = draw(st.lists(_STEP, min_size=1, max_size=45))
    sent: list[dict[str, Any]] = []
    last_of_lane: dict[str, str] = {}
    seq = 0
    ops: list[dict[str, Any]] = []
    for type_, job, prev, how, secs, versioned, data in steps:
        if how == "repeat" and sent:
            ops.append(dict(data.draw(st.sampled_from(sent))))
            continue
        seq += 1
        payload = dict(data.draw(_PAYLOADS[type_]))
        if versioned:
            payload["expected_version"] = data.draw(st.integers(1, 6))
        lane_job = job
        op = {"op_id": str(uuid.UUID(int=data.draw(st.integers(1, 2**60)), version=4)),
              "device_id": DEVICE if how != "stranger" else "device-other-0002",
              "device_seq": seq, "type": type_, "entity_id": f"JOB{lane_job}",
              "lane": f"work_order:JOB{lane_job}", "payload": payload, "photos": [],
              "created_at": (T0 + timedelta(seconds=secs)).isoformat(),
              "lane_prev": (last_of_lane.get(f"JOB{lane_job}") if prev == "chain" else
                            str(uuid.uuid5(uuid.NAMESPACE_OID, str(seq)))
                            if prev == "missing" else None)}
        if how == "reuse" and sent:
            op["op_id"] = data.draw(st.sampled_from(sent))["op_id"]
        last_of_lane[f"JOB{lane_job}"] = op["op_id"]
        sent.append(op)
        ops.append(op)
    cuts = sorted(draw(st.lists(st.integers(1, max(1, len(ops) - 1)), max_size=2)))
    pushes, start = [], 0
    for cut in [*cuts, len(ops)]:
        if cut > start:
            pushes.append(ops[start:cut])
            start = cut
    return pushes


def _dump(db: Any) -> dict[str, list[str]]:
    out = {}
    with db.reader.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings().all()
            if table == "change_log":
                rows = _logged_rows(conn, rows)
            elif table == "counter":  # the change log's end (fewer entries set-wise)
                end = conn.execute(text("SELECT max(seq) FROM change_log")).scalar()
                rows = [{**r, "value": "the log's end" if r["value"] == end else r["value"]}
                        if r["name"] == "change_seq" else r for r in rows]
            out[table] = sorted(json.dumps(_stable(table, r), sort_keys=True, default=str)
                                for r in rows)
    return out


def _logged_rows(conn: Any, entries: Any) -> list[dict[str, Any]]:
    """The change log as the rows it names: a timeline entry (the set-wise path's: a job's
    events of one chunk) as an entry per event it stands for, checked against its count.
    Without sequence numbers: the set-wise path takes fewer of them."""
    out = []
    for entry in entries:
        entry = {k: v for k, v in entry.items() if k != "seq"}
        if entry["entity"] != TIMELINE:
            out.append(entry)
            continue
        order_id, at = timeline_of(entry["entity_id"])
        events = [r.id for r in conn.execute(text(
            "SELECT id, recorded_at FROM work_order_event WHERE work_order_id = :j"),
            {"j": order_id}) if as_utc(datetime.fromisoformat(r.recorded_at)) == at]
        assert len(events) == entry["version"], (entry, events)
        out.extend({**entry, "entity": "work_order_event", "entity_id": event_id,
                    "version": 1} for event_id in events)
    return out


def _stable(table: str, row: Any) -> dict[str, Any]:
    """A row without what the server makes afresh: clock readings, random ids (a photo
    link's, a customer notice's: the per-op path makes both in either run)."""
    out = {k: v for k, v in row.items() if k not in VOLATILE}
    if table == "photo_link" or (table == "change_log"
                                 and row["entity"] in ("photo_link", "notification")):
        out.pop("id" if table == "photo_link" else "entity_id")
    return out


def _answers(results: list[Any]) -> list[dict[str, Any]]:
    out = []
    for r in results:
        d = r.model_dump()
        if d.get("row"):
            d["row"] = {k: v for k, v in d["row"].items() if k not in VOLATILE}
        out.append(d)
    return out


def _run(path: Path, pushes: list[list[dict[str, Any]]], jobs: list[str], actor: Any,
         decide: Any, skews: list[float] | None = None
         ) -> tuple[list[Any], dict[str, list[str]]]:
    """``pushes`` decided by ``decide``; ``skews``: each push's device clock behind the
    server's by that many seconds (none: in step)."""
    db = make_database(f"sqlite:///{path}")
    try:
        answers = []
        for n, ops in enumerate(pushes):
            real = [OpEnvelope.model_validate({
                **op, "entity_id": jobs[int(op["entity_id"][3:])],
                "lane": "work_order:" + jobs[int(op["lane"].split(":JOB")[1])]})
                for op in ops]
            received = T0 + timedelta(hours=3, minutes=n)
            skew = timedelta(seconds=skews[n] if skews else 0)
            request = PushRequest(protocol=1, device_id=DEVICE, ops=real,
                                  sent_at=received - skew)
            answers.append(_answers(decide(db, actor=actor, request=request, lang="en",
                                           received_at=received)))
        return answers, _dump(db)
    finally:
        db.dispose()


@settings(max_examples=40, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_set_wise_push_matches_the_per_op_push(base: dict[str, Any], data: Any) -> None:
    pushes = data.draw(st.composite(lambda draw: _streams(draw))())
    folder: Path = base["folder"]
    a, b = folder / "per_op.db", folder / "bulk.db"
    for p in (a, b):
        shutil.copy(base["path"], p)
    expected = _run(a, pushes, base["jobs"], base["actor"], oracle)
    got = _run(b, pushes, base["jobs"], base["actor"], bulk.push)
    _same(got, expected)


def _same(got: Any, expected: Any) -> None:
    assert got[0] == expected[0]  # the answers, op by op
    for table in TABLES:
        mine, theirs = got[1][table], expected[1][table]
        extra = [r for r in mine if r not in theirs][:2]
        missing = [r for r in theirs if r not in mine][:2]
        assert mine == theirs, (table, extra, missing)


def test_a_long_valid_stream_is_decided_set_wise(base: dict[str, Any]) -> None:
    """The property above would hold too if bulk sent every op down the per-op path: a
    stream of 250 valid notes on one job takes a few statements per chunk, not ~7 per op,
    and gives what the per-op path gives."""
    ops = [{"op_id": str(uuid.UUID(int=i + 1, version=4)), "device_id": DEVICE,
            "device_seq": i + 1, "type": "work_order.add_note@1", "entity_id": "JOB0",
            "lane": "work_order:JOB0", "payload": {"text": f"note {i}"}, "photos": [],
            "created_at": (T0 + timedelta(seconds=i)).isoformat(), "lane_prev": None}
           for i in range(250)]
    folder: Path = base["folder"]
    for name in ("valid_per_op.db", "valid_bulk.db"):
        shutil.copy(base["path"], folder / name)
    expected = _run(folder / "valid_per_op.db", [ops], base["jobs"], base["actor"], oracle)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        got = _run(folder / "valid_bulk.db", [ops], base["jobs"], base["actor"], bulk.push)
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert [a["status"] for a in got[0][0]] == ["applied"] * 250
    assert got[0][0][-1]["version"] == 2 + 250
    _same(got, expected)
    assert len(statements) < 60, len(statements)  # 3 chunks; per op it is ~1,800


def test_an_op_id_already_an_events_id_is_answered_as_the_per_op_push_answers(
        base: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    """A client that made an event online with its own id, then sent an op with that id:
    the set-wise push does not look for such ids, its event's insert fails and the chunk
    is decided again op by op. The answers and the database are the per-op path's, and
    the other ops of the chunk are applied. (The per-op path answers such an op as the
    online API answers a retry: applied, the job as it is, no second event.) The device
    pushed before and its clock is now 30 s behind, within its clock session: the replay
    notes the device with this push's own offset, as the per-op path does, not the
    session's."""
    folder: Path = base["folder"]
    taken = str(uuid.UUID(int=777, version=4))
    ops = [{"op_id": str(uuid.UUID(int=1000 + i, version=4)) if i != 3 else taken,
            "device_id": DEVICE, "device_seq": i + 1, "type": "work_order.add_note@1",
            "entity_id": "JOB0", "lane": "work_order:JOB0", "payload": {"text": f"note {i}"},
            "photos": [], "created_at": (T0 + timedelta(seconds=i)).isoformat(),
            "lane_prev": None} for i in range(9)]
    pushes = [ops[8:], ops[:8]]  # one note first (the device's clock session), then eight
    answers = []
    caplog.set_level("INFO", logger="gridone.sync.bulk")
    for name, decide in (("taken_per_op.db", oracle), ("taken_bulk.db", bulk.push)):
        shutil.copy(base["path"], folder / name)
        db = make_database(f"sqlite:///{folder / name}")
        try:  # the event made online, with the id the op will carry
            from server.uow import UnitOfWork
            from server.work_orders import service
            from shared.workorders.state_machine import Action

            with UnitOfWork(db, base["actor"]) as uow:
                service.act(uow, actor=base["actor"], order_id=base["jobs"][0],
                            action=Action.ADD_NOTE, data={"text": "online", "event_id": taken},
                            at=T0 - timedelta(minutes=1))
                uow.commit()
        finally:
            db.dispose()
        answers.append(_run(folder / name, pushes, base["jobs"], base["actor"], decide,
                            skews=[0, 30]))
    expected, got = answers
    _same(got, expected)
    assert [a["status"] for a in got[0][1]] == ["applied"] * 8
    assert got[0][1][-1]["version"] == 2 + 1 + 1 + 7  # dispatched, online, first push, 7
    (device,) = [json.loads(r) for r in got[1]["device"]]
    assert device["last_clock_offset_s"] == 30.0
    assert "replayed op by op" in caplog.text


def test_notes_spread_over_jobs_give_the_per_op_change_log(base: dict[str, Any]) -> None:
    """Notes taking turns over three jobs: the change log names the rows the per-op
    path's names, each job's ten events by one timeline entry counting them instead of
    an entry each. (Random streams seldom hold several jobs' valid ops.)"""
    ops = [{"op_id": str(uuid.UUID(int=5000 + i, version=4)), "device_id": DEVICE,
            "device_seq": i + 1, "type": "work_order.add_note@1", "entity_id": f"JOB{i % 3}",
            "lane": f"work_order:JOB{i % 3}", "payload": {"text": f"note {i}"}, "photos": [],
            "created_at": (T0 + timedelta(seconds=i)).isoformat(), "lane_prev": None}
           for i in range(30)]
    folder: Path = base["folder"]
    for name in ("spread_per_op.db", "spread_bulk.db"):
        shutil.copy(base["path"], folder / name)
    expected = _run(folder / "spread_per_op.db", [ops], base["jobs"], base["actor"], oracle)
    got = _run(folder / "spread_bulk.db", [ops], base["jobs"], base["actor"], bulk.push)
    assert [a["status"] for a in got[0][0]] == ["applied"] * 30
    _same(got, expected)
    logged = {}
    for name in ("spread_per_op.db", "spread_bulk.db"):
        db = make_database(f"sqlite:///{folder / name}")
        try:
            with db.reader.connect() as conn:
                logged[name] = conn.execute(text(
                    "SELECT entity, version FROM change_log WHERE entity IN "
                    "('work_order_event', :t) AND seq > :s ORDER BY seq"),
                    {"t": TIMELINE, "s": base["seq"]}).all()
        finally:
            db.dispose()
    assert [tuple(r) for r in logged["spread_bulk.db"]] == [(TIMELINE, 10)] * 3
    assert [tuple(r) for r in logged["spread_per_op.db"]] == [("work_order_event", 1)] * 30


@pytest.mark.parametrize("same_content", [False, True], ids=["other content", "same content"])
def test_an_op_id_sent_again_under_a_new_number_is_answered_as_the_per_op_push_answers(
        base: dict[str, Any], same_content: bool) -> None:
    """An op id sent again under a new, higher number (a client's mistake): reused with
    other content, or a duplicate, as the per-op push answers; the other ops apply."""
    def note(i: int, op_id: str, text: str) -> dict[str, Any]:
        return {"op_id": op_id, "device_id": DEVICE, "device_seq": i, "lane_prev": None,
                "type": "work_order.add_note@1", "entity_id": f"JOB{i % 2}",
                "lane": f"work_order:JOB{i % 2}", "payload": {"text": text}, "photos": [],
                "created_at": (T0 + timedelta(seconds=i)).isoformat()}

    first = str(uuid.UUID(int=4242, version=4))
    pushes = [[note(1, first, "first")],
              [note(2, str(uuid.UUID(int=4243, version=4)), "second"),
               {**note(3, first, "first" if same_content else "not the first"),
                "entity_id": "JOB1", "lane": "work_order:JOB1"},
               note(4, str(uuid.UUID(int=4244, version=4)), "fourth")]]
    folder: Path = base["folder"]
    for name in ("again_per_op.db", "again_bulk.db"):
        shutil.copy(base["path"], folder / name)
    expected = _run(folder / "again_per_op.db", pushes, base["jobs"], base["actor"], oracle)
    got = _run(folder / "again_bulk.db", pushes, base["jobs"], base["actor"], bulk.push)
    _same(got, expected)
    answers = got[0][1]
    assert [a["status"] for a in answers] == ["applied", "duplicate" if same_content
                                              else "rejected", "applied"]
    if not same_content:
        assert answers[1]["code"] == "SYNC_OP_ID_REUSED"
