"""Pushing the outbox: batches in ``device_seq`` order, results recorded per op.

A batch holds at most ``MAX_PUSH_OPS`` ops and about ``MAX_BATCH_BYTES`` of JSON (the
server refuses bodies over its limit). A push starts small and grows: the first batch
holds at most ``FIRST_BATCH_OPS`` ops and each next one up to ``GROWTH`` times as many
as the one before, up to ``MAX_PUSH_OPS``. The oldest ops reach the server after a short
upload (a slow link), and with a backlog the server starts at once instead of waiting
while the phone reads and builds 2,000 envelopes (with ``overlap``, each next batch is
built while the server decides the one before: the phone reads, marks and encodes 1,000
ops in about the time the server takes for 250, 36-51 against 32-55 ms measured on the
bench's push). Each op names its ``lane_prev``. Before the request
the batch is marked ``sending``; the answers are recorded in one transaction.

When the server refuses a whole request because of its body (413, 422), or fails on it
(500), the batch is split in halves and each half is sent on its own, down to single
ops, within ``SPLIT_BUDGET`` extra requests per push: one poison op then ends up
rejected (or backing off) alone, its lane held behind it, and every other lane moves on.

With threads (``overlap``, not in the browser) the phone's own work hides behind the
server's: while a batch is out, the next one is read and built; when every op of the
batch comes back applied (or duplicate), the next batch goes out at once and the answers
are recorded while it is out, once its request has left (``_launch``). The server sees
the same requests in the same order as one step at a time (a batch leaves only after the
previous one's answer), so nothing it decides changes. A crash between the two leaves
the recorded batch ``sending``: it is sent again and answered from the server's records.
Any other answer (a refusal, a deferral, a missing answer, a failed request) drops the
prepared batch and the push goes on one step at a time from there.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.timeutil import utcnow
from sync.client import outbox, sending
from sync.client.ahead import THREADS, Ahead
from sync.client.errors import AuthRequired, ClientTooOld, PermanentError, TransientError
from sync.client.outbox import OutboxEntry
from sync.client.sending import BatchOutcome
from sync.client.store import SignedIn, Store
from sync.client.timefmt import to_iso
from sync.protocol import MAX_PUSH_OPS, PROTOCOL_VERSION, OpResult, OpStatus, PushResponse

if TYPE_CHECKING:  # made by the device, imported with httpx only when used
    from sync.client.transport import Transport

#: ~``MAX_PUSH_OPS`` small ops (a note is ~560 bytes by the bound below, ~420 as sent);
#: far under the server's ``MAX_PUSH_BYTES``.
MAX_BATCH_BYTES = 1_200_000
#: JSON of an envelope without its payload and photos (ids, lane, times): a bound.
ENVELOPE_BYTES = 520
SPLIT_BUDGET = 24
#: The first batch of a push; the next ones grow ``GROWTH``-fold up to ``MAX_PUSH_OPS``.
FIRST_BATCH_OPS = 250
#: Each request costs the server about as much as ~140 more notes (its jobs read and
#: written, the token, the budget: 61.9 M instructions at aac624a, ``bench/profile_push.py --http
#: --instructions`` at 500 and 2,000 ops a request), so a backlog goes in as few as the
#: ramp allows: 10,000 notes in 7 requests (250, 1,000, 2,000 ...) instead of 8 when it
#: doubled. The next batch is still built while the one before is out (``overlap``).
GROWTH = 4
_SPLIT_STATUSES = (413, 422, 500)
#: How long the pusher waits, after handing a batch to its helper thread, for the request
#: to leave before it goes on with its own work (``Pusher._launch``): on a slow link an
#: upload takes seconds, and the phone's work meanwhile is the point of the overlap.
LEAVE_WAIT_S = 0.25


@dataclass
class PushReport:
    requests: int = 0
    sent: int = 0
    outcome: BatchOutcome = field(default_factory=BatchOutcome)

    def merge(self, other: PushReport) -> None:
        self.requests += other.requests
        self.sent += other.sent
        self.add(other.outcome)

    def add(self, o: BatchOutcome) -> None:
        t = self.outcome
        t.acked += o.acked
        t.rejected += o.rejected
        t.held += o.held
        t.deferred += o.deferred
        t.unanswered += o.unanswered
        if o.retry_at is not None:
            t.want_retry(o.retry_at)


@dataclass
class _Prepared:
    """A batch read and built, not sent yet (nothing written for it)."""

    batch: list[OutboxEntry]
    ops: list[dict[str, Any]]

    @classmethod
    def of(cls, conn: Any, batch: list[OutboxEntry], device_id: str) -> _Prepared:
        """``batch`` as envelopes, each naming its lane predecessor (read in ``conn``)."""
        prevs = sending.lane_prevs(conn, batch)
        return cls(batch, [e.wire(device_id, prevs[e.op_id]) for e in batch])


class Pusher:
    def __init__(self, store: Store, transport: Transport, rng: random.Random, *,
                 overlap: bool = THREADS) -> None:
        self.store = store
        self.transport = transport
        self.rng = rng
        self.overlap = overlap

    def run(self, who: SignedIn) -> PushReport:
        report = PushReport()
        self._budget = SPLIT_BUDGET
        self._size = FIRST_BATCH_OPS
        device_id = self.store.device_id
        after = self._overlapped(who, device_id, report) if self.overlap else 0
        while True:
            prepared = self._prepare(who, device_id, after)
            if prepared is None:
                return report
            self._send(prepared, device_id, report)
            after = prepared.batch[-1].device_seq

    def _prepare(self, who: SignedIn, device_id: str, after: int) -> _Prepared | None:
        with self.store.read() as conn:
            limit = min(self._size, MAX_PUSH_OPS)
            candidates = sending.pushable(conn, user_id=who.user_id, now=utcnow(),
                                         after_seq=after, limit=limit)
            if not candidates:
                return None
            self._size = limit * GROWTH
            return _Prepared.of(conn, self._fit(candidates, device_id), device_id)

    def _overlapped(self, who: SignedIn, device_id: str, report: PushReport) -> int:
        """Push while every answer is an ack, the next batch out while this one's
        answers are recorded; the ``device_seq`` the one-step loop goes on after. The
        next batch is marked ``sending`` and its request encoded while this one is out,
        so it leaves as soon as the answer is in (the server waited ~10 ms a request
        for the phone otherwise); if it does not leave, it is pending again."""
        from sync.client.transport import EncodedPush  # with threads: httpx is here

        current = self._prepare(who, device_id, 0)
        if current is None:
            return 0
        out = self._launch(self._body(current, device_id, report))
        while True:
            upcoming = self._prepare(who, device_id, current.batch[-1].device_seq)
            ready = (EncodedPush.of(self._body(upcoming, device_id, report))
                     if upcoming is not None else None)
            try:
                answer = out.result()
            except (AuthRequired, ClientTooOld, TransientError, PermanentError) as exc:
                self._withdraw(upcoming, report)
                self._failed(current, device_id, exc, report)
                return current.batch[-1].device_seq
            except BaseException:
                self._withdraw(upcoming, report)
                raise
            if upcoming is None or not _all_acked(current.batch, answer):
                self._withdraw(upcoming, report)
                self._record(current.batch, answer, report)
                return current.batch[-1].device_seq
            out = self._launch(ready)
            self._record(current.batch, answer, report)  # while ``upcoming`` is out
            current = upcoming

    def _launch(self, body: dict[str, Any]) -> Ahead[PushResponse]:
        """``body`` pushed from a helper thread, back once its request has left (its body
        written to the connection), has failed, or ``LEAVE_WAIT_S`` has passed. The
        phone's own work (recording answers, building the next batch) holds Python's
        lock; begun at once, it kept the helper from its socket calls, each waiting up to
        the interpreter's 5 ms switch interval: the server waited ~10 ms a request for a
        request that was ready (``bench/README.md``)."""
        left = threading.Event()
        out = Ahead(self._push_leaving, body, left)
        left.wait(LEAVE_WAIT_S)
        return out

    def _push_leaving(self, body: dict[str, Any], left: threading.Event) -> PushResponse:
        try:
            return self.transport.push(body, on_sent=left.set)
        finally:
            left.set()

    def _withdraw(self, prepared: _Prepared | None, report: PushReport) -> None:
        """A batch marked and counted for sending that is not sent: pending again."""
        if prepared is None:
            return
        self._unmark(prepared.batch)
        report.requests -= 1
        report.sent -= len(prepared.batch)

    def _body(self, prepared: _Prepared, device_id: str, report: PushReport
              ) -> dict[str, Any]:
        """Mark the batch ``sending`` and count it; the request's body."""
        now = utcnow()
        with self.store.write() as conn:
            sending.mark_sending(conn, prepared.batch, now)
        report.requests += 1
        report.sent += len(prepared.batch)
        return {"protocol": PROTOCOL_VERSION, "device_id": device_id, "sent_at": to_iso(now),
                "ops": prepared.ops}

    def _record(self, batch: list[OutboxEntry], answer: PushResponse, report: PushReport
                ) -> None:
        with self.store.write() as conn:
            report.add(sending.apply_results(conn, batch, answer.results, now=utcnow(),
                                            rng=self.rng))

    @staticmethod
    def _fit(candidates: Sequence[OutboxEntry], device_id: str) -> list[OutboxEntry]:
        batch: list[OutboxEntry] = []
        size = 0
        for e in candidates:
            n = ENVELOPE_BYTES + e.payload_bytes + 67 * len(e.photos)
            if batch and size + n > MAX_BATCH_BYTES:
                break
            batch.append(e)
            size += n
        return batch

    def _send(self, prepared: _Prepared, device_id: str, report: PushReport) -> None:
        body = self._body(prepared, device_id, report)
        try:
            answer = self.transport.push(body)
        except (AuthRequired, ClientTooOld, TransientError, PermanentError) as exc:
            self._failed(prepared, device_id, exc, report)
            return
        self._record(prepared.batch, answer, report)

    def _failed(self, prepared: _Prepared, device_id: str, exc: Exception,
                report: PushReport) -> None:
        """The request failed without answers: the batch is pending again; on a refusal
        of the whole body it is split (or, alone, the op takes the refusal); otherwise
        the error goes up."""
        batch = prepared.batch
        self._unmark(batch)
        if not isinstance(exc, TransientError | PermanentError) or (
                exc.status not in _SPLIT_STATUSES):
            raise exc
        if len(batch) == 1:
            self._single_failed(batch[0], exc, report)
            return
        if self._budget <= 0:
            raise exc
        self._split(batch, device_id, report)

    def _unmark(self, batch: Sequence[OutboxEntry]) -> None:
        with self.store.write() as conn:
            sending.unmark_sending(conn, batch)

    def _split(self, batch: list[OutboxEntry], device_id: str, report: PushReport) -> None:
        half = len(batch) // 2
        for part in (batch[:half], batch[half:]):
            self._budget -= 1
            with self.store.read() as conn:  # earlier halves may have held some of these
                still = {e.device_seq for e in outbox.select(
                    conn, "state IN ('pending', 'sending') AND device_seq BETWEEN ? AND ?",
                    (part[0].device_seq, part[-1].device_seq))}
                blocked = {e.lane for e in outbox.select(
                    conn, "state IN ('pending', 'sending') AND next_attempt_at > ?",
                    (to_iso(utcnow()),))}
                part = [e for e in part if e.device_seq in still and e.lane not in blocked]
                if not part:
                    continue
                prepared = _Prepared.of(conn, part, device_id)
            self._send(prepared, device_id, report)

    def _single_failed(self, e: OutboxEntry, exc: TransientError | PermanentError,
                       report: PushReport) -> None:
        """The server refused or failed on a request holding only this op."""
        if isinstance(exc, PermanentError):
            result = OpResult(op_id=e.op_id, status=OpStatus.REJECTED, code=exc.code,
                              message=exc.message, details=exc.details)
        else:  # a server error on this op alone: it backs off, its lane waits
            retry = exc.retry_after or 0.0
            result = OpResult(op_id=e.op_id, status=OpStatus.DEFERRED, code=exc.code,
                              message=exc.message, retry_after=retry)
        with self.store.write() as conn:
            report.add(sending.apply_results(conn, [e], [result], now=utcnow(), rng=self.rng))


def _all_acked(batch: Sequence[OutboxEntry], answer: PushResponse) -> bool:
    """Every op of ``batch`` answered applied or duplicate (nothing to hold, retry or
    re-link: the next batch as prepared is still right)."""
    acked = {r.op_id for r in answer.results
             if r.status in (OpStatus.APPLIED, OpStatus.DUPLICATE)}
    return all(e.op_id in acked for e in batch)

