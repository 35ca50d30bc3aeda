"""Sending the outbox: which ops go next, what each names as its ``lane_prev``, and
recording the server's answer for each op of a pushed batch.

Answers (``apply_results``, one transaction per batch):

* applied / duplicate — acknowledged (``sync.client.outbox.compact`` removes it later);
* rejected — kept with the code, the message in the user's language and the server's
  row (which replaces the device's copy; ``row: null`` — the user may no longer see the
  job — removes the device's copy); every later op of its lane is held;
* rejected with ``SYNC_LANE_PREDECESSOR_REJECTED`` — held with the rejected op;
* deferred — pending again: behind its predecessor, or after ``retry_after`` when the
  server had trouble (no strike against the op); ``SYNC_LANE_PREDECESSOR_MISSING`` for a
  predecessor outside the push is counted, and after ``RELINK_AFTER`` answers an op whose
  predecessor this device holds as acknowledged is sent without it (re-linked); an op
  that fails on its own (a server error on a request holding only it) backs off alone,
  blocking only its lane, and is given up — shown as rejected with ``GAVE_UP``,
  retryable — after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sync.client import backoff, rows
from sync.client.outbox import (
    ACKED,
    CHAIN,
    GAVE_UP,
    SELECT_SQL,
    UNSENT,
    OutboxEntry,
    S,
    entry_of,
    set_fields,
    sql_in,
)
from sync.client.sqlite import Connection
from sync.client.timefmt import to_iso
from sync.lanes import order_of
from sync.protocol import OpResult, OpStatus, SyncErrorCode

MAX_ATTEMPTS = 12
#: ``SYNC_LANE_PREDECESSOR_MISSING`` answers before an op stops naming a predecessor that
#: this device holds as acknowledged.
RELINK_AFTER = 3


def mark_sending(conn: Connection, entries: Sequence[OutboxEntry], now: datetime) -> None:
    at = to_iso(now)
    conn.exec_driver_sql(
        "UPDATE outbox SET state = 'sending', sent_at = ?, updated_at = ? "
        "WHERE device_seq = ? AND state IN ('pending', 'sending')",
        [(at, at, e.device_seq) for e in entries])


def unmark_sending(conn: Connection, entries: Sequence[OutboxEntry]) -> None:
    """The request failed without answers: the ops are simply pending again."""
    conn.exec_driver_sql("UPDATE outbox SET state = 'pending' WHERE device_seq = ? "
                         "AND state = 'sending'", [(e.device_seq,) for e in entries])


@dataclass
class BatchOutcome:
    acked: int = 0
    rejected: int = 0
    held: int = 0
    deferred: int = 0
    unanswered: int = 0
    #: The earliest time an op of this batch asked to be tried again.
    retry_at: datetime | None = None

    def want_retry(self, at: datetime) -> None:
        self.retry_at = at if self.retry_at is None else min(self.retry_at, at)


def apply_results(conn: Connection, batch: Sequence[OutboxEntry], results: Sequence[OpResult],
                  *, now: datetime, rng: random.Random) -> BatchOutcome:
    """Record the server's answer for each op of a pushed batch (one transaction)."""
    by_id = {r.op_id: r for r in results}
    out = BatchOutcome()
    at = to_iso(now)
    open_lanes: set[str] = set()  # lanes with an op not done in this batch
    rejected: dict[str, OutboxEntry] = {}
    acks: list[tuple[Any, ...]] = []  # written in one statement: most answers are acks
    for e in batch:
        r = by_id.get(e.op_id)
        if r is None:
            unmark_sending(conn, [e])
            open_lanes.add(e.lane)
            out.unanswered += 1
        elif r.status in (OpStatus.APPLIED, OpStatus.DUPLICATE):
            acks.append((r.status.value, at, at, r.code, r.entity, r.entity_id, r.version,
                         e.device_seq))
            if r.row is not None and r.entity and r.entity_id and r.version is not None:
                rows.refresh_existing(conn, r.entity, r.entity_id, r.version, r.row)
            out.acked += 1
        elif r.status == OpStatus.REJECTED:
            open_lanes.add(e.lane)
            if r.code == SyncErrorCode.LANE_PREDECESSOR_REJECTED:
                set_fields(conn, e, state=S.HELD, held_by=_rejected_before(conn, e), updated_at=at)
                out.held += 1
            else:
                _reject(conn, e, r, at)
                rejected.setdefault(e.lane, e)
                out.rejected += 1
        else:  # deferred
            out.deferred += 1
            if e.lane in open_lanes:
                set_fields(conn, e, state=S.PENDING, updated_at=at)  # waits for its predecessor
            elif r.code == SyncErrorCode.LANE_PREDECESSOR_MISSING:
                # The server does not know the op named as ``lane_prev``, and it was not
                # in this push. Counted: after ``RELINK_AFTER`` such answers, a predecessor
                # this device holds as done is no longer named (``lane_prevs``), so the op
                # never waits for ever on a record the server lost (a restored backup).
                attempts = e.attempts + 1
                delay = backoff.backoff_s(attempts, rng) if attempts >= RELINK_AFTER else 0.0
                set_fields(conn, e, state=S.PENDING, attempts=attempts, last_error=r.code,
                           next_attempt_at=to_iso(now + timedelta(seconds=delay))
                           if delay else None, updated_at=at)
                if delay:
                    out.want_retry(now + timedelta(seconds=delay))
            elif r.code == SyncErrorCode.TRANSIENT:
                # Trouble on the server's side, not this op's: no strike against the op.
                when = now + timedelta(seconds=r.retry_after or backoff.BASE_S)
                set_fields(conn, e, state=S.PENDING, next_attempt_at=to_iso(when),
                     last_error=r.code, updated_at=at)
                out.want_retry(when)
            else:  # this op failed on its own (e.g. a server error on it alone)
                attempts = e.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    _give_up(conn, e, r, attempts, at)
                    rejected.setdefault(e.lane, e)
                else:
                    delay = max(r.retry_after or 0.0, backoff.backoff_s(attempts, rng))
                    when = now + timedelta(seconds=delay)
                    set_fields(conn, e, state=S.PENDING, attempts=attempts,
                         next_attempt_at=to_iso(when), last_error=r.code or r.message,
                         updated_at=at)
                    out.want_retry(when)
            open_lanes.add(e.lane)
    if acks:
        conn.exec_driver_sql(
            "UPDATE outbox SET state = ?, acked_at = ?, updated_at = ?, attempts = 0, "
            "next_attempt_at = NULL, last_error = NULL, result_code = ?, result_entity = ?, "
            "result_entity_id = ?, result_version = ? WHERE device_seq = ?", acks)
    for e in rejected.values():
        out.held += hold_after(conn, e)
    return out


