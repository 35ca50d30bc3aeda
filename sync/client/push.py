"""Pushing the outbox: batches in ``device_seq`` order, results recorded per op.

A batch holds at most ``MAX_PUSH_OPS`` ops and about ``MAX_BATCH_BYTES`` of JSON (the
server refuses bodies over its limit). Each op names its ``lane_prev``. Before the request
the batch is marked ``sending``; the answers are recorded in one transaction.

When the server refuses a whole request because of its body (413, 422), or fails on it
(500), the batch is split in halves and each half is sent on its own, down to single
ops, within ``SPLIT_BUDGET`` extra requests per push: one poison op then ends up
rejected (or backing off) alone, its lane held behind it, and every other lane moves on.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.timeutil import utcnow
from sync.client import outbox, sending
from sync.client.errors import AuthRequired, ClientTooOld, PermanentError, TransientError
from sync.client.outbox import OutboxEntry
from sync.client.sending import BatchOutcome
from sync.client.store import SignedIn, Store
from sync.client.timefmt import to_iso
from sync.protocol import MAX_PUSH_OPS, PROTOCOL_VERSION, OpResult, OpStatus

if TYPE_CHECKING:  # made by the device, imported with httpx only when used
    from sync.client.transport import Transport

MAX_BATCH_BYTES = 700_000
#: JSON of an envelope without its payload and photos (ids, lane, times): a bound.
ENVELOPE_BYTES = 520
SPLIT_BUDGET = 24
_SPLIT_STATUSES = (413, 422, 500)


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


class Pusher:
    def __init__(self, store: Store, transport: Transport, rng: random.Random) -> None:
        self.store = store
        self.transport = transport
        self.rng = rng

    def run(self, who: SignedIn) -> PushReport:
        report = PushReport()
        self._budget = SPLIT_BUDGET
        device_id = self.store.device_id
        after = 0
        while True:
            with self.store.read() as conn:
                candidates = sending.pushable(conn, user_id=who.user_id, now=utcnow(),
                                             after_seq=after, limit=MAX_PUSH_OPS)
            if not candidates:
                return report
            batch = self._fit(candidates, device_id)
            self._send(batch, device_id, report)
            after = batch[-1].device_seq

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

    def _send(self, batch: list[OutboxEntry], device_id: str, report: PushReport) -> None:
        now = utcnow()
        with self.store.read() as conn:
            prevs = sending.lane_prevs(conn, batch)
        body = {"protocol": PROTOCOL_VERSION, "device_id": device_id, "sent_at": to_iso(now),
                "ops": [e.wire(device_id, prevs[e.op_id]) for e in batch]}
        with self.store.write() as conn:
            sending.mark_sending(conn, batch, now)
        report.requests += 1
        report.sent += len(batch)
        try:
            answer = self.transport.push(body)
        except (AuthRequired, ClientTooOld):
            self._unmark(batch)
            raise
        except (TransientError, PermanentError) as exc:
            self._unmark(batch)
            if exc.status not in _SPLIT_STATUSES:
                raise
            if len(batch) == 1:
                self._single_failed(batch[0], exc, report)
                return
            if self._budget <= 0:
                raise
            self._split(batch, device_id, report)
            return
        with self.store.write() as conn:
            report.add(sending.apply_results(conn, batch, answer.results, now=utcnow(),
                                            rng=self.rng))

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
            if part:
                self._send(part, device_id, report)

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

