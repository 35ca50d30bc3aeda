"""The outbox's rules: lane order, results, holds, user decisions, compaction."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import backoff, outbox, rows, sending
from sync.client.outbox import OpState, OutboxEntry
from sync.client.store import SignedIn, Store
from sync.protocol import OpResult, OpStatus, OpType, SyncErrorCode

USER = SignedIn(new_id(), Role.CREW)
S = OpState


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    s.sign_in(USER, access="a", refresh="r")
    yield s
    s.close()


def ops(store: Store, order: str, *types: OpType) -> list[OutboxEntry]:
    payloads: dict[OpType, dict[str, Any]] = {OpType.WO_ADD_NOTE: {"text": "n"},
                                              OpType.WO_ARRIVE: {"gps": None}}
    return [store.enqueue(t, order, payloads.get(t, {})) for t in types]


def state(store: Store, e: OutboxEntry) -> OpState:
    with store.read() as conn:
        got = outbox.get(conn, e.op_id)
    assert got is not None
    return got.state


def answer(store: Store, batch: list[OutboxEntry], results: list[OpResult]
           ) -> sending.BatchOutcome:
    with store.write() as conn:
        return sending.apply_results(conn, batch, results, now=utcnow(), rng=random.Random(1))


def ok(e: OutboxEntry, version: int | None = None) -> OpResult:
    return OpResult(op_id=e.op_id, status=OpStatus.APPLIED, entity="work_order",
                    entity_id=e.entity_id, version=version)


def pushable(store: Store, **kw: Any) -> list[OutboxEntry]:
    with store.read() as conn:
        return sending.pushable(conn, user_id=USER.user_id, now=kw.pop("now", utcnow()), **kw)


def prevs(store: Store, batch: list[OutboxEntry]) -> dict[str, str | None]:
    with store.read() as conn:
        return sending.lane_prevs(conn, batch)


# -- lane order -----------------------------------------------------------------------
def test_lane_prev_links_ops_of_one_lane_and_not_across_lanes(store: Store) -> None:
    a, b = new_id(), new_id()
    a1, b1, a2, b2, a3 = (store.enqueue(t, o, {}) for t, o in (
        (OpType.WO_ACCEPT, a), (OpType.WO_ACCEPT, b), (OpType.WO_START_TRAVEL, a),
        (OpType.WO_START_TRAVEL, b), (OpType.WO_REQUEST_HELP, a)))
    batch = pushable(store)
    assert [e.device_seq for e in batch] == [1, 2, 3, 4, 5]
    assert prevs(store, batch) == {a1.op_id: None, b1.op_id: None, a2.op_id: a1.op_id,
                                   b2.op_id: b1.op_id, a3.op_id: a2.op_id}


def test_an_applied_predecessor_still_links_and_a_rejected_one_does_not(store: Store
                                                                        ) -> None:
    order = new_id()
    first, second, third = ops(store, order, OpType.WO_ACCEPT, OpType.WO_START_TRAVEL,
                               OpType.WO_ADD_NOTE)
    answer(store, [first], [ok(first, 2)])
    assert prevs(store, pushable(store))[second.op_id] == first.op_id
    answer(store, [second], [OpResult(op_id=second.op_id, status=OpStatus.REJECTED,
                                      code="WO_TRANSITION_NOT_ALLOWED", message="no")])
    assert state(store, third) == S.HELD
    with store.write() as conn:
        outbox.retry(conn, third.op_id)
    batch = pushable(store)
    assert [e.op_id for e in batch] == [third.op_id]
    assert prevs(store, batch)[third.op_id] == first.op_id  # skips the rejected op


# -- results --------------------------------------------------------------------------
def test_applied_and_duplicate_are_acknowledged(store: Store) -> None:
    a, b = ops(store, new_id(), OpType.WO_ACCEPT, OpType.WO_START_TRAVEL)
    out = answer(store, [a, b], [ok(a, 2), OpResult(op_id=b.op_id, status=OpStatus.DUPLICATE)])
    assert out.acked == 2
    assert (state(store, a), state(store, b)) == (S.APPLIED, S.DUPLICATE)
    assert pushable(store) == []


def test_a_rejection_stores_the_server_row_and_holds_the_rest_of_its_lane_only(store: Store
                                                                               ) -> None:
    order, other = new_id(), new_id()
    with store.write() as conn:
        rows.apply_changes(conn, [{"entity": "work_order", "id": order, "version": 3,
                                   "row": {"id": order, "status": "dispatched", "version": 3}}])
    accept, arrive = ops(store, order, OpType.WO_ACCEPT, OpType.WO_ARRIVE)
    (elsewhere,) = ops(store, other, OpType.WO_ACCEPT)
    later = ops(store, order, OpType.WO_ADD_NOTE)[0]  # not in the pushed batch
    server_row = {"id": order, "status": "dispatched", "assignee_id": "someone else",
                  "version": 4}
    out = answer(store, [accept, arrive, elsewhere], [
        OpResult(op_id=accept.op_id, status=OpStatus.REJECTED, code="WO_NOT_ASSIGNEE",
                 message="You are not this job's assignee.", entity="work_order",
                 entity_id=order, version=4, row=server_row),
        OpResult(op_id=arrive.op_id, status=OpStatus.REJECTED,
                 code=SyncErrorCode.LANE_PREDECESSOR_REJECTED, message="held"),
        ok(elsewhere, 2)])
    assert (out.rejected, out.acked) == (1, 1)
    assert out.held == 2  # arrive (answered) and the note (not sent)
    with store.read() as conn:
        rejected = outbox.get(conn, accept.op_id)
        assert rejected is not None and rejected.state == S.REJECTED
        assert rejected.result_message == "You are not this job's assignee."
        assert rejected.result_row == server_row
        assert rows.get(conn, "work_order", order) == (4, server_row)
        for e in (arrive, later):
            held = outbox.get(conn, e.op_id)
            assert held is not None and (held.state, held.held_by) == (S.HELD, accept.op_id)
    assert state(store, elsewhere) == S.APPLIED
    assert pushable(store) == []


def test_a_new_op_in_a_held_lane_waits_behind_the_held_ops(store: Store) -> None:
    order = new_id()
    accept, note = ops(store, order, OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    answer(store, [accept, note], [
        OpResult(op_id=accept.op_id, status=OpStatus.REJECTED, code="X", message="x"),
        OpResult(op_id=note.op_id, status=OpStatus.REJECTED,
                 code=SyncErrorCode.LANE_PREDECESSOR_REJECTED)])
    newer = ops(store, order, OpType.WO_ADD_NOTE)[0]
    assert (newer.state, newer.held_by) == (S.HELD, accept.op_id)
    # a lane with only a rejected op (nothing held) takes new ops normally
    (lone,) = ops(store, new_id(), OpType.WO_ACCEPT)
    answer(store, [lone], [OpResult(op_id=lone.op_id, status=OpStatus.REJECTED, code="X")])
    assert ops(store, lone.entity_id, OpType.WO_ADD_NOTE)[0].state == S.PENDING


def test_ops_the_server_did_not_answer_stay_pending(store: Store) -> None:
    a, b = ops(store, new_id(), OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    with store.write() as conn:
        sending.mark_sending(conn, [a, b], utcnow())
    out = answer(store, [a, b], [ok(a, 2)])
    assert out.unanswered == 1
    assert state(store, b) == S.PENDING


def test_an_op_deferred_behind_its_predecessor_gets_no_strike(store: Store) -> None:
    a, b = ops(store, new_id(), OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    answer(store, [a, b], [
        OpResult(op_id=a.op_id, status=OpStatus.DEFERRED, code="SYNC_TRANSIENT",
                 retry_after=5),
        OpResult(op_id=b.op_id, status=OpStatus.DEFERRED,
                 code=SyncErrorCode.LANE_PREDECESSOR_MISSING)])
    with store.read() as conn:
        got = {e.op_id: e for e in outbox.select(conn)}
    assert got[a.op_id].attempts == 0 and got[a.op_id].next_attempt_at is not None
    assert got[b.op_id].attempts == 0 and got[b.op_id].next_attempt_at is None
    assert pushable(store) == []  # the lane waits for its head's retry time
    later = utcnow() + timedelta(seconds=6)
    assert [e.op_id for e in pushable(store, now=later)] == [a.op_id, b.op_id]


def test_a_lane_whose_head_backs_off_does_not_block_other_lanes(store: Store) -> None:
    (poison,) = ops(store, new_id(), OpType.WO_ACCEPT)
    (fine,) = ops(store, new_id(), OpType.WO_ACCEPT)
    answer(store, [poison], [OpResult(op_id=poison.op_id, status=OpStatus.DEFERRED,
                                      code="INTERNAL_ERROR")])
    assert [e.op_id for e in pushable(store)] == [fine.op_id]


def test_an_op_that_keeps_failing_alone_is_given_up_visibly_and_can_be_retried(store: Store
                                                                               ) -> None:
    poison, after = ops(store, new_id(), OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    for _ in range(sending.MAX_ATTEMPTS):
        with store.read() as conn:
            current = outbox.get(conn, poison.op_id)
        assert current is not None
        answer(store, [current], [OpResult(op_id=poison.op_id, status=OpStatus.DEFERRED,
                                           code="INTERNAL_ERROR", message="boom")])
    with store.read() as conn:
        gave_up = outbox.get(conn, poison.op_id)
    assert gave_up is not None
    assert (gave_up.state, gave_up.result_code) == (S.REJECTED, outbox.GAVE_UP)
    assert state(store, after) == S.HELD
    with store.write() as conn:
        assert outbox.retry(conn, poison.op_id) == 2
    assert [e.op_id for e in pushable(store)] == [poison.op_id, after.op_id]


# -- user decisions -------------------------------------------------------------------
def _reject_head(store: Store, order: str) -> list[OutboxEntry]:
    entries = ops(store, order, OpType.WO_ACCEPT, OpType.WO_ADD_NOTE, OpType.WO_ADD_NOTE)
    answer(store, entries[:1], [OpResult(op_id=entries[0].op_id, status=OpStatus.REJECTED,
                                         code="WO_TRANSITION_NOT_ALLOWED")])
    return entries


def test_discarding_a_rejected_op_discards_its_held_dependents(store: Store) -> None:
    head, n1, n2 = _reject_head(store, new_id())
    with store.write() as conn:
        assert outbox.discard(conn, head.op_id) == 3
    assert {state(store, e) for e in (head, n1, n2)} == {S.DISCARDED}


def test_discarding_only_the_rejected_op_releases_its_dependents(store: Store) -> None:
    head, n1, n2 = _reject_head(store, new_id())
    with store.write() as conn:
        outbox.discard(conn, head.op_id, with_dependents=False)
    assert [state(store, e) for e in (head, n1, n2)] == [S.DISCARDED, S.PENDING, S.PENDING]
    assert prevs(store, pushable(store)) == {n1.op_id: None, n2.op_id: n1.op_id}


def test_a_server_rejection_cannot_be_retried_and_pending_ops_cannot_be_discarded(
        store: Store) -> None:
    head, n1, _ = _reject_head(store, new_id())
    (pending,) = ops(store, new_id(), OpType.WO_ACCEPT)
    with store.write() as conn, pytest.raises(ValueError):
        outbox.retry(conn, head.op_id)
    with store.write() as conn, pytest.raises(ValueError):
        outbox.discard(conn, pending.op_id)
    with store.write() as conn:
        assert outbox.retry(conn, n1.op_id) == 2  # both held ops, in order


# -- compaction -----------------------------------------------------------------------
def test_acknowledged_ops_leave_only_after_a_later_pull_and_when_nothing_waits(store: Store
                                                                              ) -> None:
    order = new_id()
    a, b = ops(store, order, OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    (c,) = ops(store, new_id(), OpType.WO_ACCEPT)
    before_ack = utcnow()
    answer(store, [a, c], [ok(a, 2), ok(c, 2)])
    with store.write() as conn:
        assert outbox.compact(conn, acked_before=before_ack) == 0  # pull began before ack
        assert outbox.compact(conn, acked_before=utcnow()) == 1  # c; a waits for b
    assert state(store, a) == S.APPLIED
    answer(store, [b], [ok(b, 3)])
    with store.write() as conn:
        assert outbox.compact(conn, acked_before=utcnow()) == 2
        assert outbox.select(conn) == []


def test_rejected_and_pending_ops_are_never_compacted(store: Store) -> None:
    _reject_head(store, new_id())
    ops(store, new_id(), OpType.WO_ACCEPT)
    with store.write() as conn:
        assert outbox.compact(conn, acked_before=utcnow() + timedelta(days=1)) == 0
        assert len(outbox.select(conn)) == 4


def test_counts_and_oldest_waiting(store: Store) -> None:
    _, n1, _ = _reject_head(store, new_id())
    ops(store, new_id(), OpType.WO_ACCEPT)
    with store.read() as conn:
        c = outbox.counts(conn)
        oldest = outbox.oldest_waiting(conn)
    assert (c["rejected"], c["held"], c["pending"]) == (1, 2, 1)
    assert oldest == n1.created_at


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    first = [backoff.backoff_s(1, rng) for _ in range(50)]
    assert all(0.0 <= d <= 2.0 for d in first)
    assert len(set(first)) > 1
    late = [backoff.backoff_s(30, rng) for _ in range(200)]
    assert all(0 <= d <= 300 for d in late)
    assert min(late) < 75 and max(late) > 225  # full jitter: the whole window is used


def test_stored_payloads_read_back_as_written_whichever_reader(store: Store) -> None:
    """Queued ops are read with orjson where it can and with the json module that wrote
    them where it cannot (NaN, an escaped lone surrogate): the same values either way."""
    import math

    order = new_id()
    plain = store.enqueue(OpType.WO_ADD_NOTE, order, {"text": "电表 ok", "n": [1, 2.5, None]})
    odd = store.enqueue(OpType.WO_ADD_NOTE, order, {"text": "x\ud800", "v": float("nan")})
    with store.read() as conn:
        got = {e.op_id: e for e in outbox.select(conn)}
    assert got[plain.op_id].payload == {"text": "电表 ok", "n": [1, 2.5, None]}
    assert got[odd.op_id].payload["text"] == "x\ud800"
    assert math.isnan(got[odd.op_id].payload["v"])


def test_an_op_reads_back_as_it_was_recorded_and_goes_out_with_its_own_time(
        store: Store) -> None:
    """Every field of an op read back (a rejected op: the answer's code, message, details
    and row, its times) equals what was recorded, as the dataclass would hold it; the
    envelope carries the time the op was made exactly as stored."""
    (a,) = ops(store, new_id(), OpType.WO_ACCEPT)
    (b,) = ops(store, new_id(), OpType.WO_ADD_NOTE)  # another job: not held behind a
    row = {"id": a.entity_id, "status": "dispatched", "accepted_at": None}
    answer(store, [a, b], [
        OpResult(op_id=a.op_id, status=OpStatus.REJECTED, code="WO_TRANSITION_NOT_ALLOWED",
                 message="no", details={"from": "closed", "to": None}, entity="work_order",
                 entity_id=a.entity_id, version=3, row=row),
        OpResult(op_id=b.op_id, status=OpStatus.DEFERRED, code="SYNC_TRANSIENT",
                 retry_after=30)])
    with store.read() as conn:
        got = {e.op_id: e for e in outbox.select(conn)}
        stored = conn.exec_driver_sql("SELECT created_at FROM outbox WHERE op_id = ?",
                                      (b.op_id,)).scalar()
    rejected, waiting = got[a.op_id], got[b.op_id]
    assert (rejected.state, rejected.result_code, rejected.result_message) == (
        S.REJECTED, "WO_TRANSITION_NOT_ALLOWED", "no")
    assert rejected.result_details == {"from": "closed", "to": None}
    assert rejected.result_row == row and rejected.result_version == 3
    assert rejected.acked_at is not None and rejected.acked_at.tzinfo is not None
    assert waiting.state == S.PENDING and waiting.next_attempt_at is not None
    assert waiting.payload == {"text": "n"} and waiting.photos == []
    assert waiting.created_at == b.created_at
    assert waiting.payload_bytes == len('{"text": "n"}')
    for e in (rejected, waiting):  # the same as the dataclass's own constructor makes
        assert e == OutboxEntry(**{f: getattr(e, f) for f in e.__dataclass_fields__})
    assert waiting.wire("device-0001", None)["created_at"] == stored


def test_choosing_a_batch_reads_neither_every_queued_op_nor_a_sorted_copy(
        store: Store) -> None:
    """The statements a push runs to choose its batch, as SQLite plans them: the lanes
    that back off through the retry times' index (only ops told to wait), the batch in
    key order (no temporary tree holding every column of the batch)."""
    ops(store, new_id(), OpType.WO_ACCEPT, OpType.WO_ADD_NOTE)
    ran: list[str] = []
    with store.read() as conn:
        conn.raw.set_trace_callback(ran.append)
        batch = sending.pushable(conn, user_id=USER.user_id, now=utcnow())
        conn.raw.set_trace_callback(None)
        plans = {sql: " / ".join(r[-1] for r in conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {sql}").all()) for sql in ran}
    assert len(batch) == 2
    retry, *chosen = plans.values()  # the batch read until a read finds no more
    assert retry.startswith("SEARCH outbox USING INDEX ix_outbox_retry (next_attempt_at>"), retry
    assert chosen and set(chosen) == {"SEARCH outbox USING INTEGER PRIMARY KEY (rowid>?)"}


def test_an_op_stored_with_its_time_in_another_form_goes_out_in_utc(store: Store) -> None:
    """An op whose stored time is not in the form this release writes (an offset of its
    own, no microseconds) is sent with its time in UTC, as the envelope requires."""
    (e,) = ops(store, new_id(), OpType.WO_ACCEPT)
    with store.write() as conn:
        conn.exec_driver_sql("UPDATE outbox SET created_at = ? WHERE op_id = ?",
                             ("2026-12-05T16:00:00+08:00", e.op_id))
    (sent,) = pushable(store)
    assert sent.wire("device-0001", None)["created_at"] == "2026-12-05T08:00:00.000000+00:00"
