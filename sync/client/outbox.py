"""The outbox: every op made on this device, from the moment it is made until the server
has acknowledged it *and* the pulled rows reflect it.

An op's life (``OpState``)::

    pending ──push──▶ sending ──▶ applied | duplicate          (acknowledged)
       ▲                 │ ──▶ rejected  ──user──▶ discarded
       └──── deferred ───┘ ──▶ held (an earlier op of its lane was rejected)
                                  └──user: retry──▶ pending | discard──▶ discarded

Rules kept here (sending and recording answers: ``sync.client.sending``):

* a new op in a lane whose ops are held is held too: the lane keeps its order;
* a rejected op (or held ops) can be discarded by the user; held ops, and ops this
  device gave up on, can be retried; a server's rejection is final for its op id;
* nothing leaves the table before the server acknowledged it; acknowledged ops leave
  only after a full pull that started after the acknowledgement, and only when no later
  op of their lane still waits (``compact``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import jsontext
from sync.client.sqlite import Connection
from sync.client.timefmt import from_iso, to_iso
from sync.lanes import lane_for
from sync.protocol import ACTION_OF, OpEnvelope, OpType


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

_COLUMNS = ("device_seq", "op_id", "user_id", "lane", "type", "entity_id", "base_version",
            "payload", "photos", "created_at", "state", "attempts", "next_attempt_at",
            "last_error", "held_by", "result_code", "result_message", "result_details",
            "result_entity", "result_entity_id", "result_version", "result_row",
            "sent_at", "acked_at", "updated_at")
SELECT_SQL = f"SELECT {', '.join(_COLUMNS)} FROM outbox"


def sql_in(values: Iterable[str]) -> str:
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
    #: ``created_at`` as stored (``to_iso``'s text): sent as it is, not formatted again
    created_iso: str | None = field(default=None, compare=False, repr=False)

    @property
    def action(self) -> str:
        """The work-order action the op takes (``record_swap`` for ``meter_swap.record@1``);
        for other ops the name in their type (``cash`` for ``recharge.cash@1``)."""
        known = ACTION_OF.get(self.type)
        return known.value if known else self.type.split("@", 1)[0].split(".", 1)[1]

    def wire(self, device_id: str, lane_prev: str | None) -> dict[str, Any]:
        """The op envelope as JSON (validated once, at enqueue)."""
        return {"op_id": self.op_id, "device_id": device_id, "device_seq": self.device_seq,
                "lane": self.lane, "lane_prev": lane_prev, "type": self.type,
                "entity_id": self.entity_id, "base_version": self.base_version,
                "payload": self.payload, "photos": self.photos,
                "created_at": self.created_iso or to_iso(self.created_at)}


_FIELDS = tuple(f.name for f in fields(OutboxEntry))
_NEW, _SET = object.__new__, object.__setattr__
assert _FIELDS[:len(_COLUMNS)] == _COLUMNS  # ``entry_of`` reads a row by position


def entry_of(r: Any) -> OutboxEntry:
    """A row of ``SELECT_SQL`` (its columns in ``_COLUMNS`` order) as an entry. Built as
    the dataclass's own ``__init__`` would set it, without its per-field
    ``object.__setattr__`` (a frozen class's): 2.3 against 6.4 µs an entry, and a push
    reads 2,000 a request."""
    (device_seq, op_id, user_id, lane, type_, entity_id, base_version, payload, photos,
     created_at, state, attempts, next_attempt_at, last_error, held_by, result_code,
     result_message, result_details, result_entity, result_entity_id, result_version,
     result_row, sent_at, acked_at, updated_at) = r
    created = from_iso(created_at)
    assert created is not None
    e = _NEW(OutboxEntry)
    _SET(e, "__dict__", dict(zip(_FIELDS, (
        device_seq, op_id, user_id, lane, type_, entity_id, base_version,
        jsontext.loads(payload), jsontext.loads(photos), created, OpState(state), attempts,
        from_iso(next_attempt_at), last_error, held_by, result_code, result_message,
        jsontext.loads(result_details) if result_details else {}, result_entity,
        result_entity_id, result_version,
        jsontext.loads(result_row) if result_row else None,
        from_iso(sent_at), from_iso(acked_at), from_iso(updated_at), len(payload),
        created_at if _in_iso_form(created_at) else None), strict=True)))
    return e


def _in_iso_form(text: str) -> bool:
    """Whether stored text is ``to_iso``'s form (UTC, microseconds: sent as it is)."""
    return len(text) == 32 and text.endswith("+00:00")


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


def set_fields(conn: Connection, e: OutboxEntry, **values: Any) -> None:
    cols = ", ".join(f"{k} = ?" for k in values)
    conn.exec_driver_sql(f"UPDATE outbox SET {cols} WHERE device_seq = ?",
                         (*values.values(), e.device_seq))


# -- user decisions -------------------------------------------------------------------
def discard(conn: Connection, op_id: str, *, with_dependents: bool = True) -> int:
    """The user gives up a rejected (or held) op. Ops held behind a rejected one are
    discarded with it, or (``with_dependents=False``) released to be sent."""
    e = get(conn, op_id)
    if e is None or e.state not in (S.REJECTED, S.HELD):
        raise ValueError("only a rejected or held op can be discarded")
    now = to_iso(utcnow())
    set_fields(conn, e, state=S.DISCARDED, updated_at=now)
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
        set_fields(conn, e, state=S.PENDING, attempts=0, next_attempt_at=None, updated_at=now)
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
    r = conn.exec_driver_sql(f"{SELECT_SQL} WHERE op_id = ?", (op_id,)).first()
    return entry_of(r) if r else None


def select(conn: Connection, where: str = "1 = 1", params: Sequence[Any] = ()
           ) -> list[OutboxEntry]:
    return [entry_of(r) for r in conn.exec_driver_sql(
        f"{SELECT_SQL} WHERE {where} ORDER BY device_seq", tuple(params))]


def for_lane(conn: Connection, lane: str) -> list[OutboxEntry]:
    return select(conn, "lane = ?", (lane,))


def live(conn: Connection, user_id: str | None = None) -> list[OutboxEntry]:
    """Ops that are not discarded, oldest first (what the read model lays over rows)."""
    if user_id is None:
        return select(conn, "state != 'discarded'")
    return select(conn, "state != 'discarded' AND user_id = ?", (user_id,))


def counts(conn: Connection) -> dict[str, int]:
    got: dict[str, int] = {str(k): int(v) for k, v in conn.exec_driver_sql(
        "SELECT state, count(*) FROM outbox GROUP BY state")}
    return {s.value: int(got.get(s.value, 0)) for s in OpState}


def oldest_waiting(conn: Connection) -> datetime | None:
    value = conn.exec_driver_sql(
        f"SELECT min(created_at) FROM outbox WHERE state IN {sql_in(WAITING)}").scalar()
    return from_iso(value)
