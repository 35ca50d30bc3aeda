"""Apply a push: each op in its own transaction with its ``applied_op`` record.

Order of checks for one op: already decided (duplicate, or op id reused with other
content) → lane predecessor not decided (deferred) or rejected (rejected, not recorded,
so the device can re-link and resend) → unknown type / bad payload (rejected,
recorded) → apply through the domain services (applied, recorded in the same
transaction) or a domain refusal (rejected, recorded with the server's row).
Transient database trouble leaves the op undecided (deferred, retry later).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlmodel import Session

from server.db import Database
from server.errors import error_body
from server.sync.models import AppliedOp, Device
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from shared.errors import DomainError
from shared.messages import translate
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor
from sync.protocol import OpEnvelope, OpResult, OpStatus, PushRequest, SyncErrorCode
from sync.server import handlers, serialize

log = logging.getLogger("gridone.sync.push")
#: Device times further than this from the server's (after correction) are flagged.
CLOCK_FLAG = timedelta(minutes=5)


def sync_message(code: SyncErrorCode, lang: str, **params: Any) -> str:
    return translate(code.value, lang, **params)


@dataclass
class Clock:
    offset: timedelta  # server time - device time

    def correct(self, device_time: datetime, now: datetime) -> tuple[datetime, bool]:
        """Device time moved onto the server's clock; flagged when implausible."""
        at = device_time + self.offset
        flagged = abs(self.offset) > CLOCK_FLAG or at > now + CLOCK_FLAG
        return min(at, now), flagged


def push(db: Database, *, actor: Actor, request: PushRequest, lang: str,
         received_at: datetime | None = None) -> list[OpResult]:
    now = received_at or utcnow()
    clock = Clock(now - request.sent_at)
    _touch_device(db, actor, request, clock)
    results: list[OpResult] = []
    blocked_lanes: dict[str, OpResult] = {}
    for op in request.ops:
        if op.lane in blocked_lanes:
            results.append(OpResult(op_id=op.op_id, status=OpStatus.DEFERRED,
                                    code=SyncErrorCode.LANE_PREDECESSOR_MISSING.value,
                                    message=sync_message(
                                        SyncErrorCode.LANE_PREDECESSOR_MISSING, lang)))
            continue
        result = _one(db, actor=actor, op=op, request=request, clock=clock, lang=lang)
        if result.status == OpStatus.DEFERRED or (
                result.status == OpStatus.REJECTED
                and result.code == SyncErrorCode.LANE_PREDECESSOR_REJECTED.value):
            blocked_lanes[op.lane] = result
        results.append(result)
    return results


def _touch_device(db: Database, actor: Actor, request: PushRequest, clock: Clock) -> None:
    try:
        with UnitOfWork(db, actor) as uow:
            device = uow.session.get(Device, request.device_id)
            if device is None:
                device = Device(id=request.device_id, user_id=actor.user_id)
            device.user_id = actor.user_id
            device.last_seen = utcnow()
            device.last_clock_offset_s = clock.offset.total_seconds()
            device.last_protocol = request.protocol
            uow.session.add(device)
            uow.commit()
    except (OperationalError, IntegrityError):
        log.info("device row not updated (busy); not needed for correctness")


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


def _from_record(op: OpEnvelope, rec: AppliedOp, session: Session, actor: Actor,
                 lang: str) -> OpResult:
    row = current_row(session, actor, op)
    if rec.status == "applied":
        return OpResult(op_id=op.op_id, status=OpStatus.DUPLICATE, entity="work_order",
                        entity_id=rec.entity_id, version=rec.result.get("version"), row=row)
    message = rec.details.get("_message", {}).get(lang) or rec.code or ""
    details = {k: v for k, v in rec.details.items() if k != "_message"}
    return _rejected(op, rec.code or "", message, details, row)


