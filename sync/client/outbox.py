"""The outbox: every op made on this device, from the moment it is made until the server
has acknowledged it *and* the pulled rows reflect it.

An op's life (``OpState``)::

    pending ──push──▶ sending ──▶ applied | duplicate          (acknowledged)
       ▲                 │ ──▶ rejected  ──user──▶ discarded
       └──── deferred ───┘ ──▶ held (an earlier op of its lane was rejected)
                                  └──user: retry──▶ pending | discard──▶ discarded

Rules kept here:

* ops of one lane go out in ``device_seq`` order, each naming its ``lane_prev``: the
  nearest earlier op of the lane (same user) that is still expected to apply;
* a rejected op holds every later op of its lane until the user retries or discards;
* an op the server defers because of trouble on its side waits ``retry_after``; an op
  that fails on its own (a server error on a request holding only it) backs off alone,
  blocking only its lane, and is given up (shown as rejected, retryable) after
  ``MAX_ATTEMPTS``;
* nothing leaves the table before the server acknowledged it; acknowledged ops leave
  only after a full pull that started after the acknowledgement, and only when no later
  op of their lane still waits (``compact``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import rows
from sync.client.timefmt import from_iso, to_iso
from sync.protocol import OpEnvelope, OpResult, OpStatus, OpType, SyncErrorCode


class OpState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    HELD = "held"
    DISCARDED = "discarded"


S = OpState
UNSENT = (S.PENDING, S.SENDING)
ACKED = (S.APPLIED, S.DUPLICATE)
WAITING = (S.PENDING, S.SENDING, S.HELD)
#: States of ops a later op of the same lane follows (its ``lane_prev``).
CHAIN = (S.PENDING, S.SENDING, S.APPLIED, S.DUPLICATE)

#: Client-side code of an op the server kept deferring: shown as rejected, retryable.
GAVE_UP = "SYNC_CLIENT_GAVE_UP"
MAX_ATTEMPTS = 12
BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0

#: Which lane an op type's entity belongs to ("work_order:<id>" for swaps too).
_LANE_OF = {"work_order": "work_order", "meter_swap": "work_order"}

_COLUMNS = ("device_seq", "op_id", "user_id", "lane", "type", "entity_id", "base_version",
            "payload", "photos", "created_at", "state", "attempts", "next_attempt_at",
            "last_error", "held_by", "result_code", "result_message", "result_details",
            "result_entity", "result_entity_id", "result_version", "result_row",
            "sent_at", "acked_at", "updated_at")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM outbox"


def _in(values: Iterable[str]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"  # only OpState values


@dataclass(frozen=True)
class OutboxEntry:
    device_seq: int
    op_id: str
    user_id: str
    lane: str
    type: str
    entity_id: str
    base_version: int | None
    payload: dict[str, Any]
    photos: list[str]
    created_at: datetime
    state: OpState
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    held_by: str | None = None
    result_code: str | None = None
    result_message: str | None = None
    result_details: dict[str, Any] = field(default_factory=dict)
    result_entity: str | None = None
    result_entity_id: str | None = None
    result_version: int | None = None
    result_row: dict[str, Any] | None = None
    sent_at: datetime | None = None
    acked_at: datetime | None = None
    updated_at: datetime | None = None
    payload_bytes: int = 0  # size of the stored payload JSON (batches are cut by size)

    @property
    def action(self) -> str:
        """``accept`` for ``work_order.accept@1``."""
        return self.type.split("@", 1)[0].split(".", 1)[1]

    def wire(self, device_id: str, lane_prev: str | None) -> dict[str, Any]:
        """The op envelope as JSON (validated once, at enqueue)."""
        return {"op_id": self.op_id, "device_id": device_id, "device_seq": self.device_seq,
                "lane": self.lane, "lane_prev": lane_prev, "type": self.type,
                "entity_id": self.entity_id, "base_version": self.base_version,
                "payload": self.payload, "photos": self.photos,
                "created_at": to_iso(self.created_at)}


def _entry(r: Any) -> OutboxEntry:
    m = r._mapping
    created = from_iso(m["created_at"])
    assert created is not None
    return OutboxEntry(
        device_seq=m["device_seq"], op_id=m["op_id"], user_id=m["user_id"], lane=m["lane"],
        type=m["type"], entity_id=m["entity_id"], base_version=m["base_version"],
        payload=json.loads(m["payload"]), photos=json.loads(m["photos"]), created_at=created,
        state=OpState(m["state"]), attempts=m["attempts"],
        next_attempt_at=from_iso(m["next_attempt_at"]), last_error=m["last_error"],
        held_by=m["held_by"], result_code=m["result_code"],
        result_message=m["result_message"],
        result_details=json.loads(m["result_details"]) if m["result_details"] else {},
        result_entity=m["result_entity"], result_entity_id=m["result_entity_id"],
        result_version=m["result_version"],
        result_row=json.loads(m["result_row"]) if m["result_row"] else None,
        sent_at=from_iso(m["sent_at"]), acked_at=from_iso(m["acked_at"]),
        updated_at=from_iso(m["updated_at"]), payload_bytes=len(m["payload"]))


def lane_for(op_type: str, entity_id: str) -> str:
    prefix = op_type.split(".", 1)[0]
    return f"{_LANE_OF.get(prefix, prefix)}:{entity_id}"


# -- writing ------------------------------------------------------------------------
def insert(conn: Connection, *, device_id: str, device_seq: int, user_id: str, op_type: str,
           entity_id: str, payload: dict[str, Any], photos: list[str],
           base_version: int | None, lane: str | None, created_at: datetime) -> OutboxEntry:
    """Add an op. It is validated as a wire envelope first: a malformed op is refused
    here, on the phone, instead of poisoning a push later."""
    OpType(op_type)  # ValueError for a type this release does not know
    lane = lane or lane_for(op_type, entity_id)
    env = OpEnvelope(op_id=new_id(), device_id=device_id, device_seq=device_seq, lane=lane,
                     type=op_type, entity_id=entity_id, base_version=base_version,
                     payload=json.loads(json.dumps(payload)), photos=photos,
                     created_at=created_at)
    # A lane whose ops are held keeps its order: a new op waits behind them.
    held_by = conn.exec_driver_sql(
        "SELECT held_by FROM outbox WHERE lane = ? AND user_id = ? AND state = 'held' "
        "ORDER BY device_seq DESC LIMIT 1", (lane, user_id)).scalar()
    state = S.HELD if held_by is not None else S.PENDING
    now = to_iso(created_at)
    conn.exec_driver_sql(
        "INSERT INTO outbox (device_seq, op_id, user_id, lane, type, entity_id, base_version,"
        " payload, photos, created_at, state, held_by, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (device_seq, env.op_id, user_id, lane, op_type, entity_id, base_version,
         json.dumps(env.payload), json.dumps(photos), to_iso(env.created_at), state.value,
         held_by, now))
    return OutboxEntry(device_seq, env.op_id, user_id, lane, op_type, entity_id, base_version,
                       env.payload, photos, env.created_at, state, held_by=held_by)


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


def backoff_s(attempts: int, rng: random.Random) -> float:
    """Exponential with 'equal jitter': between half and all of base * 2^(n-1), capped."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


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
                _set(conn, e, state=S.HELD, held_by=_rejected_before(conn, e), updated_at=at)
                out.held += 1
            else:
                _reject(conn, e, r, at)
                rejected.setdefault(e.lane, e)
                out.rejected += 1
        else:  # deferred
            out.deferred += 1
            if e.lane in open_lanes or r.code == SyncErrorCode.LANE_PREDECESSOR_MISSING:
                _set(conn, e, state=S.PENDING, updated_at=at)  # waits for its predecessor
            elif r.code == SyncErrorCode.TRANSIENT:
                # Trouble on the server's side, not this op's: no strike against the op.
                when = now + timedelta(seconds=r.retry_after or BACKOFF_BASE_S)
                _set(conn, e, state=S.PENDING, next_attempt_at=to_iso(when),
                     last_error=r.code, updated_at=at)
                out.want_retry(when)
            else:  # this op failed on its own (e.g. a server error on it alone)
                attempts = e.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    _give_up(conn, e, r, attempts, at)
                    rejected.setdefault(e.lane, e)
                else:
                    delay = max(r.retry_after or 0.0, backoff_s(attempts, rng))
                    when = now + timedelta(seconds=delay)
                    _set(conn, e, state=S.PENDING, attempts=attempts,
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


def _set(conn: Connection, e: OutboxEntry, **values: Any) -> None:
    cols = ", ".join(f"{k} = ?" for k in values)
    conn.exec_driver_sql(f"UPDATE outbox SET {cols} WHERE device_seq = ?",
                         (*values.values(), e.device_seq))


def _reject(conn: Connection, e: OutboxEntry, r: OpResult, at: str) -> None:
    _set(conn, e, state=S.REJECTED, updated_at=at, acked_at=at, next_attempt_at=None,
         result_code=r.code, result_message=r.message,
         result_details=json.dumps(r.details or {}, default=str),
         result_entity=r.entity, result_entity_id=r.entity_id, result_version=r.version,
         result_row=json.dumps(r.row) if r.row is not None else None)
    # The server decides: its row replaces the local copy, which no longer carries the
    # rejected op (the read model lays only live ops over server rows).
    if r.row is not None and r.entity and r.entity_id and r.version is not None:
        rows.refresh_existing(conn, r.entity, r.entity_id, r.version, r.row)


def _give_up(conn: Connection, e: OutboxEntry, r: OpResult, attempts: int, at: str) -> None:
    _set(conn, e, state=S.REJECTED, attempts=attempts, updated_at=at, next_attempt_at=None,
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


# -- user decisions -------------------------------------------------------------------
def discard(conn: Connection, op_id: str, *, with_dependents: bool = True) -> int:
    """The user gives up a rejected (or held) op. Ops held behind a rejected one are
    discarded with it, or (``with_dependents=False``) released to be sent."""
    e = get(conn, op_id)
    if e is None or e.state not in (S.REJECTED, S.HELD):
        raise ValueError("only a rejected or held op can be discarded")
    now = to_iso(utcnow())
    _set(conn, e, state=S.DISCARDED, updated_at=now)
    if e.state != S.REJECTED:
        return 1
    if with_dependents:
        res = conn.exec_driver_sql(
            "UPDATE outbox SET state = 'discarded', updated_at = ? "
            "WHERE held_by = ? AND state = 'held'", (now, op_id))
    else:
        res = conn.exec_driver_sql(
            "UPDATE outbox SET state = 'pending', held_by = NULL, updated_at = ? "
            "WHERE held_by = ? AND state = 'held'", (now, op_id))
    return 1 + int(res.rowcount or 0)


def retry(conn: Connection, op_id: str) -> int:
    """Send held ops again (all held ops of the lane waiting on the same rejection, in
    order), or an op this device gave up on. A rejection made by the server is final
    for its op id: such an op can only be discarded."""
    e = get(conn, op_id)
    if e is None:
        raise ValueError("no such op")
    now = to_iso(utcnow())
    if e.state == S.REJECTED and e.result_code == GAVE_UP:
        _set(conn, e, state=S.PENDING, attempts=0, next_attempt_at=None, updated_at=now)
        blocker: str | None = e.op_id
    elif e.state == S.HELD:
        blocker = e.held_by
    else:
        raise ValueError("only held ops and ops given up on this device can be retried")
    res = conn.exec_driver_sql(
        "UPDATE outbox SET state = 'pending', held_by = NULL, updated_at = ? "
        "WHERE lane = ? AND user_id = ? AND state = 'held' AND held_by IS ?",
        (now, e.lane, e.user_id, blocker))
    return int(res.rowcount or 0) + (1 if e.state == S.REJECTED else 0)


def compact(conn: Connection, *, acked_before: datetime) -> int:
    """Drop acknowledged ops that a complete pull (started after their acknowledgement)
    has since reflected, unless a later op of their lane still waits."""
    res = conn.exec_driver_sql(
        "DELETE FROM outbox WHERE state IN ('applied', 'duplicate') AND acked_at <= ? "
        "AND NOT EXISTS (SELECT 1 FROM outbox AS later WHERE later.lane = outbox.lane "
        "AND later.device_seq > outbox.device_seq "
        "AND later.state IN ('pending', 'sending', 'held'))", (to_iso(acked_before),))
    return int(res.rowcount or 0)


# -- reading --------------------------------------------------------------------------
def get(conn: Connection, op_id: str) -> OutboxEntry | None:
    r = conn.exec_driver_sql(f"{_SELECT} WHERE op_id = ?", (op_id,)).first()
    return _entry(r) if r else None


def select(conn: Connection, where: str = "1 = 1", params: Sequence[Any] = ()
           ) -> list[OutboxEntry]:
    return [_entry(r) for r in conn.exec_driver_sql(
        f"{_SELECT} WHERE {where} ORDER BY device_seq", tuple(params))]


def for_lane(conn: Connection, lane: str) -> list[OutboxEntry]:
    return select(conn, "lane = ?", (lane,))


def live(conn: Connection, user_id: str | None = None) -> list[OutboxEntry]:
    """Ops that are not discarded, oldest first (what the read model lays over rows)."""
    if user_id is None:
        return select(conn, "state != 'discarded'")
    return select(conn, "state != 'discarded' AND user_id = ?", (user_id,))


def pushable(conn: Connection, *, user_id: str, now: datetime, after_seq: int = 0,
             limit: int = 500) -> list[OutboxEntry]:
    """The next unsent ops of ``user_id`` in ``device_seq`` order, skipping lanes whose
    head is backing off."""
    blocked = {r[0] for r in conn.exec_driver_sql(
        f"SELECT DISTINCT lane FROM outbox WHERE user_id = ? AND state IN {_in(UNSENT)} "
        "AND next_attempt_at > ?", (user_id, to_iso(now)))}
    out: list[OutboxEntry] = []
    cursor = after_seq
    while len(out) < limit:
        chunk = [_entry(r) for r in conn.exec_driver_sql(
            f"{_SELECT} WHERE user_id = ? AND state IN {_in(UNSENT)} AND device_seq > ? "
            f"ORDER BY device_seq LIMIT {limit}", (user_id, cursor))]
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
        found = dict(conn.exec_driver_sql(
            f"WITH head(lane, user_id, seq) AS (VALUES {values}) "
            "SELECT head.seq, (SELECT o.op_id FROM outbox AS o WHERE o.lane = head.lane "
            "AND o.user_id = head.user_id AND o.device_seq < head.seq "
            f"AND o.state IN {_in(CHAIN)} ORDER BY o.device_seq DESC LIMIT 1) FROM head",
            tuple(params)).all())
        for e in entries:
            if e.device_seq in found:
                out[e.op_id] = found[e.device_seq]
    return out


def counts(conn: Connection) -> dict[str, int]:
    got: dict[str, int] = {str(k): int(v) for k, v in conn.exec_driver_sql(
        "SELECT state, count(*) FROM outbox GROUP BY state")}
    return {s.value: int(got.get(s.value, 0)) for s in OpState}


def oldest_waiting(conn: Connection) -> datetime | None:
    value = conn.exec_driver_sql(
        f"SELECT min(created_at) FROM outbox WHERE state IN {_in(WAITING)}").scalar()
    return from_iso(value)
