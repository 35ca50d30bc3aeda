"""Apply a push: each op atomically together with its ``applied_op`` record.

Ops are applied in order, in chunks of ``CHUNK`` per database transaction, each op inside
its own savepoint (a nested transaction): an op's effects, its change-log entries and
its ``applied_op`` record are kept or undone together. A chunk commits as a whole, so a
crash before the commit loses the chunk's decisions *and* the response with them — the
device sends the same ops again and they are decided afresh, still exactly once.

Order of checks for one op: already decided (duplicate, or op id reused with other
content) → lane predecessor unknown (deferred) or rejected (rejected, not recorded, so
the device can re-link and resend) → unknown type / bad payload (rejected, recorded) →
apply through the domain services (applied, recorded) or a domain refusal (rejected,
recorded, with the server's row). Transient database trouble leaves the chunk's ops
undecided (deferred, retry later).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from server.db import Database
from server.errors import error_body
from server.sync import handlers, serialize
from server.sync.models import AppliedOp, Device
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from shared.errors import DomainError, ErrorCode
from shared.messages import LANGS, translate
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor
from sync.clock import Clock
from sync.idempotency import Decided, Gate, gate
from sync.lanes import LaneGate
from sync.protocol import OpEnvelope, OpResult, OpStatus, PushRequest, SyncErrorCode

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


def push(db: Database, *, actor: Actor, request: PushRequest, lang: str,
         received_at: datetime | None = None) -> list[OpResult]:
    now = received_at or utcnow()
    batch = _Batch(actor, request, Clock.of_push(request.sent_at, now), lang, now)
    results: list[OpResult] = []
    lanes = LaneGate()
    ops = request.ops
    for start in range(0, len(ops), CHUNK):
        chunk = ops[start:start + CHUNK]
        try:
            with UnitOfWork(db, actor) as uow:
                if start == 0:
                    _touch_device(uow, batch)
                known = _decided(uow.session, chunk)
                chunk_results = [_one_in_chunk(uow, batch, op, lanes, known)
                                 for op in chunk]
                uow.commit()
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
    rows = session.execute(select(AppliedOp).where(
        AppliedOp.op_id.in_(sorted(ids)))).scalars()  # type: ignore[attr-defined]
    return {r.op_id: Decided.of(r) for r in rows}


def _one_in_chunk(uow: UnitOfWork, batch: _Batch, op: OpEnvelope, lanes: LaneGate,
                  known: dict[str, Decided]) -> OpResult:
    if not lanes.open(op.lane):
        return _deferred(op, SyncErrorCode.LANE_PREDECESSOR_MISSING, batch.lang)
    result = _one(uow, batch, op, known)
    if result.status == OpStatus.DEFERRED or result.code == (
            SyncErrorCode.LANE_PREDECESSOR_REJECTED.value):
        lanes.close(op.lane)
    return result


def _touch_device(uow: UnitOfWork, batch: _Batch) -> None:
    """Note the device and its clock offset (bookkeeping only; never fails a push)."""
    req = batch.request
    try:
        with uow.savepoint():
            session = uow.session
            device = session.get(Device, req.device_id) or Device(
                id=req.device_id, user_id=batch.actor.user_id)
            device.user_id = batch.actor.user_id
            device.last_seen = batch.now
            device.last_clock_offset_s = batch.clock.offset.total_seconds()
            device.last_protocol = req.protocol
            session.add(device)
            session.flush()
    except IntegrityError:
        log.info("device %s first seen by a concurrent push", req.device_id)


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
    """The server's row of the op's entity, if the actor may see it."""
    try:
        work_orders.get_visible(session, actor=actor, order_id=op.entity_id)
    except DomainError:
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


def _one(uow: UnitOfWork, batch: _Batch, op: OpEnvelope, known: dict[str, Decided]
         ) -> OpResult:
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
    at, flagged = batch.clock.correct(op.created_at, batch.now)
    record: dict[str, Any] = {
        "op_id": op.op_id, "device_id": op.device_id, "device_seq": op.device_seq,
        "user_id": actor.user_id, "lane": op.lane, "type": op.type,
        "entity_id": op.entity_id, "content_hash": content_hash, "status": "applied",
        "code": None, "details": {}, "result": {}, "device_created_at": op.created_at,
        "effective_at": at, "clock_offset_s": batch.clock.offset.total_seconds(),
        "received_at": utcnow()}
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
                                "version": applied.version, "clock_flagged": flagged}
            session.flush()
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
