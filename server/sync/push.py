"""Apply a push: each op atomically together with its ``applied_op`` record.

Ops are applied in order, in chunks of ``CHUNK`` per database transaction, each op inside
its own savepoint (a nested transaction): an op's effects, its change-log entries and
its ``applied_op`` record are kept or undone together. A chunk commits as a whole, so a
crash before the commit loses the chunk's decisions *and* the response with them — the
device sends the same ops again and they are decided afresh, still exactly once.

Order of checks for one op: already decided (duplicate, or op id reused with other
content) → lane predecessor unknown (deferred) or rejected (rejected, not recorded, so
the device can re-link and resend) → its ``device_seq`` (not above the push's earlier
ops, or held by another op of the device: rejected, recorded) → unknown type / bad
payload (rejected, recorded) → apply through the domain services (applied, recorded) or a
domain refusal (rejected, recorded, with the server's row if the user's devices hold it,
else ``row: null``). Transient database trouble leaves the chunk's ops undecided
(deferred, retry later). Ops whose envelope is invalid never get here
(``server.sync.envelope``; ``refuse_invalid`` records their refusal).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session, col

from server.db import Database, among, among_param, among_value
from server.errors import error_body
from server.sync import handlers, serialize, times
from server.sync.envelope import InvalidOp, seq_not_increasing
from server.sync.models import AppliedOp, Device
from server.sync.scope import holds_order
from server.uow import UnitOfWork
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.errors import DomainError, ErrorCode
from shared.messages import LANGS, translate
from shared.timeutil import utcnow
from shared.workorders.state_machine import TRANSITIONS, Action, Actor
from sync.clock import Clock
from sync.idempotency import Decided, Gate, gate
from sync.lanes import LaneGate
from sync.protocol import (
    ACTION_OF,
    OpEnvelope,
    OpResult,
    OpStatus,
    PushRequest,
    SyncErrorCode,
)

log = logging.getLogger("gridone.sync.push")
#: Ops per database transaction (bounds how long one push holds the write lock).
CHUNK = 100


def sync_message(code: SyncErrorCode, lang: str, **params: Any) -> str:
    return translate(code.value, lang, **params)


@dataclass
class _Batch:
    actor: Actor
    request: PushRequest
    clock: Clock
    lang: str
    now: datetime
    pepper: str = ""
    #: ops whose device_seq is not above an earlier op's of the push: that number
    out_of_order: dict[str, int] = field(default_factory=dict)


def apply_chunk(db: Database, batch: _Batch, chunk: list[OpEnvelope], lanes: LaneGate, *,
                first: bool) -> list[OpResult]:
    """Decide ``chunk`` op by op in one transaction (the oracle of ``server.sync.bulk``).
    Raises ``OperationalError`` on transient database trouble (nothing kept)."""
    with UnitOfWork(db, batch.actor) as uow:
        uow.pepper = batch.pepper
        if first:
            _touch_device(uow, batch)
        known = _decided(uow.session, chunk)
        holders = seq_holders(uow.session, batch.request.device_id, chunk)
        results = [_one_in_chunk(uow, batch, op, lanes, known, holders) for op in chunk]
        uow.commit()
    return results


def push(db: Database, *, actor: Actor, request: PushRequest, lang: str,
         received_at: datetime | None = None, run: Callable[..., list[OpResult]] = apply_chunk,
         chunk: int = CHUNK, pepper: str = "") -> list[OpResult]:
    """Decide a push chunk by chunk with ``run`` (op by op here; ``server.sync.bulk``
    passes its set-wise runner). ``pepper``: the key of identity numbers' digests (ops
    that carry one need it)."""
    now = received_at or utcnow()
    batch = _Batch(actor, request, Clock.of_push(request.sent_at, now), lang, now, pepper,
                   seq_not_increasing(request.ops))
    results: list[OpResult] = []
    lanes = LaneGate()
    ops = request.ops
    for start in range(0, len(ops), chunk):
        try:
            chunk_results = run(db, batch, ops[start:start + chunk], lanes, first=start == 0)
        except OperationalError as exc:  # lock timeouts, lost connections, deadlocks
            log.warning("transient database error in push chunk: %s", exc)
            results.extend(_deferred(op, SyncErrorCode.TRANSIENT, lang, retry_after=1.0)
                           for op in ops[start:])
            return results
        results.extend(chunk_results)
    return results


def _decided(session: Session, chunk: list[OpEnvelope]) -> dict[str, Decided]:
    """The records of the chunk's ops and of their lane predecessors, in one query (the
    chunk's transaction holds the write lock on SQLite; on PostgreSQL a record committed
    meanwhile by a concurrent push makes the insert fail, handled in ``_one``)."""
    ids = {op.op_id for op in chunk} | {op.lane_prev for op in chunk if op.lane_prev}
    rows = session.execute(select(AppliedOp).where(among(
        col(AppliedOp.op_id), sorted(ids), session.get_bind().dialect.name))).scalars()
    return {r.op_id: Decided.of(r) for r in rows}


def seq_holders(session: Session, device_id: str, ops: list[OpEnvelope]
                ) -> dict[int, set[str]]:
    """The op ids already recorded under the device's numbers of ``ops`` (issue 8, item 5:
    a number belongs to one op of a device)."""
    seqs = sorted({op.device_seq for op in ops})
    found: dict[int, set[str]] = {}
    if not seqs:
        return found
    dialect = session.get_bind().dialect.name
    rows = session.execute(_holders_stmt(dialect), {
        "device_id": device_id, "seqs": among_value(seqs, dialect)}).all()
    for seq, op_id in rows:
        found.setdefault(int(seq), set()).add(op_id)
    return found


@functools.lru_cache(maxsize=4)
def _holders_stmt(dialect: str) -> Any:
    """``seq_holders``' read, built once per dialect (run before every chunk)."""
    return select(col(AppliedOp.device_seq), col(AppliedOp.op_id)).where(
        col(AppliedOp.device_id) == bindparam("device_id"),
        among_param(col(AppliedOp.device_seq), "seqs", dialect))