def _one(db: Database, *, actor: Actor, op: OpEnvelope, request: PushRequest, clock: Clock,
         lang: str) -> OpResult:
    if op.device_id != request.device_id:
        return _rejected(op, SyncErrorCode.DEVICE_MISMATCH.value,
                         sync_message(SyncErrorCode.DEVICE_MISMATCH, lang))
    content_hash = op.content_hash()
    now = utcnow()
    at, flagged = clock.correct(op.created_at, now)
    try:
        with UnitOfWork(db, actor) as uow:
            session = uow.session
            seen = session.get(AppliedOp, op.op_id)
            if seen is not None:
                if seen.content_hash != content_hash or seen.user_id != actor.user_id:
                    return _rejected(op, SyncErrorCode.OP_ID_REUSED.value,
                                     sync_message(SyncErrorCode.OP_ID_REUSED, lang))
                return _from_record(op, seen, session, actor, lang)
            if op.lane_prev:
                prev = session.get(AppliedOp, op.lane_prev)
                if prev is None:
                    return OpResult(op_id=op.op_id, status=OpStatus.DEFERRED,
                                    code=SyncErrorCode.LANE_PREDECESSOR_MISSING.value,
                                    message=sync_message(
                                        SyncErrorCode.LANE_PREDECESSOR_MISSING, lang))
                if prev.status != "applied":
                    return _rejected(op, SyncErrorCode.LANE_PREDECESSOR_REJECTED.value,
                                     sync_message(SyncErrorCode.LANE_PREDECESSOR_REJECTED,
                                                  lang),
                                     {"predecessor": op.lane_prev},
                                     current_row(session, actor, op))
            record = AppliedOp(
                op_id=op.op_id, device_id=op.device_id, device_seq=op.device_seq,
                user_id=actor.user_id, lane=op.lane, type=op.type, entity_id=op.entity_id,
                content_hash=content_hash, status="applied", device_created_at=op.created_at,
                effective_at=at, clock_offset_s=clock.offset.total_seconds())
            try:
                spec, body = handlers.parse(op)
            except KeyError:
                code, details = SyncErrorCode.UNKNOWN_OP_TYPE.value, {"type": op.type}
                message = {lg: sync_message(SyncErrorCode.UNKNOWN_OP_TYPE, lg, type=op.type)
                           for lg in ("zh", "en")}
                return _record_rejection(db, actor, op, record, code, details, message, lang)
            except handlers.PayloadError as exc:
                code, details = SyncErrorCode.BAD_PAYLOAD.value, {"summary": exc.summary}
                message = {lg: sync_message(SyncErrorCode.BAD_PAYLOAD, lg, summary=exc.summary)
                           for lg in ("zh", "en")}
                return _record_rejection(db, actor, op, record, code, details, message, lang)
            try:
                applied = spec.apply(uow, actor, op, body, at)
            except DomainError as exc:
                uow.session.rollback()
                message = {lg: error_body(exc.code, lg, exc.details)["message"]
                           for lg in ("zh", "en")}
                return _record_rejection(db, actor, op, record, exc.code.value, exc.details,
                                         message, lang)
            session.flush()
            version = serialize.load(session, applied.entity, [applied.entity_id]).get(
                applied.entity_id, {}).get("version", applied.version)
            record.result = {"entity": applied.entity, "entity_id": applied.entity_id,
                             "version": version, "clock_flagged": flagged}
            session.add(record)
            uow.commit()
            row = current_row(session, actor, op)
            return OpResult(op_id=op.op_id, status=OpStatus.APPLIED, entity=applied.entity,
                            entity_id=applied.entity_id, version=version, row=row)
    except IntegrityError:
        # The same op committed meanwhile by a concurrent push: report what was decided.
        with Session(db.reader) as session:
            seen = session.get(AppliedOp, op.op_id)
            if seen is not None:
                return _from_record(op, seen, session, actor, lang)
        raise
    except (OperationalError, DBAPIError) as exc:
        log.warning("transient database error on op %s: %s", op.op_id, exc)
        return OpResult(op_id=op.op_id, status=OpStatus.DEFERRED,
                        code=SyncErrorCode.TRANSIENT.value,
                        message=sync_message(SyncErrorCode.TRANSIENT, lang), retry_after=1.0)


def _record_rejection(db: Database, actor: Actor, op: OpEnvelope, record: AppliedOp,
                      code: str, details: dict[str, Any], message: dict[str, str],
                      lang: str) -> OpResult:
    """Record a permanent refusal on its own transaction (nothing of the op applied)."""
    with UnitOfWork(db, actor) as uow:
        record.status, record.code = "rejected", code
        record.details = {**_jsonable(details), "_message": message}
        uow.session.add(record)
        uow.commit()
        row = current_row(uow.session, actor, op)
    return _rejected(op, code, message.get(lang) or translate(code, lang), _jsonable(details),
                     row)


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | type(None) | list | dict)
                else str(v)) for k, v in details.items()}
