"""The engine's logic against an in-memory stand-in for the server (no HTTP here: the
contract tests run the real engine against the real server)."""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import outbox, photos, rows, sending
from sync.client.backoff import CAP_S as BACKOFF_CAP_S
from sync.client.backoff import backoff_s, ceiling_s
from sync.client.engine import IDLE_S, SyncEngine
from sync.client.errors import AuthRequired, PermanentError, TransientError
from sync.client.store import Key, SignedIn, Store
from sync.clock import ClockEstimator
from sync.protocol import OpResult, OpStatus, OpType, PhotoStatus, PushResponse

USER = SignedIn(new_id(), Role.CREW)
Pusher = Callable[[dict[str, Any]], PushResponse]


def applied_all(body: dict[str, Any]) -> PushResponse:
    return PushResponse(server_time=utcnow(), results=[
        OpResult(op_id=op["op_id"], status=OpStatus.APPLIED, entity="work_order",
                 entity_id=op["entity_id"], version=2) for op in body["ops"]])


class FakeServer:
    """What the engine needs of a ``Transport``, in memory."""

    def __init__(self) -> None:
        self.clock = ClockEstimator()
        self.reachable: bool | None = None
        self.push_fn: Pusher = applied_all
        self.pushes: list[dict[str, Any]] = []
        self.pages: list[dict[str, Any]] = [self.page([], "c1")]
        self.pull_cursors: list[str | None] = []
        self.fail: Exception | None = None
        self.photos: dict[str, bytearray] = {}
        self.photo_puts: list[tuple[int, int]] = []
        self.put_hook: Callable[[str, int, bytes], None] | None = None
        self.waits: list[float | None] = []
        self.honours_wait = False
        self.news = threading.Event()  # a change committed: a held long poll answers
        self.polling = threading.Event()  # a long poll is being held

    @staticmethod
    def page(changes: list[dict[str, Any]], cursor: str, more: bool = False,
             reset: bool = False) -> dict[str, Any]:
        return {"changes": changes, "next_cursor": cursor, "has_more": more, "reset": reset,
                "server_time": utcnow().isoformat()}

    def _gate(self) -> None:
        if self.fail is not None:
            self.reachable = False
            raise self.fail
        self.reachable = True

    def push(self, body: dict[str, Any], *, on_sent: Callable[[], object] | None = None
             ) -> PushResponse:
        self._gate()
        self.pushes.append(body)
        if on_sent is not None:  # the request is "written": the phone may go on
            on_sent()
        return self.push_fn(body)

    def pull(self, cursor: str | None, limit: int, *, wait_s: float | None = None
             ) -> dict[str, Any]:
        self._gate()
        self.pull_cursors.append(cursor)
        self.waits.append(wait_s)
        if wait_s and self.honours_wait:  # a long poll: held until there is news
            self.polling.set()
            self.news.wait(wait_s)
            self.news.clear()
            self.polling.clear()
            self._gate()
        page = self.pages.pop(0) if len(self.pages) > 1 else self.pages[0]
        if isinstance(page, Exception):
            raise page
        return page

    def interrupt_long_poll(self) -> None:
        self.news.set()  # a held long poll answers now

    def photo_status(self, sha256: str) -> PhotoStatus:
        self._gate()
        held = self.photos.get(sha256)
        return PhotoStatus(sha256=sha256, status="partial" if held else "missing",
                           received=len(held or b""))

    def photo_put(self, sha256: str, *, offset: int, chunk: bytes, size: int,
                  content_type: str) -> PhotoStatus:
        self._gate()
        if self.put_hook:
            self.put_hook(sha256, offset, chunk)
        held = self.photos.setdefault(sha256, bytearray())
        if offset != len(held):
            raise PermanentError("offset", code="SYNC_PHOTO_OFFSET_MISMATCH", status=409,
                                 details={"received": len(held)})
        held.extend(chunk)
        self.photo_puts.append((offset, len(chunk)))
        if len(held) == size:
            if hashlib.sha256(held).hexdigest() != sha256:
                del self.photos[sha256]
                raise PermanentError("hash", code="SYNC_PHOTO_HASH_MISMATCH", status=422)
            return PhotoStatus(sha256=sha256, status="complete", received=size, size=size)
        return PhotoStatus(sha256=sha256, status="partial", received=len(held), size=size)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    s.sign_in(USER, access="a", refresh="r")
    yield s
    s.close()


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def engine(store: Store, server: FakeServer) -> Iterator[SyncEngine]:
    eng = SyncEngine(store, server, interval_s=60, rng=random.Random(3),  # type: ignore[arg-type]
                     min_gap_s=0.05)
    yield eng
    eng.stop(5)


