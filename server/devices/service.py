"""A user's devices for the office, revoking a lost or stolen phone, and what it still
tried to push.

* **Who.** Admins: any user's devices. Dispatchers and managers: the users of their
  station (without a station: every user but admins). Anyone else: ``FORBIDDEN``; a
  user out of reach looks missing (``USER_NOT_FOUND``).
* **A user's devices** are those they signed in on (``refresh_token.device_id``), pushed
  from (``applied_op``) or that last pushed as them (``device``): when last seen, the
  app and protocol it last spoke, its live logins, and its ops — applied, rejected, held
  — and how many of its last push were left undecided.
* **Revoking** a device (with a reason, audited) ends every login on it at once: its
  access tokens fail on their next request and its refresh tokens are revoked
  (``AUTH_DEVICE_REVOKED``), for whoever was signed in on it; signing in on it again is
  refused. Revoking it again changes nothing.
* **Held ops.** If it still pushes, its ops are kept here, never applied, and listed for
  the office (``hold``, ``held``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from server.auth.service import revoke_family
from server.db import Database, HotRead
from server.devices.models import HeldOp
from server.sync.models import AppliedOp, Device
from server.uow import UnitOfWork
from server.users.models import RefreshToken, User
from shared.billing.ledger import check_reason
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor
from sync.protocol import OpEnvelope

OFFICE = frozenset({Role.DISPATCHER, Role.MANAGER})


@dataclass(frozen=True)
class DeviceView:
    id: str
    user_id: str
    first_seen: datetime | None
    last_seen: datetime | None
    app: str | None
    protocol: int | None
    active_logins: int
    applied_ops: int
    rejected_ops: int
    held_ops: int
    last_push_ops: int
    last_push_pending: int
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


def target_user(session: Session, actor: Actor, user_id: str) -> User:
    """The user whose devices ``actor`` wants to see or revoke."""
    if actor.role != Role.ADMIN and actor.role not in OFFICE:
        raise DomainError(ErrorCode.FORBIDDEN)
    user = session.get(User, user_id)
    if user is None or (actor.role != Role.ADMIN and (
            user.role == Role.ADMIN
            or (actor.station_id is not None and user.station_id != actor.station_id))):
        raise DomainError(ErrorCode.USER_NOT_FOUND, user=user_id)
    return user


def _device_ids(session: Session, user_id: str) -> list[str]:
    ids = set(session.exec(select(Device.id).where(Device.user_id == user_id)).all())
    ids |= {d for d in session.exec(select(RefreshToken.device_id).where(
        RefreshToken.user_id == user_id).distinct()).all() if d}
    ids |= set(session.exec(select(AppliedOp.device_id).where(
        AppliedOp.user_id == user_id).distinct()).all())
    return sorted(ids)


def _view(session: Session, user_id: str, device_id: str) -> DeviceView:
    now = utcnow()
    row = session.get(Device, device_id)
    logins = session.exec(select(func.count(func.distinct(RefreshToken.family_id))).where(
        RefreshToken.user_id == user_id, RefreshToken.device_id == device_id,
        col(RefreshToken.revoked_at).is_(None), RefreshToken.expires_at > now)).one()
    first_login = session.exec(select(func.min(RefreshToken.issued_at)).where(
        RefreshToken.user_id == user_id, RefreshToken.device_id == device_id)).one()
    last_login = session.exec(select(func.max(RefreshToken.issued_at)).where(
        RefreshToken.user_id == user_id, RefreshToken.device_id == device_id)).one()
    ops = dict(session.exec(select(AppliedOp.status, func.count()).where(
        AppliedOp.device_id == device_id, AppliedOp.user_id == user_id)
        .group_by(AppliedOp.status)).all())
    held = session.exec(select(func.count()).select_from(HeldOp).where(
        HeldOp.device_id == device_id, HeldOp.user_id == user_id)).one()
    seen = [t for t in (row.last_seen if row else None, last_login) if t is not None]
    return DeviceView(
        id=device_id, user_id=user_id,
        first_seen=row.first_seen if row else first_login,
        last_seen=max(seen) if seen else None, app=row.last_app if row else None,
        protocol=row.last_protocol if row else None, active_logins=int(logins),
        applied_ops=int(ops.get("applied", 0)), rejected_ops=int(ops.get("rejected", 0)),
        held_ops=int(held), last_push_ops=row.last_push_ops if row else 0,
        last_push_pending=row.last_push_pending if row else 0,
        revoked_at=row.revoked_at if row else None, revoked_by=row.revoked_by if row else None,
        revoke_reason=row.revoke_reason if row else None)


def devices_of(session: Session, *, actor: Actor, user_id: str) -> list[DeviceView]:
    user = target_user(session, actor, user_id)
    return [_view(session, user.id, d) for d in _device_ids(session, user.id)]


def _owned(session: Session, actor: Actor, user_id: str, device_id: str) -> User:
    user = target_user(session, actor, user_id)
    if device_id not in _device_ids(session, user.id):
        raise DomainError(ErrorCode.DEVICE_NOT_FOUND, device=device_id)
    return user


def revoke(uow: UnitOfWork, *, actor: Actor, user_id: str, device_id: str, reason: str
           ) -> DeviceView:
    """Revoke ``device_id`` (a device of ``user_id``): see the module doc."""
    session = uow.session
    user = _owned(session, actor, user_id, device_id)
    reason = check_reason(reason)
    row = session.get(Device, device_id, with_for_update=True)
    if row is None:  # signed in on, never pushed
        row = Device(id=device_id, user_id=user.id)
    if row.revoked_at is None:
        row.revoked_at, row.revoked_by, row.revoke_reason = utcnow(), actor.user_id, reason
        session.add(row)
        families = sorted(set(session.exec(select(RefreshToken.family_id).where(
            RefreshToken.device_id == device_id)).all()))
        for family in families:
            revoke_family(uow, family_id=family)
        uow.audit(action="device.revoke", entity="device", entity_id=device_id,
                  before={"user_id": user.id, "logins": len(families)},
                  after={"revoked_at": row.revoked_at.isoformat()}, reason=reason)
        session.flush()
    return _view(session, user.id, device_id)


#: Read before every push: a prebuilt statement on SQLite's own connection (``HotRead``);
#: only whether the time is NULL is read.
_REVOKED = HotRead(sa_select(col(Device.revoked_at)).where(
    col(Device.id) == bindparam("device_id")))


def revoked(session: Session, device_id: str) -> bool:
    row = _REVOKED.one_or_none(session.connection(), {"device_id": device_id})
    return row is not None and row.revoked_at is not None


def hold(db: Database, *, user_id: str, device_id: str, ops: list[OpEnvelope]) -> int:
    """Keep the ops a revoked device pushed (once each); returns how many are new."""
    if not ops:
        return 0
    with UnitOfWork(db) as uow:
        session = uow.session
        seen = set(session.exec(select(HeldOp.op_id).where(
            col(HeldOp.op_id).in_([op.op_id for op in ops]))).all())
        fresh = [op for op in ops if op.op_id not in seen]
        for op in fresh:
            session.add(HeldOp(op_id=op.op_id, device_id=device_id, user_id=user_id,
                               device_seq=op.device_seq, type=op.type,
                               entity_id=op.entity_id, lane=op.lane, payload=op.payload,
                               photos=list(op.photos), created_at=op.created_at))
        try:
            uow.commit()
        except IntegrityError:  # the same ops held by a concurrent push
            return 0
    return len(fresh)


def held(session: Session, *, actor: Actor, user_id: str, device_id: str) -> list[HeldOp]:
    user = _owned(session, actor, user_id, device_id)
    return list(session.exec(select(HeldOp).where(
        HeldOp.device_id == device_id, HeldOp.user_id == user.id)
        .order_by(col(HeldOp.device_seq), col(HeldOp.op_id))).all())


def note_push(db: Database, *, device_id: str, app: str | None, ops: int, pending: int
              ) -> None:
    """What the office sees of a device's last push (the push noted the device itself)."""
    values: dict[str, Any] = {"device": device_id, "ops": ops, "pending": pending}
    if app:
        values["app"] = app[:100]
    with db.writer.begin() as conn:
        conn.execute(_NOTE_PUSH[bool(app)], values)


#: ``note_push``'s two statements (with the app's name, without), built once.
_NOTE_PUSH = {with_app: update(Device).where(col(Device.id) == bindparam("device")).values(
    last_push_ops=bindparam("ops"), last_push_pending=bindparam("pending"),
    **({"last_app": bindparam("app")} if with_app else {})) for with_app in (False, True)}