def seq_problem(op: OpEnvelope, *, out_of_order: dict[str, int],
                holders: dict[int, set[str]]) -> tuple[SyncErrorCode, dict[str, Any]] | None:
    """Why ``op``'s ``device_seq`` is refused, if it is: not above the push's earlier ops,
    or already the number of another op of the device."""
    if op.op_id in out_of_order:
        return (SyncErrorCode.DEVICE_SEQ_NOT_INCREASING,
                {"device_seq": op.device_seq, "previous": out_of_order[op.op_id]})
    held = holders.get(op.device_seq)  # usually none: no set built for the usual op
    others = held - {op.op_id} if held else None
    if others:
        return (SyncErrorCode.DEVICE_SEQ_REUSED,
                {"device_seq": op.device_seq, "op_id": min(others)})
    return None


def _one_in_chunk(uow: UnitOfWork, batch: _Batch, op: OpEnvelope, lanes: LaneGate,
                  known: dict[str, Decided], holders: dict[int, set[str]] | None = None
                  ) -> OpResult:
    if not lanes.open(op.lane):
        return _deferred(op, SyncErrorCode.LANE_PREDECESSOR_MISSING, batch.lang)
    if holders is None:
        holders = seq_holders(uow.session, batch.request.device_id, [op])
    result = _one(uow, batch, op, known, holders)
    if result.status == OpStatus.DEFERRED or result.code == (
            SyncErrorCode.LANE_PREDECESSOR_REJECTED.value):
        lanes.close(op.lane)
    return result


_DEVICES = Device.__table__  # type: ignore[attr-defined]
_DEVICE_SESSION = (select(_DEVICES.c.clock_session_offset_s, _DEVICES.c.clock_session_at)
                   .where(_DEVICES.c.id == bindparam("id")))
_UPDATE_DEVICE = _DEVICES.update().where(_DEVICES.c.id == bindparam("_id"))


