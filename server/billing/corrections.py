"""Corrections by people, each with a reason and a full record — applied only through
an approved four-eyes request (``server.supervision.approvals``): the billing endpoints
that take a correction, a refund or a purchase count record a pending request, and these
functions are what another person's approval applies. Nothing here is reached at once
from a route.

* Balance corrections and refunds are ledger entries whose ``dedupe_key`` is the
  request's id (the id the client made): applying one again changes nothing.
* Purchase-count corrections (购电次数): the old and new count, who recorded it, when and
  why, in an append-only table and the audit log; managers list them all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing.balance import balance_changed
from server.billing.ledger import Posted, installed_meter, lock_account, post
from server.billing.models import LedgerEntry, PurchaseCountCorrection
from server.meters.models import Meter
from server.uow import UnitOfWork
from shared.billing.ledger import (
    EntryKind,
    check_purchase_count,
    check_reason,
)
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor


def post_manual(uow: UnitOfWork, *, actor: Actor, account_id: str, entry_id: str,
                amount_fen: int, reason: str, kind: EntryKind, at: datetime | None,
                data: dict[str, Any] | None = None) -> Posted:
    """Post a correction or refund (checked and approved by the caller) once per
    ``entry_id``."""
    session = uow.session
    now = utcnow()
    account = lock_account(session, account_id)
    key = f"{kind.value}:{entry_id}"
    done = session.exec(select(LedgerEntry.id).where(LedgerEntry.dedupe_key == key)).first()
    if kind == EntryKind.REFUND and done is None and account.balance_fen < -amount_fen:
        raise DomainError(ErrorCode.BILLING_REFUND_EXCEEDS_BALANCE, amount=-amount_fen,
                          balance=account.balance_fen)
    before = account.balance_fen
    posted = post(uow, account=account, amount_fen=amount_fen, kind=kind,
                  source_type=kind.value, source_id=entry_id, dedupe_key=key,
                  occurred_at=at or now, actor=actor, reason=reason, data=data,
                  meter_id=(m.id if (m := installed_meter(session, account.id)) else None))
    if posted.created:
        uow.audit(action=f"ledger.{kind.value}", entity="account", entity_id=account.id,
                  before={"balance_fen": before},
                  after={"balance_fen": account.balance_fen, "amount_fen": amount_fen,
                         "entry_id": posted.entry.id}, reason=reason)
        balance_changed(uow, account=account, at=now)
    return posted


# -- purchase counts -----------------------------------------------------------------------
def _visible_meter(session: Session, actor: Actor, meter_id: str, *, lock: bool) -> Meter:
    stmt = select(Meter).where(Meter.id == meter_id)
    if lock:
        stmt = stmt.with_for_update()
    meter = session.exec(stmt).first()
    county = actor.role == Role.ADMIN or (actor.station_id is None and actor.role == Role.MANAGER)
    if meter is None or not (county or meter.station_id == actor.station_id):
        raise DomainError(ErrorCode.METER_NOT_FOUND, meter=meter_id)
    return meter


def set_purchase_count(uow: UnitOfWork, *, actor: Actor, meter_id: str, new_count: int,
                       reason: str, expected_count: int | None = None,
                       correction_id: str | None = None,
                       recorded_by: tuple[str, str] | None = None
                       ) -> tuple[PurchaseCountCorrection, bool]:
    """The correction itself (the caller checked the role: an approved request).
    ``recorded_by`` (user id, role) is who recorded it when ``actor`` approves someone
    else's request (four eyes)."""
    session = uow.session
    author_id, author_role = recorded_by or (actor.user_id, actor.role.value)
    meter = _visible_meter(session, actor, meter_id, lock=True)
    if correction_id:
        seen = session.get(PurchaseCountCorrection, correction_id)
        if seen is not None:
            if (seen.meter_id, seen.new_count, seen.actor_id) != (meter.id, new_count,
                                                                  author_id):
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
            return seen, False
    new_count = check_purchase_count(new_count)
    reason = check_reason(reason)
    if expected_count is not None and expected_count != meter.purchase_count:
        raise DomainError(ErrorCode.PURCHASE_COUNT_STALE, expected=expected_count,
                          actual=meter.purchase_count)
    if new_count == meter.purchase_count:
        raise DomainError(ErrorCode.PURCHASE_COUNT_UNCHANGED)
    row = PurchaseCountCorrection(
        meter_id=meter.id,
        account_id=meter.account_id, station_id=meter.station_id,
        old_count=meter.purchase_count, new_count=new_count, reason=reason,
        actor_id=author_id, actor_role=author_role)
    if correction_id:
        row.id = correction_id
    session.add(row)
    uow.audit(action="meter.purchase_count_correct", entity="meter", entity_id=meter.id,
              before={"purchase_count": meter.purchase_count},
              after={"purchase_count": new_count, "correction_id": row.id}, reason=reason)
    meter.purchase_count = new_count
    meter.version += 1
    meter.updated_at = utcnow()
    uow.changed(meter)
    return row, True


def list_purchase_count_corrections(session: Session, *, actor: Actor,
                                    meter_id: str | None = None, limit: int = 100,
                                    offset: int = 0) -> tuple[list[PurchaseCountCorrection],
                                                              int]:
    if actor.role not in (Role.MANAGER, Role.ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    where: list[Any] = []
    if actor.role == Role.MANAGER and actor.station_id is not None:
        where.append(PurchaseCountCorrection.station_id == actor.station_id)
    if meter_id:
        where.append(PurchaseCountCorrection.meter_id == meter_id)
    total = session.exec(select(func.count()).select_from(PurchaseCountCorrection)
                         .where(*where)).one()
    rows = session.exec(select(PurchaseCountCorrection).where(*where)
                        .order_by(col(PurchaseCountCorrection.at).desc())
                        .limit(limit).offset(offset)).all()
    return list(rows), int(total)