def _reject(conn: Connection, e: OutboxEntry, r: OpResult, at: str) -> None:
    set_fields(conn, e, state=S.REJECTED, updated_at=at, acked_at=at, next_attempt_at=None,
         result_code=r.code, result_message=r.message,
         result_details=json.dumps(r.details or {}, default=str),
         result_entity=r.entity, result_entity_id=r.entity_id, result_version=r.version,
         result_row=json.dumps(r.row) if r.row is not None else None)
    # The server decides: its row replaces the local copy, which no longer carries the
    # rejected op (the read model lays only live ops over server rows).
    if r.row is not None and r.entity and r.entity_id and r.version is not None:
        rows.refresh_existing(conn, r.entity, r.entity_id, r.version, r.row)
    _forget_if_out_of_scope(conn, e, r)


#: Refusals made before the server looked at the entity: their ``row`` null says nothing.
_NO_ROW_LOOKED_UP = frozenset({SyncErrorCode.DEVICE_MISMATCH.value,
                               SyncErrorCode.OP_ID_REUSED.value})


def _forget_if_out_of_scope(conn: Connection, e: OutboxEntry, r: OpResult) -> None:
    """``row: null`` on a refused work-order op: the user may no longer see the job (it
    was reassigned, say) — drop the local copy, or it would stay on this phone for good
    (its tombstone may have been pulled already). The refused op stays, shown."""
    order_id = order_of(e.lane)
    answered_for_entity = r.entity_id is not None  # not a refusal made on this device
    if (r.row is None and answered_for_entity and order_id is not None
            and r.code not in _NO_ROW_LOOKED_UP):
        rows.forget(conn, "work_order", order_id)


def _give_up(conn: Connection, e: OutboxEntry, r: OpResult, attempts: int, at: str) -> None:
    set_fields(conn, e, state=S.REJECTED, attempts=attempts, updated_at=at, next_attempt_at=None,
         result_code=GAVE_UP, result_message=r.message,
         result_details=json.dumps({"server_code": r.code, "attempts": attempts}))