def states(store: Store) -> list[str]:
    with store.read() as conn:
        return [e.state.value for e in outbox.select(conn)]


# -- one pass -------------------------------------------------------------------------
def test_a_pass_pushes_in_order_pulls_and_compacts(store: Store, server: FakeServer,
                                                   engine: SyncEngine) -> None:
    order = new_id()
    a = store.enqueue(OpType.WO_ACCEPT, order, {})
    b = store.enqueue(OpType.WO_START_TRAVEL, order, {})
    row = {"id": order, "status": "en_route", "version": 3}
    server.pages = [server.page([{"entity": "work_order", "id": order, "version": 3,
                                  "row": row}], "c1", more=True), server.page([], "c2")]
    report = engine.sync_once()
    (body,) = server.pushes
    assert [(o["op_id"], o["lane_prev"]) for o in body["ops"]] == [(a.op_id, None),
                                                                   (b.op_id, a.op_id)]
    assert body["device_id"] == store.device_id
    assert (report.push.outcome.acked, report.pull.pages, report.pull.compacted) == (2, 2, 2)
    assert server.pull_cursors == [None, "c1"]
    with store.read() as conn:
        assert rows.get(conn, "work_order", order) == (3, row)
        assert store.get(conn, Key.CURSOR) == "c2"
        assert outbox.select(conn) == []
    status = engine.status()
    assert status.last_success_at is not None and status.waiting == 0
    assert status.online is True


