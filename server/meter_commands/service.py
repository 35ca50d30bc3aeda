"""Remote disconnect / reconnect commands: queue, send until acknowledged, take acks.

* A command gets the meter's next sequence number. Meters execute a frame only if its
  number is above the last one they executed, so a late or repeated frame can never undo
  a newer command.
* Queuing a command supersedes the meter's pending (queued / sent) command of the
  opposite kind: it is no longer re-sent.
* ``send_due`` (re)sends queued and sent commands whose time has come, with backoff;
  after ``MAX_ATTEMPTS`` sends without an acknowledgement a command fails.
* ``acknowledge`` takes the head-end's acknowledgements: late, repeated and out of order
  are all normal. The account's ``supply_state`` follows the acknowledged command with
  the highest sequence number (what the relay really did last).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing.signing import verify
from server.customers.models import Account
from server.db import Database
from server.meter_commands.headend import Frame, Gateway, GatewayError
from server.meter_commands.models import MeterCommand, MeterCommandAck
from server.meters.models import Meter
from server.uow import UnitOfWork
from shared.billing.alerts import SupplyState
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor

log = logging.getLogger("gridone.meter_commands")

DISCONNECT, RECONNECT = "disconnect", "reconnect"
PENDING = ("queued", "sent")
MAX_ATTEMPTS = 12
ACK_TOLERANCE_S = 7 * 24 * 3600  # head-ends buffer acks while a meter is unreachable


def _relay(kind: str) -> SupplyState:
    return SupplyState.OFF if kind == DISCONNECT else SupplyState.ON


def target_state(session: Session, *, account: Account, meter_id: str) -> SupplyState:
    """Where the meter's relay is going: the newest live command, else what was last
    acknowledged."""
    cmd = session.exec(select(MeterCommand).where(
        MeterCommand.meter_id == meter_id,
        col(MeterCommand.state).in_(("queued", "sent", "acknowledged")))
        .order_by(col(MeterCommand.seq).desc()).limit(1)).first()
    return _relay(cmd.kind) if cmd else SupplyState(account.supply_state)


def request(uow: UnitOfWork, *, account: Account, meter: Meter, kind: str, reason: str,
            origin: str, at: datetime, actor: Actor | None = None) -> MeterCommand:
    """Queue ``kind`` for the meter (a pending command of the same kind is reused)."""
    session = uow.session
    pending = session.exec(select(MeterCommand).where(
        MeterCommand.meter_id == meter.id, col(MeterCommand.state).in_(PENDING))
        .with_for_update()).all()
    for cmd in pending:
        if cmd.kind == kind:
            return cmd
    now = utcnow()
    for cmd in pending:
        cmd.state, cmd.updated_at = "superseded", now
        cmd.version += 1
        session.add(cmd)
    top = session.exec(select(func.max(MeterCommand.seq)).where(
        MeterCommand.meter_id == meter.id)).one()
    cmd = MeterCommand(meter_id=meter.id, account_id=account.id, station_id=account.station_id,
                       seq=int(top or 0) + 1, kind=kind, origin=origin, reason=reason[:500],
                       balance_fen=account.balance_fen,
                       requested_by=actor.user_id if actor else None, created_at=at,
                       next_attempt_at=now)
    session.add(cmd)
    uow.audit(action=f"meter_command.{kind}", entity="account", entity_id=account.id,
              after={"command_id": cmd.id, "meter_id": meter.id, "seq": cmd.seq,
                     "origin": origin, "balance_fen": account.balance_fen,
                     "superseded": [c.id for c in pending]}, reason=reason[:500])
    return cmd


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 60 * 2 ** max(0, attempts - 1)))


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    transport_errors: int = 0
    ids: list[str] = field(default_factory=list)


def send_due(db: Database, gateway: Gateway, *, now: datetime | None = None,
             limit: int = 500) -> SendReport:
    """Send (again) every command that waits for an acknowledgement and is due."""
    now = now or utcnow()
    report = SendReport()
    with Session(db.reader) as session:
        ids = list(session.exec(select(MeterCommand.id).where(
            col(MeterCommand.state).in_(PENDING), MeterCommand.next_attempt_at <= now)
            .order_by(col(MeterCommand.created_at)).limit(limit)).all())
    for command_id in ids:
        with UnitOfWork(db) as uow:
            cmd = uow.session.get(MeterCommand, command_id, with_for_update=True)
            if cmd is None or cmd.state not in PENDING or cmd.next_attempt_at > now:
                continue
            if cmd.attempts >= MAX_ATTEMPTS:
                cmd.state, cmd.failed_at = "failed", now
                cmd.error = f"no acknowledgement after {cmd.attempts} sends"
                report.failed += 1
            else:
                meter_no = uow.session.exec(select(Meter.meter_no).where(
                    Meter.id == cmd.meter_id)).one()
                cmd.attempts += 1
                cmd.next_attempt_at = now + backoff(cmd.attempts)
                try:
                    gateway.send(Frame(cmd.id, meter_no, cmd.seq, cmd.kind, cmd.attempts))
                except GatewayError as exc:
                    cmd.error = str(exc)[:300]
                    report.transport_errors += 1
                else:
                    cmd.state, cmd.last_sent_at = "sent", now
                    report.sent += 1
                    report.ids.append(cmd.id)
            cmd.updated_at = now
            cmd.version += 1
            uow.session.add(cmd)
            uow.commit()
    return report


# -- acknowledgements ------------------------------------------------------------------
def handle_ack(db: Database, *, key: bytes, body: bytes, signature: str | None,
               now: datetime | None = None) -> str:
    """Verify and apply one acknowledgement (recorded whatever the verdict)."""
    now = now or utcnow()
    checked = verify(key, body, signature, now=now, tolerance_s=ACK_TOLERANCE_S)
    text = body.decode("utf-8", "replace")[:4000]
    data: dict[str, Any] = {}
    if checked.ok:
        try:
            parsed = json.loads(body)
            data = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            data = {}
    if not checked.ok or checked.stale or not isinstance(data.get("command_id"), str):
        with UnitOfWork(db) as uow:
            uow.session.add(MeterCommandAck(
                command_id=str(data.get("command_id"))[:64] if data else None,
                result=str(data.get("result"))[:16] if data else None,
                verdict="rejected", body=text))
            uow.commit()
        if not checked.ok or checked.stale:
            raise DomainError(ErrorCode.METER_ACK_SIGNATURE_INVALID)
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="command_id missing")
    with UnitOfWork(db) as uow:
        verdict = acknowledge(uow, command_id=data["command_id"],
                              result=str(data.get("result", "")), now=now)
        uow.session.add(MeterCommandAck(command_id=data["command_id"][:64],
                                        result=str(data.get("result"))[:16], verdict=verdict,
                                        body=text))
        uow.commit()
    if verdict == "unknown":
        raise DomainError(ErrorCode.METER_COMMAND_NOT_FOUND, command=data["command_id"])
    return verdict


def acknowledge(uow: UnitOfWork, *, command_id: str, result: str, now: datetime) -> str:
    """``result``: ok (executed), stale (older than what the meter executed), failed.
    Returns the verdict: applied, duplicate, stale, rejected (unknown result) or unknown
    (no such command)."""
    session = uow.session
    cmd = session.get(MeterCommand, command_id, with_for_update=True)
    if cmd is None:
        return "unknown"
    if cmd.state == "acknowledged" or (cmd.state == "failed" and result == "failed"):
        return "duplicate"
    if result == "stale":
        if cmd.state in PENDING:
            cmd.state = "superseded"
        verdict = "stale"
    elif result == "ok":
        cmd.state, cmd.acknowledged_at, cmd.error = "acknowledged", now, None
        verdict = "applied"
    elif result == "failed":
        cmd.state, cmd.failed_at, cmd.error = "failed", now, "the meter refused the command"
        verdict = "applied"
    else:
        return "rejected"
    cmd.updated_at = now
    cmd.version += 1
    session.add(cmd)
    _sync_supply_state(uow, cmd)
    return verdict


def _sync_supply_state(uow: UnitOfWork, cmd: MeterCommand) -> None:
    session = uow.session
    newest = session.exec(select(MeterCommand).where(
        MeterCommand.meter_id == cmd.meter_id, MeterCommand.state == "acknowledged")
        .order_by(col(MeterCommand.seq).desc()).limit(1)).first()
    if newest is None:
        return
    account = session.exec(select(Account).where(Account.id == newest.account_id)
                           .with_for_update()).one()
    state = _relay(newest.kind).value
    if account.supply_state != state:
        uow.audit(action="account.supply_state", entity="account", entity_id=account.id,
                  before={"supply_state": account.supply_state},
                  after={"supply_state": state, "command_id": newest.id})
        account.supply_state = state
        account.version += 1
        account.updated_at = utcnow()
        uow.changed(account)


def retry(uow: UnitOfWork, *, command_id: str, actor: Actor) -> MeterCommand:
    """A person sends a failed command again (attempts start over)."""
    cmd = uow.session.get(MeterCommand, command_id, with_for_update=True)
    if cmd is None:
        raise DomainError(ErrorCode.METER_COMMAND_NOT_FOUND, command=command_id)
    if cmd.state != "failed":
        raise DomainError(ErrorCode.METER_COMMAND_NOT_ALLOWED, state=cmd.state)
    newer = uow.session.exec(select(MeterCommand.id).where(
        MeterCommand.meter_id == cmd.meter_id, MeterCommand.seq > cmd.seq)).first()
    if newer:
        raise DomainError(ErrorCode.METER_COMMAND_NOT_ALLOWED, state="superseded")
    cmd.state, cmd.attempts, cmd.next_attempt_at, cmd.error = "queued", 0, utcnow(), None
    cmd.version += 1
    uow.session.add(cmd)
    uow.audit(action="meter_command.retry", entity="meter_command", entity_id=cmd.id,
              before={"state": "failed"}, after={"state": "queued"})
    return cmd