def _rejected_before(conn: Connection, e: OutboxEntry) -> str | None:
    """The rejected op an op of this lane waits on (via an earlier held op, if any)."""
    row = conn.exec_driver_sql(
        "SELECT op_id, state, held_by FROM outbox WHERE lane = ? AND user_id = ? "
        "AND device_seq < ? AND state IN ('rejected', 'held') "
        "ORDER BY device_seq DESC LIMIT 1", (e.lane, e.user_id, e.device_seq)).first()
    if row is None:
        return None
    return str(row.op_id) if row.state == S.REJECTED else row.held_by


def hold_after(conn: Connection, rejected: OutboxEntry) -> int:
    """Hold every later unsent op of the rejected op's lane."""
    res = conn.exec_driver_sql(
        "UPDATE outbox SET state = 'held', held_by = ? WHERE lane = ? AND user_id = ? "
        "AND device_seq > ? AND state IN ('pending', 'sending')",
        (rejected.op_id, rejected.lane, rejected.user_id, rejected.device_seq))
    return int(res.rowcount or 0)


def pushable(conn: Connection, *, user_id: str, now: datetime, after_seq: int = 0,
             limit: int = 500) -> list[OutboxEntry]:
    """The next unsent ops of ``user_id`` in ``device_seq`` order, skipping lanes whose
    head is backing off."""
    # through the retry times' index, which holds only ops told to wait (SQLite's own
    # choice, the lane index, read every op: ~3 ms a request with 10,000 queued)
    blocked = {r[0] for r in conn.exec_driver_sql(
        "SELECT DISTINCT lane FROM outbox INDEXED BY ix_outbox_retry "
        f"WHERE next_attempt_at > ? AND user_id = ? AND state IN {sql_in(UNSENT)}",
        (to_iso(now), user_id))}
    out: list[OutboxEntry] = []
    cursor = after_seq
    while len(out) < limit:
        # in key order (``+state``: not through the state index, whose two ranges SQLite
        # then sorted, every column of 2,000 rows, in a temporary tree)
        chunk = [entry_of(r) for r in conn.exec_driver_sql(
            f"{SELECT_SQL} WHERE device_seq > ? AND user_id = ? "
            f"AND +state IN {sql_in(UNSENT)} ORDER BY device_seq LIMIT {limit}",
            (cursor, user_id))]
        if not chunk:
            break
        out.extend(e for e in chunk if e.lane not in blocked)
        cursor = chunk[-1].device_seq
    return out[:limit]


def lane_prevs(conn: Connection, entries: Sequence[OutboxEntry]) -> dict[str, str | None]:
    """For each op (oldest first), the nearest earlier op of its lane (same user) still in
    the chain: an earlier op of the same batch, or else one looked up in the outbox."""
    out: dict[str, str | None] = {}
    last: dict[tuple[str, str], str] = {}
    first: dict[tuple[str, str], int] = {}
    for e in entries:
        key = (e.lane, e.user_id)
        if key in last:
            out[e.op_id] = last[key]
        else:
            first[key] = e.device_seq
        last[key] = e.op_id
    heads = list(first.items())
    for i in range(0, len(heads), 300):
        part = heads[i:i + 300]
        values = ", ".join("(?, ?, ?)" for _ in part)
        params = [v for (lane, user), seq in part for v in (lane, user, seq)]
        found: dict[int, str | None] = dict(conn.exec_driver_sql(
            f"WITH head(lane, user_id, seq) AS (VALUES {values}) "
            "SELECT head.seq, (SELECT o.op_id FROM outbox AS o WHERE o.lane = head.lane "
            "AND o.user_id = head.user_id AND o.device_seq < head.seq "
            f"AND o.state IN {sql_in(CHAIN)} ORDER BY o.device_seq DESC LIMIT 1) FROM head",
            tuple(params)).all())
        for e in entries:
            if e.device_seq in found:
                out[e.op_id] = found[e.device_seq]
    for e in entries:  # re-link ops the server kept answering "predecessor missing"
        prev = out.get(e.op_id)
        if (prev is not None and e.attempts >= RELINK_AFTER
                and e.last_error == SyncErrorCode.LANE_PREDECESSOR_MISSING
                and conn.exec_driver_sql(
                    f"SELECT 1 FROM outbox WHERE op_id = ? AND state IN {sql_in(ACKED)}",
                    (prev,)).first() is not None):
            out[e.op_id] = None
    return out