def _touch_device(uow: UnitOfWork, batch: _Batch) -> None:
    """Note the device and its clock offset (bookkeeping only; never fails a push).
    Plain statements: through the ORM (load, flush) this cost ~1.4 ms a push, most of
    a crew's one-op push."""
    req = batch.request
    session = uow.session
    stored = session.execute(_DEVICE_SESSION, {"id": req.device_id}).first()
    clock = times.session_clock(stored_offset_s=stored[0] if stored else None,
                                stored_at=stored[1] if stored else None,
                                sample=batch.clock, now=batch.now)
    values = {"user_id": batch.actor.user_id, "last_seen": batch.now,
              "last_clock_offset_s": batch.clock.offset.total_seconds(),
              "clock_session_offset_s": clock.offset_s, "clock_session_at": clock.seen_at,
              "last_protocol": req.protocol}
    if stored is not None:
        session.execute(_UPDATE_DEVICE, {"_id": req.device_id, **values})
    else:
        try:
            with uow.savepoint():
                session.execute(_DEVICES.insert(), {"id": req.device_id,
                                                    "first_seen": batch.now, **values})
        except IntegrityError:
            log.info("device %s first seen by a concurrent push", req.device_id)
            return
    # One correction for the device's clock session, not one per push (item 11).
    batch.clock = Clock.of_seconds(clock.offset_s)


def _deferred(op: OpEnvelope, code: SyncErrorCode, lang: str,
              retry_after: float | None = None) -> OpResult:
    return OpResult(op_id=op.op_id, status=OpStatus.DEFERRED, code=code.value,
                    message=sync_message(code, lang), retry_after=retry_after)


def _rejected(op: OpEnvelope, code: str, message: str, details: dict[str, Any] | None = None,
              row: dict[str, Any] | None = None) -> OpResult:
    return OpResult(op_id=op.op_id, status=OpStatus.REJECTED, code=code, message=message,
                    details=details, entity="work_order" if row else None,
                    entity_id=op.entity_id, version=row.get("version") if row else None,
                    row=row)


def current_row(session: Session, actor: Actor, op: OpEnvelope) -> dict[str, Any] | None:
    """The server's row of the op's entity, if the user's devices hold it (issue 8, item
    3): a job that left the user's scope (reassigned to another crew) is ``None``, and the
    device removes its copy instead of putting it back for good."""
    if not holds_order(session, actor, op.entity_id):
        return None
    return serialize.load(session, "work_order", [op.entity_id]).get(op.entity_id)


def _from_record(session: Session, batch: _Batch, op: OpEnvelope, rec: Decided) -> OpResult:
    if rec.status == "applied":
        return OpResult(op_id=op.op_id, status=OpStatus.DUPLICATE,
                        entity=rec.result.get("entity"), entity_id=rec.entity_id,
                        version=rec.result.get("version"))
    message = rec.details.get("_message", {}).get(batch.lang) or rec.code or ""
    details = {k: v for k, v in rec.details.items() if k != "_message"}
    return _rejected(op, rec.code or "", message, details,
                     current_row(session, batch.actor, op))


def op_timing(session: Session, batch: _Batch, op: OpEnvelope,
              known: dict[str, Decided]) -> times.Timing:
    """The time recorded for ``op`` (``server.sync.times``): corrected by the device's
    session offset, bounded by its job and the previous op of its lane."""
    floors: list[datetime | None] = []
    prev = known.get(op.lane_prev) if op.lane_prev else None
    if prev is not None:
        floors.append(prev.effective_at)
    action = ACTION_OF.get(op.type)
    if action is not None and action != Action.REPORT:
        order = session.get(WorkOrder, op.entity_id)
        if order is not None:
            floors.append(times.job_floor(order, actor_id=batch.actor.user_id,
                                          transition=TRANSITIONS[action].target is not None))
    return times.bound(op.created_at, clock=batch.clock, received=batch.now, floors=floors)


def _flag_events(session: Session, op: OpEnvelope, timing: times.Timing) -> None:
    """Mark the timeline event the op made: its time is the server's, not the device's
    (the office sees why, and what the device said)."""
    action = ACTION_OF.get(op.type)
    if action is None:
        return
    events = session.execute(select(WorkOrderEvent).where(
        col(WorkOrderEvent.work_order_id) == op.entity_id,
        col(WorkOrderEvent.action) == action.value,
        col(WorkOrderEvent.occurred_at) == timing.at)).scalars()
    for event in events:
        event.data = {**event.data, "time_flagged": timing.record()}
        session.add(event)
    session.flush()