def test_a_backlog_goes_in_batches_growing_from_250_to_at_most_2000(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    """The oldest ops leave in a small first request; later requests grow fourfold up to
    the server's limit (``MAX_PUSH_OPS``), each op once and in order."""
    for _ in range(6203):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    engine.sync_once()
    assert [len(p["ops"]) for p in server.pushes] == [250, 1000, 2000, 2000, 953]
    seqs = [o["device_seq"] for p in server.pushes for o in p["ops"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == 6203
    server.pushes.clear()
    for _ in range(300):  # the next push starts small again
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    engine.sync_once()
    assert [len(p["ops"]) for p in server.pushes] == [250, 50]


def _until(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _sending(store: Store) -> int:
    with store.read() as conn:
        return sum(e.state == "sending" for e in outbox.select(conn))


def test_the_next_batch_is_marked_and_encoded_while_one_is_out(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    """While the server has a batch, the phone marks the next one ``sending`` and encodes
    its request, which leaves as soon as the answer is in: the same bytes a request made
    then would carry."""
    import gzip
    import json

    for _ in range(2453):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    seen: list[tuple[int, bool]] = []

    def slow_server(body: dict[str, Any]) -> PushResponse:
        first = not seen
        # the second batch's 1,000 are marked while the first 250 are out (those too)
        ready = _until(lambda: _sending(store) == 1250) if first else None
        seen.append((len(body["ops"]), ready if first else hasattr(body, "wire")))
        return applied_all(body)

    server.push_fn = slow_server
    report = engine.sync_once()
    assert seen == [(250, True), (1000, True), (1203, True)]
    assert (report.push.requests, report.push.sent, report.push.outcome.acked) == (
        3, 2453, 2453)
    later = server.pushes[1]
    wire = later.wire  # type: ignore[attr-defined]
    assert wire["headers"]["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(wire["content"])) == dict(later)
    assert states(store) == []


def _second_request_writing(server: FakeServer, store: Store, writing_s: float,
                             seen: list[int]) -> None:
    """The second request takes ``writing_s`` to write its body (a slow upload), and
    notes how many ops are ``sending`` meanwhile."""
    real = server.push

    def push(body: dict[str, Any], *, on_sent: Callable[[], object] | None = None
             ) -> PushResponse:
        if len(server.pushes) == 1:
            time.sleep(writing_s)
            seen.append(_sending(store))
        return real(body, on_sent=on_sent)

    server.push = push  # type: ignore[method-assign]


def test_the_next_request_leaves_before_the_phone_records_the_answers_before_it(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    """The phone's own work waits until the next request is written: begun at once, it
    held Python's lock while the request's socket calls waited for it, and the server
    waited for the request. The first batch's 250 answers are recorded only after the
    second request (1,000 ops, marked ``sending`` already) has left."""
    for _ in range(1250):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    seen: list[int] = []
    _second_request_writing(server, store, 0.1, seen)
    report = engine.sync_once()
    assert seen == [1250]
    assert report.push.outcome.acked == 1250 and states(store) == []


def test_a_slow_upload_holds_the_phones_own_work_back_only_briefly(
        store: Store, server: FakeServer, engine: SyncEngine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a slow link the request takes seconds to write: after ``LEAVE_WAIT_S`` the phone
    records the answers before it meanwhile, as the overlap is for."""
    from sync.client import push as pushing

    monkeypatch.setattr(pushing, "LEAVE_WAIT_S", 0.05)
    for _ in range(1250):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    seen: list[int] = []
    _second_request_writing(server, store, 0.6, seen)
    report = engine.sync_once()
    assert seen == [1000]  # the first 250 recorded while the second batch was written
    assert report.push.outcome.acked == 1250 and states(store) == []


def test_a_batch_made_ready_but_not_sent_is_pending_again(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    """The first request fails after the next batch was marked and encoded: that batch
    never left, and every op is pending again (the one-step loop sends them later)."""
    for _ in range(700):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {})

    def fail_once_the_next_is_ready(body: dict[str, Any]) -> PushResponse:
        assert _until(lambda: _sending(store) == 700)
        raise TransientError("no route to host", code="SYNC_OFFLINE")

    server.push_fn = fail_once_the_next_is_ready
    with pytest.raises(TransientError):
        engine.pusher.run(USER)
    assert len(server.pushes) == 1
    assert _sending(store) == 0 and states(store) == ["pending"] * 700


def test_a_request_refused_for_one_poison_op_is_split_until_the_op_is_alone(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    good = [store.enqueue(OpType.WO_ACCEPT, new_id(), {}) for _ in range(6)]
    poison = store.enqueue(OpType.WO_ADD_NOTE, new_id(), {"text": "x"})
    same_lane = store.enqueue(OpType.WO_ADD_NOTE, poison.entity_id, {"text": "y"})
    more = [store.enqueue(OpType.WO_ACCEPT, new_id(), {}) for _ in range(5)]

    def refuse_poison(body: dict[str, Any]) -> PushResponse:
        if any(o["op_id"] == poison.op_id for o in body["ops"]):
            raise PermanentError("bad body", code="VALIDATION_ERROR", status=422)
        return applied_all(body)

    server.push_fn = refuse_poison
    engine.sync_once()
    with store.read() as conn:
        got = {e.op_id: e for e in outbox.select(conn)}
    assert got[poison.op_id].state == "rejected"
    assert got[poison.op_id].result_code == "VALIDATION_ERROR"
    assert got[same_lane.op_id].state == "held"
    assert all(e.op_id not in got for e in good + more)  # applied, then compacted
    assert len(server.pushes) <= 1 + 2 * 5  # a handful of extra requests, not one per op


def test_server_errors_on_one_op_back_it_off_alone(store: Store, server: FakeServer,
                                                   engine: SyncEngine) -> None:
    poison = store.enqueue(OpType.WO_ADD_NOTE, new_id(), {"text": "x"})
    others = [store.enqueue(OpType.WO_ACCEPT, new_id(), {}) for _ in range(3)]

    def crash_on_poison(body: dict[str, Any]) -> PushResponse:
        if any(o["op_id"] == poison.op_id for o in body["ops"]):
            raise TransientError("boom", code="INTERNAL_ERROR", status=500)
        return applied_all(body)

    server.push_fn = crash_on_poison
    report = engine.sync_once()
    assert report.retry_at is not None
    with store.read() as conn:
        (left,) = outbox.select(conn)
    assert left.op_id == poison.op_id and left.attempts == 1 and left.state == "pending"
    assert len(others) == 3


def test_a_crash_mid_pull_keeps_the_applied_pages_and_resumes_from_the_cursor(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    server.pages = [server.page([{"entity": "station", "id": "s1", "version": 1,
                                  "row": {"id": "s1"}}], "c1", more=True),
                    TransientError("dropped", code="SYNC_OFFLINE")]  # type: ignore[list-item]
    with pytest.raises(TransientError):
        engine.sync_once()
    assert store.state(Key.CURSOR) == "c1"
    server.pages = [server.page([{"entity": "station", "id": "s2", "version": 1,
                                  "row": {"id": "s2"}}], "c2")]
    engine.sync_once()
    assert server.pull_cursors[-1] == "c1"
    with store.read() as conn:
        assert rows.count(conn) == {"station": 2}  # page 1 was not dropped on resume


def test_a_reset_drops_server_rows_but_never_the_outbox(store: Store, server: FakeServer,
                                                        engine: SyncEngine) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [{"entity": "station", "id": "old", "version": 1,
                                   "row": {"id": "old"}}])
        store.put(conn, Key.CURSOR, "stale")
    server.push_fn = lambda body: PushResponse(server_time=utcnow(), results=[
        OpResult(op_id=o["op_id"], status=OpStatus.DEFERRED, code="SYNC_TRANSIENT",
                 retry_after=30) for o in body["ops"]])
    op = store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    server.pages = [server.page([{"entity": "station", "id": "new", "version": 1,
                                  "row": {"id": "new"}}], "c9", reset=True)]
    report = engine.sync_once()
    assert report.pull.resets == 1
    with store.read() as conn:
        assert [r["id"] for _, r in rows.all_of(conn, "station")] == ["new"]
        assert [e.op_id for e in outbox.select(conn)] == [op.op_id]


# -- failures, the loop, status -------------------------------------------------------
def test_transient_failures_are_recorded_and_back_off_exponentially(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    server.fail = TransientError("no route to host", code="SYNC_OFFLINE")
    delays = [engine._one_round() for _ in range(12)]
    # full jitter: anywhere from the minimum gap up to the growing ceiling
    assert all(engine.min_gap_s <= d <= ceiling_s(n) for n, d in enumerate(delays, 1))
    assert max(delays) <= BACKOFF_CAP_S
    assert sum(delays[8:]) / 4 > 4 * sum(delays[:3]) / 3  # grows exponentially
    status = engine.status()
    assert status.online is False and status.waiting == 1
    assert status.last_error is not None and status.last_error.code == "SYNC_OFFLINE"
    assert status.error_is_current
    assert states(store) == ["pending"]
    server.fail = None
    assert engine._one_round() == 60
    assert engine.failures == 0 and not engine.status().error_is_current


def test_retry_after_is_respected(store: Store, server: FakeServer, engine: SyncEngine
                                  ) -> None:
    server.fail = TransientError("slow down", code="HTTP_429", status=429, retry_after=120)
    assert engine._one_round() >= 120


def test_a_refused_sign_in_drops_the_tokens_and_waits(store: Store, server: FakeServer,
                                                      engine: SyncEngine) -> None:
    server.fail = AuthRequired("reused", code="AUTH_REFRESH_REUSED", status=401)
    assert engine._one_round() == IDLE_S
    assert store.tokens() == (None, None)
    status = engine.status()
    assert status.signed_in is False and status.auth_required  # the app asks to sign in


def test_the_loop_runs_on_a_timer_wakes_when_nudged_and_stops_cleanly(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    engine.start()
    deadline = time.monotonic() + 5
    while not server.pull_cursors and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.pull_cursors, "the loop made a first pass"
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    engine.nudge()
    while states(store) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert states(store) == [], "nudged: pushed long before the 60 s timer"
    assert engine.status().running
    assert engine.stop(5) is True
    assert not engine.status().running


def test_backoff_has_full_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    assert len({round(backoff_s(3, rng), 6) for _ in range(20)}) > 1
    assert all(backoff_s(50, rng) <= BACKOFF_CAP_S for _ in range(20))
    # a thousand phones back after an outage (5th failure each) spread over the whole
    # window instead of retrying in step: no second holds more than ~3x its share
    waits = [backoff_s(5, random.Random(phone)) for phone in range(1000)]
    per_second = [0] * int(ceiling_s(5))
    for w in waits:
        per_second[min(int(w), len(per_second) - 1)] += 1
    assert max(per_second) <= 3 * 1000 / len(per_second)
    assert min(waits) < ceiling_s(5) / 4 and max(waits) > 3 * ceiling_s(5) / 4


def test_user_decisions_on_rejected_ops(store: Store, server: FakeServer,
                                        engine: SyncEngine) -> None:
    order = new_id()
    bad = store.enqueue(OpType.WO_ACCEPT, order, {})
    held = store.enqueue(OpType.WO_ADD_NOTE, order, {"text": "x"})
    server.push_fn = lambda body: PushResponse(server_time=utcnow(), results=[
        OpResult(op_id=o["op_id"], status=OpStatus.REJECTED, code="WO_NOT_ASSIGNEE",
                 message="no") if o["op_id"] == bad.op_id else OpResult(
            op_id=o["op_id"], status=OpStatus.REJECTED, code="SYNC_LANE_PREDECESSOR_REJECTED")
        for o in body["ops"]])
    engine.sync_once()
    assert states(store) == ["rejected", "held"]
    assert engine.status().rejected == 1
    server.push_fn = applied_all
    assert engine.discard(bad.op_id, with_dependents=False) == 2
    engine.sync_once()
    with store.read() as conn:
        assert [(e.op_id, e.state.value) for e in outbox.select(conn)] == [
            (bad.op_id, "discarded")]
    assert server.pushes[-1]["ops"][0]["op_id"] == held.op_id
    assert server.pushes[-1]["ops"][0]["lane_prev"] is None


# -- photos ---------------------------------------------------------------------------
def _photo(store: Store, tmp_path: Path, side: int = 1200) -> photos.PhotoRef:
    rnd = random.Random(side)
    img = Image.frombytes("RGB", (side, side), rnd.randbytes(side * side * 3))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return photos.add_photo(store, out.getvalue(), tmp_path / "photos")


def _queued_file(store: Store, tmp_path: Path, side: int) -> photos.PhotoRef:
    """A big image queued as it is (an upload from before photos were kept small)."""
    rnd = random.Random(side)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), rnd.randbytes(side * side * 3)).save(out, "PNG")
    data = out.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / "photos" / f"{sha}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    ref = photos.PhotoRef(sha, path, len(data), side, side)
    with store.write() as conn:
        photos.queue(conn, ref)
    return ref


def test_a_photo_upload_resumes_from_what_the_server_holds(
        store: Store, server: FakeServer, engine: SyncEngine, tmp_path: Path) -> None:
    ref = _queued_file(store, tmp_path, 1800)
    assert ref.size > 2 * 1024 * 1024
    engine.uploader.chunk_size = 1024 * 1024
    calls = {"n": 0}

    def drop_second(sha: str, offset: int, chunk: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise TransientError("connection reset", code="SYNC_OFFLINE")

    server.put_hook = drop_second
    pulls = len(server.pull_cursors)
    with pytest.raises(TransientError):
        engine.sync_once()
    assert len(server.pull_cursors) == pulls + 1  # the pull ran despite the upload trouble
    assert engine.status().photo_bytes_left == ref.size - 1024 * 1024
    engine.sync_once()
    assert server.photos[ref.sha256] == ref.path.read_bytes()
    offsets = [o for o, _ in server.photo_puts]
    # resumed from what the server holds, with a half-size chunk after the cut; no byte
    # confirmed by the server was sent again
    assert offsets[:3] == [0, 1024 * 1024, 1024 * 1024 + 512 * 1024]
    assert offsets == sorted(set(offsets))
    status = engine.status()
    assert (status.photos_waiting, status.photo_bytes_left) == (0, 0)


def test_an_offset_mismatch_resumes_where_the_server_says(
        store: Store, server: FakeServer, engine: SyncEngine, tmp_path: Path) -> None:
    ref = _photo(store, tmp_path, 300)
    server.photos[ref.sha256] = bytearray(ref.path.read_bytes()[:1000])
    real_status = server.photo_status
    server.photo_status = lambda sha: PhotoStatus(sha256=sha, status="missing",  # type: ignore[method-assign,assignment]
                                                  received=0)
    engine.sync_once()
    assert server.photo_puts[0][0] == 1000
    assert bytes(server.photos[ref.sha256]) == ref.path.read_bytes()
    server.photo_status = real_status  # type: ignore[method-assign,assignment]


def test_a_damaged_local_photo_is_marked_failed_and_shown(
        store: Store, server: FakeServer, engine: SyncEngine, tmp_path: Path) -> None:
    ref = _photo(store, tmp_path, 200)
    ref.path.write_bytes(b"garbage")
    engine.sync_once()
    status = engine.status()
    assert (status.photos_failed, status.photos_waiting) == (1, 0)
    assert server.photo_puts == []


def test_a_refused_finished_upload_starts_again_from_zero_while_local_bytes_are_good(
        store: Store, server: FakeServer, engine: SyncEngine, tmp_path: Path) -> None:
    ref = _photo(store, tmp_path, 200)
    flips = {"left": 1}

    def corrupt_once(sha: str, offset: int, chunk: bytes) -> None:
        if flips["left"] and offset == 0:
            flips["left"] -= 1
            server.photos[sha] = bytearray()
            raise PermanentError("hash", code="SYNC_PHOTO_HASH_MISMATCH", status=422)

    server.put_hook = corrupt_once
    engine.sync_once()
    assert engine.status().photos_waiting == 0
    assert bytes(server.photos[ref.sha256]) == ref.path.read_bytes()


def test_engine_status_reports_the_oldest_waiting_op(store: Store, engine: SyncEngine) -> None:
    first = store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    status = engine.status()
    assert status.by_state["pending"] == 2 and status.waiting == 2
    assert status.oldest_waiting_at == first.created_at
    assert status.oldest_waiting_age_s is not None and status.oldest_waiting_age_s >= 0


def test_only_one_pass_runs_at_a_time(store: Store, server: FakeServer,
                                      engine: SyncEngine) -> None:
    inside = threading.Event()
    release = threading.Event()
    active: list[int] = [0, 0]  # now, most at once

    def slow(body: dict[str, Any]) -> PushResponse:
        active[0] += 1
        active[1] = max(active)
        inside.set()
        release.wait(2)
        active[0] -= 1
        return applied_all(body)

    server.push_fn = slow
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    first = threading.Thread(target=engine.sync_once)
    first.start()
    inside.wait(2)
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    second = threading.Thread(target=engine.sync_once)
    second.start()
    time.sleep(0.05)
    release.set()
    first.join(5)
    second.join(5)
    assert active[1] == 1 and len(server.pushes) == 2
    assert states(store) == []


def test_ops_left_sending_by_a_killed_app_are_sent_again_after_restart(
        tmp_path: Path, server: FakeServer) -> None:
    path = tmp_path / "phone.db"
    before = Store(path)
    before.sign_in(USER, access="a", refresh="r")
    op = before.enqueue(OpType.WO_ACCEPT, new_id(), {})
    with before.write() as conn:
        sending.mark_sending(conn, [op], utcnow())  # the push was in flight: app killed
    before.close()
    after = Store(path)
    try:
        assert states(after) == ["sending"]
        SyncEngine(after, server).sync_once()  # type: ignore[arg-type]
        assert [o["op_id"] for o in server.pushes[0]["ops"]] == [op.op_id]
        assert states(after) == []
    finally:
        after.close()


# -- the scheduler: live delivery, ops before photos, events --------------------------
def test_a_long_poll_stays_open_and_brings_news_at_once(store: Store, server: FakeServer
                                                         ) -> None:
    server.honours_wait = True
    eng = SyncEngine(store, server, interval_s=60, min_gap_s=0.05, long_poll_s=10,  # type: ignore[arg-type]
                     poll_s=5, rng=random.Random(1))
    events: list[int] = []
    eng.subscribe(lambda: events.append(1))
    eng.start()
    try:
        assert _until(server.polling.is_set), "a long poll is held open after the pass"
        assert server.waits[-1] == 10
        order = new_id()
        server.pages = [server.page([{"entity": "work_order", "id": order, "version": 1,
                                      "row": {"id": order, "status": "dispatched"}}], "c2")]
        seen = len(events)
        began = time.monotonic()
        server.news.set()
        assert _until(lambda: _has_row(store, order), 2.0)
        assert time.monotonic() - began < 1.0
        assert _until(lambda: len(events) > seen), "the app is told"
        assert _until(server.polling.is_set), "and the next long poll is open again"
        assert eng.live_pages >= 1
    finally:
        assert eng.stop(15)


def _has_row(store: Store, rid: str) -> bool:
    with store.read() as conn:
        return rows.get(conn, "work_order", rid) is not None


def test_a_server_that_ignores_wait_is_polled_slowly_not_in_a_hot_loop(
        store: Store, server: FakeServer) -> None:
    eng = SyncEngine(store, server, interval_s=60, min_gap_s=0.05, long_poll_s=10,  # type: ignore[arg-type]
                     poll_s=0.5, rng=random.Random(1))
    eng.start()
    try:
        time.sleep(1.6)
    finally:
        assert eng.stop(5)
    long_polls = [w for w in server.waits if w]
    assert 2 <= len(long_polls) <= 5  # about one per poll_s, not thousands


def test_the_listener_stops_when_the_link_is_lost_and_the_app_hears_of_it(
        store: Store, server: FakeServer) -> None:
    server.honours_wait = True
    eng = SyncEngine(store, server, interval_s=60, min_gap_s=0.05, long_poll_s=10,  # type: ignore[arg-type]
                     poll_s=5, rng=random.Random(1))
    seen: list[bool | None] = []
    eng.subscribe(lambda: seen.append(eng.status().online))
    eng.start()
    try:
        assert _until(server.polling.is_set)
        server.fail = TransientError("connection reset", code="SYNC_OFFLINE")
        server.news.set()  # the open poll ends with the error
        assert _until(lambda: False in seen, 2.0), "offline shown at once"
        polls = len(server.waits)
        time.sleep(0.5)
        assert len(server.waits) - polls <= 6  # backing off, not spinning
        server.fail = None
        eng.nudge()  # the link is back (the phone's connectivity event)
        assert _until(lambda: seen[-1] is True, 3.0)
    finally:
        assert eng.stop(15)


def test_uploads_give_way_to_an_op_made_meanwhile(store: Store, server: FakeServer,
                                                  tmp_path: Path) -> None:
    eng = SyncEngine(store, server, interval_s=60, min_gap_s=0.05, live=False,  # type: ignore[arg-type]
                     rng=random.Random(1))
    refs = [_photo(store, tmp_path, side) for side in (301, 302, 303)]
    eng.uploader.chunk_size = 64 * 1024
    eng.uploader.max_chunk = 64 * 1024
    order = new_id()
    made: list[str] = []
    log: list[str] = []

    def tap_during_first_photo(sha: str, offset: int, chunk: bytes) -> None:
        log.append(f"photo:{sha[:6]}:{offset}")
        if not made:
            made.append(store.enqueue(OpType.WO_ACCEPT, order, {}).op_id)
            eng.nudge()

    server.put_hook = tap_during_first_photo
    real_push = server.push_fn

    def push(body: dict[str, Any]) -> PushResponse:
        log.append("push:" + ",".join(o["op_id"] for o in body["ops"]))
        return real_push(body)

    server.push_fn = push
    eng.sync_once()
    assert f"push:{made[0]}" in log
    first_push = log.index(f"push:{made[0]}")
    # the op went up after one chunk of the first photo, before the other photos
    assert [e for e in log[:first_push] if e.startswith("photo:")] == [
        f"photo:{refs[0].sha256[:6]}:0"]
    assert all(server.photos[r.sha256] == r.path.read_bytes() for r in refs)
    assert states(store) == []


def test_the_next_page_is_fetched_while_this_one_is_applied(store: Store,
                                                            server: FakeServer) -> None:
    eng = SyncEngine(store, server, interval_s=60, min_gap_s=0.05, live=False,  # type: ignore[arg-type]
                     rng=random.Random(1))
    big = [{"entity": "station", "id": f"s{i}", "version": 1, "row": {"id": f"s{i}"}}
           for i in range(3000)]
    server.pages = [server.page(big[:1500], "c1", more=True),
                    server.page(big[1500:], "c2", more=True), server.page([], "c3")]
    seen_at_request: list[Any] = []
    real_pull = server.pull

    def pull(cursor: str | None, limit: int, *, wait_s: float | None = None
             ) -> dict[str, Any]:
        seen_at_request.append((cursor, store.state(Key.CURSOR)))
        return real_pull(cursor, limit, wait_s=wait_s)

    server.pull = pull  # type: ignore[method-assign]
    eng.sync_once()
    # page 2 was asked for before page 1 (and its cursor) was committed
    assert seen_at_request[1] == ("c1", None)
    with store.read() as conn:
        assert rows.count(conn)["station"] == 3000
        assert store.get(conn, Key.CURSOR) == "c3"


# -- refusals: what the phone keeps ---------------------------------------------------
def _job_rows(store: Store, order: str) -> None:
    with store.write() as conn:
        store.put(conn, Key.CURSOR, "c0")  # pulled before: the next pull is incremental
        rows.apply_changes(conn, [
            {"entity": "work_order", "id": order, "version": 2,
             "row": {"id": order, "status": "dispatched", "version": 2}},
            {"entity": "work_order_event", "id": f"ev-{order}", "version": 1,
             "row": {"id": f"ev-{order}", "work_order_id": order, "action": "dispatch"}}])


def _refuse(code: str, row: dict[str, Any] | None) -> Pusher:
    """Refuse the first op of each lane with ``code``, the later ones as held behind it."""
    def push(body: dict[str, Any]) -> PushResponse:
        seen: set[str] = set()
        out = []
        for o in body["ops"]:
            first = o["lane"] not in seen
            seen.add(o["lane"])
            out.append(OpResult(
                op_id=o["op_id"], status=OpStatus.REJECTED, message="no",
                code=code if first else "SYNC_LANE_PREDECESSOR_REJECTED",
                entity="work_order" if row else None, entity_id=o["entity_id"],
                version=row["version"] if row else None, row=row))
        return PushResponse(server_time=utcnow(), results=out)
    return push


def test_a_refusal_with_row_null_removes_the_job_and_its_timeline(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    """Issue 8 item 3, the phone's half: ``row: null`` = the user may no longer see it."""
    order = new_id()
    _job_rows(store, order)
    op = store.enqueue(OpType.WO_ACCEPT, order, {})
    behind = store.enqueue(OpType.WO_START_TRAVEL, order, {})
    server.push_fn = _refuse("WO_NOT_ASSIGNEE", None)
    engine.sync_once()
    with store.read() as conn:
        assert rows.get(conn, "work_order", order) is None
        assert rows.children(conn, "work_order_event", order) == []
        assert [(e.op_id, e.state.value) for e in outbox.select(conn)] == [
            (op.op_id, "rejected"), (behind.op_id, "held")]
    assert [p.op_id for p in engine.status().problems] == [op.op_id, behind.op_id]


def test_a_refusal_with_the_row_puts_the_row_back_and_keeps_the_job(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    order = new_id()
    _job_rows(store, order)
    store.enqueue(OpType.WO_ACCEPT, order, {})
    server.push_fn = _refuse("WO_TRANSITION_NOT_ALLOWED",
                             {"id": order, "status": "cancelled", "version": 3})
    engine.sync_once()
    with store.read() as conn:
        got = rows.get(conn, "work_order", order)
        assert got is not None and got[1]["status"] == "cancelled"
        assert len(rows.children(conn, "work_order_event", order)) == 1


def test_a_refusal_made_before_the_server_looked_at_the_job_removes_nothing(
        store: Store, server: FakeServer, engine: SyncEngine) -> None:
    order = new_id()
    _job_rows(store, order)
    store.enqueue(OpType.WO_ACCEPT, order, {})
    server.push_fn = _refuse("SYNC_OP_ID_REUSED", None)
    engine.sync_once()
    with store.read() as conn:
        assert rows.get(conn, "work_order", order) is not None


def test_an_op_the_server_keeps_deferring_for_a_missing_predecessor_is_relinked(
        store: Store, server: FakeServer, engine: SyncEngine, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    """Issue 8 item 10: an op behind a predecessor the server no longer knows (this
    device holds it as applied: the server's database was restored from a backup) never
    waits for ever — after a few answers it is sent without naming it."""
    from sync.client import backoff

    monkeypatch.setattr(backoff, "BASE_S", 0.001)
    order = new_id()
    first = store.enqueue(OpType.WO_ACCEPT, order, {})
    second = store.enqueue(OpType.WO_START_TRAVEL, order, {})

    def forgot_the_first(body: dict[str, Any]) -> PushResponse:
        """Applies the first op, then loses its record: names of it are unknown."""
        return PushResponse(server_time=utcnow(), results=[
            OpResult(op_id=o["op_id"], status=OpStatus.DEFERRED,
                     code="SYNC_LANE_PREDECESSOR_MISSING") if o["lane_prev"] else OpResult(
                op_id=o["op_id"], status=OpStatus.APPLIED, entity="work_order",
                entity_id=o["entity_id"], version=3) for o in body["ops"]])

    server.push_fn = forgot_the_first
    for _ in range(sending.RELINK_AFTER + 3):
        engine.sync_once()
        time.sleep(0.01)
        if not engine.status().waiting:
            break
    sent = [o for body in server.pushes for o in body["ops"] if o["op_id"] == second.op_id]
    assert [o["lane_prev"] for o in sent] == [first.op_id] * sending.RELINK_AFTER + [None]
    assert engine.status().waiting == 0 and engine.status().problems == []
