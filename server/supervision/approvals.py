"""Four eyes on money and counts: a purchase-count correction, a manual ledger
adjustment, a refund, or the settling/dismissing of a meter-swap balance discrepancy is
recorded by one person as a pending ``ApprovalRequest`` and takes effect only when another
user with the right role approves it — the change is applied in the approval's own
transaction, through the billing and discrepancy services, and audited. Nobody approves
(or rejects) their own request (``APPROVAL_OWN_REQUEST``).

Who sees what: managers and dispatchers their station's requests, agents the ones they
recorded, admins and county-wide staff all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing import corrections
from server.billing.ledger import lock_account
from server.customers import service as customers
from server.discrepancies import service as discrepancies
from server.meters.models import Meter
from server.supervision.models import ApprovalRequest
from server.uow import UnitOfWork, to_audit_dict
from shared.billing.ledger import (
    EntryKind,
    check_correction_amount,
    check_purchase_count,
    check_reason,
)
from shared.enums import DiscrepancyStatus, Role
from shared.errors import DomainError, ErrorCode
from shared.supervision import (
    APPROVER_ROLES,
    ApprovalKind,
    ApprovalStatus,
    check_decision,
    check_request,
)
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor

_AUDIT = ("kind", "status", "station_id", "account_id", "meter_id", "discrepancy_id",
          "amount_fen", "old_count", "new_count", "requested_by", "decided_by", "result_id")
REFUND_MAX_FEN = 10_000_000


def _county(actor: Actor) -> bool:
    return actor.role == Role.ADMIN or (actor.station_id is None
                                        and actor.role in (Role.MANAGER, Role.DISPATCHER))


def _where(actor: Actor) -> list[Any]:
    if actor.role not in (Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    if _county(actor):
        return []
    if actor.role == Role.AGENT:
        return [ApprovalRequest.requested_by == actor.user_id]
    return [ApprovalRequest.station_id == actor.station_id]


def listing(session: Session, *, actor: Actor, status: ApprovalStatus | None = None,
            kind: ApprovalKind | None = None, account_id: str | None = None,
            limit: int = 50, offset: int = 0) -> tuple[list[ApprovalRequest], int]:
    where = _where(actor)
    if status is not None:
        where.append(ApprovalRequest.status == status.value)
    if kind is not None:
        where.append(ApprovalRequest.kind == kind.value)
    if account_id:
        where.append(ApprovalRequest.account_id == account_id)
    total = session.exec(select(func.count()).select_from(ApprovalRequest).where(*where)).one()
    rows = session.exec(select(ApprovalRequest).where(*where)
                        .order_by(col(ApprovalRequest.requested_at).desc(),
                                  col(ApprovalRequest.id)).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def get(session: Session, *, actor: Actor, request_id: str, lock: bool = False
        ) -> ApprovalRequest:
    stmt = select(ApprovalRequest).where(ApprovalRequest.id == request_id, *_where(actor))
    row = session.exec(stmt.with_for_update() if lock else stmt).first()
    if row is None:  # unknown, or not the actor's to see: the same answer
        raise DomainError(ErrorCode.APPROVAL_NOT_FOUND, approval=request_id)
    return row


# -- recording (the first pair of eyes) ---------------------------------------------------
def record(uow: UnitOfWork, *, actor: Actor, kind: ApprovalKind, reason: str,
           account_id: str | None = None, meter_id: str | None = None,
           discrepancy_id: str | None = None, amount_fen: int | None = None,
           new_count: int | None = None, request_id: str | None = None,
           expected_version: int | None = None, expected_count: int | None = None
           ) -> tuple[ApprovalRequest, bool]:
    """Record a pending request; nothing else changes. Returns ``(row, created)``: the
    same ``request_id`` sent again by its author with the same change answers the same
    request (whatever became of it); another change under that id is
    ``IDEMPOTENCY_CONFLICT``. ``expected_version``: the discrepancy's version the author
    reviewed; ``expected_count``: the purchase count the author saw
    (``PURCHASE_COUNT_STALE`` when it is no longer so)."""
    session = uow.session
    check_request(kind, actor.role)
    if request_id:
        seen = session.get(ApprovalRequest, request_id)
        if seen is not None:
            if not _same_request(seen, actor=actor, kind=kind, account_id=account_id,
                                 meter_id=meter_id, discrepancy_id=discrepancy_id,
                                 amount_fen=amount_fen, new_count=new_count):
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
            return seen, False
    reason = check_reason(reason)
    row = ApprovalRequest(kind=kind.value, reason=reason, requested_by=actor.user_id,
                          requested_role=actor.role.value, station_id="")
    if request_id:
        row.id = request_id
    if kind == ApprovalKind.PURCHASE_COUNT:
        meter = _meter(session, actor, meter_id)
        count = check_purchase_count(new_count)
        if expected_count is not None and expected_count != meter.purchase_count:
            raise DomainError(ErrorCode.PURCHASE_COUNT_STALE, expected=expected_count,
                              actual=meter.purchase_count)
        if count == meter.purchase_count:
            raise DomainError(ErrorCode.PURCHASE_COUNT_UNCHANGED)
        row.meter_id, row.account_id, row.station_id = meter.id, meter.account_id, meter.station_id
        row.old_count, row.new_count = meter.purchase_count, count
    elif kind in (ApprovalKind.ADJUSTMENT, ApprovalKind.REFUND):
        if not account_id:
            raise DomainError(ErrorCode.VALIDATION_ERROR, field="account_id",
                              summary="account_id: required")
        account = customers.get_visible(session, actor=actor, account_id=account_id)
        if kind == ApprovalKind.ADJUSTMENT:
            row.amount_fen = check_correction_amount(amount_fen)
        else:
            if (not isinstance(amount_fen, int) or isinstance(amount_fen, bool)
                    or not 0 < amount_fen <= REFUND_MAX_FEN):
                raise DomainError(ErrorCode.BILLING_CORRECTION_INVALID,
                                  max=REFUND_MAX_FEN // 100, amount=str(amount_fen))
            if amount_fen > account.balance_fen:
                raise DomainError(ErrorCode.BILLING_REFUND_EXCEEDS_BALANCE, amount=amount_fen,
                                  balance=account.balance_fen)
            row.amount_fen = amount_fen
        row.account_id, row.station_id = account.id, account.station_id
    else:
        if not discrepancy_id:
            raise DomainError(ErrorCode.VALIDATION_ERROR, field="discrepancy_id",
                              summary="discrepancy_id: required")
        disc = discrepancies.get(session, actor=actor, discrepancy_id=discrepancy_id)
        if disc.status != DiscrepancyStatus.OPEN:
            raise DomainError(ErrorCode.DISCREPANCY_CLOSED, status=disc.status)
        if expected_version is not None and expected_version != disc.version:
            raise DomainError(ErrorCode.VERSION_CONFLICT, expected=expected_version,
                              actual=disc.version)
        row.discrepancy_id, row.account_id, row.station_id = disc.id, disc.account_id, \
            disc.station_id
        row.amount_fen = disc.difference_fen
    _refuse_duplicate(session, row)
    session.add(row)
    uow.audit(action="approval.request", entity="approval_request", entity_id=row.id,
              after=to_audit_dict(row, _AUDIT), reason=reason)
    return row, True


def _same_request(seen: ApprovalRequest, *, actor: Actor, kind: ApprovalKind,
                  account_id: str | None, meter_id: str | None, discrepancy_id: str | None,
                  amount_fen: int | None, new_count: int | None) -> bool:
    """Is this the request ``seen`` sent again (its author, kind and change; the reason's
    wording may differ, as for a ledger entry sent again)?"""
    if (seen.requested_by, seen.kind) != (actor.user_id, kind.value):
        return False
    if kind == ApprovalKind.PURCHASE_COUNT:
        return (seen.meter_id, seen.new_count) == (meter_id, new_count)
    if kind in (ApprovalKind.ADJUSTMENT, ApprovalKind.REFUND):
        return (seen.account_id, seen.amount_fen) == (account_id, amount_fen)
    return seen.discrepancy_id == discrepancy_id


def _meter(session: Session, actor: Actor, meter_id: str | None) -> Meter:
    meter = session.get(Meter, meter_id) if meter_id else None
    if meter is None or not (_county(actor) or meter.station_id == actor.station_id):
        raise DomainError(ErrorCode.METER_NOT_FOUND, meter=meter_id)
    return meter


def _refuse_duplicate(session: Session, row: ApprovalRequest) -> None:
    """One pending request per meter's count and per discrepancy (money adjustments may
    be several at once)."""
    if row.kind == ApprovalKind.PURCHASE_COUNT:
        same = ApprovalRequest.meter_id == row.meter_id
    elif row.discrepancy_id:
        same = ApprovalRequest.discrepancy_id == row.discrepancy_id
    else:
        return
    other = session.exec(select(ApprovalRequest.id).where(
        same, ApprovalRequest.status == ApprovalStatus.PENDING.value)).first()
    if other is not None:
        raise DomainError(ErrorCode.APPROVAL_DUPLICATE, approval=other)


# -- deciding (the second pair) -----------------------------------------------------------
def decide(uow: UnitOfWork, *, actor: Actor, request_id: str, approve: bool,
           reason: str | None = None, expected_version: int | None = None
           ) -> tuple[ApprovalRequest, bool]:
    """Approve (apply the change now, in this transaction) or reject a pending request.

    The same decision sent again by the same person (a lost answer) changes nothing."""
    session = uow.session
    if actor.role not in APPROVER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    row = get(session, actor=actor, request_id=request_id)
    if row.account_id:  # the account first, as everywhere money moves
        lock_account(session, row.account_id)
    row = get(session, actor=actor, request_id=request_id, lock=True)
    wanted = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    if row.status == wanted and row.decided_by == actor.user_id:
        return row, False
    check_decision(status=row.status, requested_by=row.requested_by, actor_id=actor.user_id,
                   actor_role=actor.role, approve=approve)
    if expected_version is not None and expected_version != row.version:
        raise DomainError(ErrorCode.VERSION_CONFLICT, expected=expected_version,
                          actual=row.version)
    why = check_reason(reason) if (reason or not approve) else None
    before = to_audit_dict(row, _AUDIT)
    if approve:
        row.result_id = _apply(uow, actor=actor, row=row)
    row.status = wanted.value
    row.decided_by, row.decided_at, row.decision_reason = actor.user_id, utcnow(), why
    row.version += 1
    session.add(row)
    uow.audit(action=f"approval.{'approve' if approve else 'reject'}",
              entity="approval_request", entity_id=row.id, before=before,
              after=to_audit_dict(row, _AUDIT), reason=why or row.reason)
    return row, True


def _apply(uow: UnitOfWork, *, actor: Actor, row: ApprovalRequest) -> str | None:
    """The change itself, as its own service makes it (ledger entry, correction row,
    discrepancy decision), with the request's reason; returns what it made."""
    kind = ApprovalKind(row.kind)
    note = {"approval_id": row.id, "requested_by": row.requested_by}
    if kind == ApprovalKind.PURCHASE_COUNT:
        assert row.meter_id is not None and row.new_count is not None
        corr, _ = corrections.set_purchase_count(
            uow, actor=actor, meter_id=row.meter_id, new_count=row.new_count,
            reason=row.reason, expected_count=row.old_count, correction_id=row.id,
            recorded_by=(row.requested_by, row.requested_role))
        return corr.id
    if kind in (ApprovalKind.ADJUSTMENT, ApprovalKind.REFUND):
        assert row.account_id is not None and row.amount_fen is not None
        refund = kind == ApprovalKind.REFUND
        posted = corrections.post_manual(
            uow, actor=actor, account_id=row.account_id, entry_id=row.id,
            amount_fen=-row.amount_fen if refund else row.amount_fen, reason=row.reason,
            kind=EntryKind.REFUND if refund else EntryKind.CORRECTION, at=None, data=note)
        return posted.entry.id
    assert row.discrepancy_id is not None
    outcome = (DiscrepancyStatus.SETTLED if kind == ApprovalKind.DISCREPANCY_SETTLE
               else DiscrepancyStatus.DISMISSED)
    disc, _ = discrepancies.resolve(uow, actor=actor, discrepancy_id=row.discrepancy_id,
                                    outcome=outcome, reason=row.reason,
                                    proposed_by=row.requested_by)
    return disc.ledger_entry_id or disc.id