def _one(uow: UnitOfWork, batch: _Batch, op: OpEnvelope, known: dict[str, Decided],
         holders: dict[int, set[str]]) -> OpResult:
    session, actor, lang = uow.session, batch.actor, batch.lang
    content_hash = op.content_hash()
    where, rec = gate(op, content_hash=content_hash, device_id=batch.request.device_id,
                      user_id=actor.user_id, known=known)
    if where == Gate.DEVICE_MISMATCH:
        return _rejected(op, SyncErrorCode.DEVICE_MISMATCH.value,
                         sync_message(SyncErrorCode.DEVICE_MISMATCH, lang))
    if where == Gate.OP_ID_REUSED:
        return _rejected(op, SyncErrorCode.OP_ID_REUSED.value,
                         sync_message(SyncErrorCode.OP_ID_REUSED, lang))
    if where == Gate.DECIDED:
        assert rec is not None
        return _from_record(session, batch, op, rec)
    if where == Gate.PREDECESSOR_MISSING:
        return _deferred(op, SyncErrorCode.LANE_PREDECESSOR_MISSING, lang)
    if where == Gate.PREDECESSOR_REJECTED:
        return _rejected(op, SyncErrorCode.LANE_PREDECESSOR_REJECTED.value,
                         sync_message(SyncErrorCode.LANE_PREDECESSOR_REJECTED, lang),
                         {"predecessor": op.lane_prev}, current_row(session, actor, op))
    timing = op_timing(session, batch, op, known)
    at, flagged = timing.at, batch.clock.flagged or timing.flag is not None
    record: dict[str, Any] = {
        "op_id": op.op_id, "device_id": op.device_id, "device_seq": op.device_seq,
        "user_id": actor.user_id, "lane": op.lane, "type": op.type,
        "entity_id": op.entity_id, "content_hash": content_hash, "status": "applied",
        "code": None, "details": {}, "result": {}, "device_created_at": op.created_at,
        "effective_at": at, "clock_offset_s": batch.clock.offset.total_seconds(),
        "received_at": utcnow()}
    bad_seq = seq_problem(op, out_of_order=batch.out_of_order, holders=holders)
    if bad_seq is not None:
        code, details = bad_seq
        return _record_rejection(uow, batch, op, record, known, code.value, details,
                                 {lg: sync_message(code, lg, **details) for lg in LANGS})
    holders.setdefault(op.device_seq, set()).add(op.op_id)
    try:
        spec, body = handlers.parse(op)
    except KeyError:
        return _record_rejection(uow, batch, op, record, known,
                                 SyncErrorCode.UNKNOWN_OP_TYPE.value, {"type": op.type},
                                 {lg: sync_message(SyncErrorCode.UNKNOWN_OP_TYPE, lg,
                                                   type=op.type) for lg in LANGS})
    except handlers.PayloadError as exc:
        return _record_rejection(uow, batch, op, record, known,
                                 SyncErrorCode.BAD_PAYLOAD.value, {"summary": exc.summary},
                                 {lg: sync_message(SyncErrorCode.BAD_PAYLOAD, lg,
                                                   summary=exc.summary) for lg in LANGS})
    try:
        with uow.savepoint():
            applied = spec.apply(uow, actor, op, body, at)
            record["result"] = {"entity": applied.entity, "entity_id": applied.entity_id,
                                "version": applied.version, "clock_flagged": flagged,
                                "time_flagged": timing.record()}
            session.flush()
            if timing.flag is not None:
                _flag_events(session, op, timing)
            # The record is a plain INSERT in the op's savepoint: kept or undone with it.
            session.execute(insert(AppliedOp), [record])
    except DomainError as exc:
        messages = {lg: error_body(exc.code, lg, exc.details)["message"] for lg in LANGS}
        return _record_rejection(uow, batch, op, record, known, exc.code.value, exc.details,
                                 messages)
    except OperationalError:
        raise
    except DBAPIError as exc:
        # Undone with its savepoint. A concurrent push of the same op may have won the race
        # for its record; otherwise it is a fault of this op alone: only it waits, counted
        # against it on the device, and the other ops of the push go on.
        found = session.get(AppliedOp, op.op_id)
        if found is not None:
            known[op.op_id] = Decided.of(found)
            return _from_record(session, batch, op, known[op.op_id])
        log.exception("database error applying op %s (%s)", op.op_id, op.type)
        return OpResult(op_id=op.op_id, status=OpStatus.DEFERRED,
                        code=ErrorCode.INTERNAL_ERROR.value,
                        message=translate(ErrorCode.INTERNAL_ERROR, batch.lang),
                        details={"error": type(exc.orig).__name__ if exc.orig else "db"},
                        retry_after=60.0)
    known[op.op_id] = Decided.of(record)
    return OpResult(op_id=op.op_id, status=OpStatus.APPLIED, entity=applied.entity,
                    entity_id=applied.entity_id, version=applied.version)


def _record_rejection(uow: UnitOfWork, batch: _Batch, op: OpEnvelope, record: dict[str, Any],
                      known: dict[str, Decided], code: str, details: dict[str, Any],
                      messages: dict[str, str]) -> OpResult:
    """Record a permanent refusal (nothing of the op itself was kept)."""
    fresh = {**record, "status": "rejected", "code": code, "result": {},
             "details": {**_jsonable(details), "_message": messages}}
    uow.session.execute(insert(AppliedOp), [fresh])
    known[op.op_id] = Decided.of(fresh)
    return _rejected(op, code, messages.get(batch.lang) or translate(code, batch.lang),
                     _jsonable(details), current_row(uow.session, batch.actor, op))


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | type(None) | list | dict)
                else str(v)) for k, v in details.items()}


def refuse_invalid(db: Database, *, actor: Actor, device_id: str, ops: list[InvalidOp],
                   lang: str, received_at: datetime) -> list[OpResult]:
    """Answer ops whose envelope is invalid: ``rejected`` ``SYNC_OP_INVALID`` with the
    fields at fault. Under a valid op id the refusal is recorded (once: an id decided
    before is answered from its record), so the lane's later ops are held behind it."""
    code = SyncErrorCode.OP_INVALID
    results: list[OpResult] = []
    with UnitOfWork(db, actor) as uow:
        ids = sorted({bad.op_id for bad in ops if bad.recordable})
        known = {r.op_id: Decided.of(r) for r in uow.session.execute(select(AppliedOp).where(
            AppliedOp.op_id.in_(ids))).scalars()} if ids else {}  # type: ignore[attr-defined]
        for bad in ops:
            messages = {lg: sync_message(code, lg, summary=bad.details["summary"])
                        for lg in LANGS}
            result = OpResult(op_id=bad.op_id, status=OpStatus.REJECTED, code=code.value,
                              message=messages[lang], details=bad.details)
            if bad.recordable:
                result = _record_invalid(uow, bad, known, result, actor=actor,
                                         device_id=device_id, received_at=received_at,
                                         messages=messages, lang=lang)
            results.append(result)
        uow.commit()
    return results


def _record_invalid(uow: UnitOfWork, bad: InvalidOp, known: dict[str, Decided],
                    result: OpResult, *, actor: Actor, device_id: str,
                    received_at: datetime, messages: dict[str, str], lang: str) -> OpResult:
    content_hash = bad.content_hash()
    seen = known.get(bad.op_id)
    if seen is not None:
        if seen.content_hash != content_hash or seen.user_id != actor.user_id:
            return OpResult(op_id=bad.op_id, status=OpStatus.REJECTED,
                            code=SyncErrorCode.OP_ID_REUSED.value,
                            message=sync_message(SyncErrorCode.OP_ID_REUSED, lang))
        return result  # the same invalid op again: the same answer
    record = {"op_id": bad.op_id, "device_id": device_id, "device_seq": bad.device_seq,
              "user_id": actor.user_id, "lane": bad.lane, "type": bad.type,
              "entity_id": bad.entity_id, "content_hash": content_hash,
              "status": "rejected", "code": result.code, "result": {},
              "details": {**bad.details, "_message": messages},
              "device_created_at": bad.created_at(received_at), "effective_at": received_at,
              "clock_offset_s": 0.0, "received_at": received_at}
    uow.session.execute(insert(AppliedOp), [record])
    known[bad.op_id] = Decided.of(record)
    return result
