"""The care list: requests to add or remove an account, decided by another person; the
account's ``care_flag`` follows; every step audited. The review date raises a care-visit
job (``review_due``, run by the scheduler). Services never commit."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, col, select

from server.billing.ledger import lock_account
from server.care.models import CareEntry, CareRequest
from server.customers.models import Account
from server.customers.service import get_visible as visible_account
from server.uow import UnitOfWork, to_audit_dict
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.care import CARE_ROLES, CareChange, CareRequestStatus, check_decision, check_request
from shared.enums import OPEN_STATUSES, ReportChannel, Role, WorkOrderKind
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

E = ErrorCode
_ENTRY_AUDIT = ("category", "reason", "review_on", "added_by", "approved_by")


def _staff(actor: Actor) -> None:
    if actor.role not in CARE_ROLES:
        raise DomainError(E.FORBIDDEN)


def today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def entry_of(session: Session, account_id: str) -> CareEntry | None:
    return session.exec(select(CareEntry).where(CareEntry.account_id == account_id)).first()


def request_change(uow: UnitOfWork, *, actor: Actor, account_id: str, data: dict[str, object]
                   ) -> CareRequest:
    """Ask for an account to be added to (or removed from) the care list."""
    _staff(actor)
    session = uow.session
    account = visible_account(session, actor=actor, account_id=account_id)
    body = check_request(data, today=today(), listed=entry_of(session, account.id) is not None)
    pending = session.exec(select(CareRequest.id).where(
        CareRequest.account_id == account.id,
        CareRequest.status == CareRequestStatus.PENDING.value)).first()
    if pending:
        raise DomainError(E.CARE_REQUEST_PENDING)
    req = CareRequest(account_id=account.id, station_id=account.station_id,
                      change=body.change.value,
                      category=body.category.value if body.category else None,
                      reason=body.reason, review_on=body.review_on,
                      requested_by=actor.user_id)
    session.add(req)
    session.flush()
    uow.audit(action=f"care.request_{body.change.value}", entity="account", entity_id=account.id,
              after=to_audit_dict(req, ("change", "category", "reason", "review_on")),
              reason=body.reason)
    return req


def _request(session: Session, actor: Actor, request_id: str) -> CareRequest:
    req = session.exec(select(CareRequest).where(CareRequest.id == request_id)
                       .with_for_update()).first()
    if req is None:
        raise DomainError(E.CARE_NOT_FOUND)
    try:
        visible_account(session, actor=actor, account_id=req.account_id)
    except DomainError:
        raise DomainError(E.CARE_NOT_FOUND) from None
    return req


def decide(uow: UnitOfWork, *, actor: Actor, request_id: str, approve: bool,
           note: object = None) -> CareRequest:
    """Approve or refuse a request — never one's own. An approved add lists the account
    (its ``care_flag`` set: never disconnected automatically, alerted earlier); an
    approved removal takes it off."""
    _staff(actor)
    session = uow.session
    req = _request(session, actor, request_id)
    text = check_decision(status=req.status, requested_by=req.requested_by,
                          decider_id=actor.user_id, decider_role=actor.role, approve=approve,
                          note=note)
    now = utcnow()
    req.status = (CareRequestStatus.APPROVED if approve else CareRequestStatus.REFUSED).value
    req.decided_by, req.decided_at, req.decision_note = actor.user_id, now, text
    req.version += 1
    session.add(req)
    if approve:
        account = lock_account(session, req.account_id)
        entry = entry_of(session, account.id)
        before = to_audit_dict(entry, _ENTRY_AUDIT)
        if req.change == CareChange.ADD.value:
            if entry is not None:
                raise DomainError(E.CARE_ALREADY_LISTED)
            assert req.category is not None and req.review_on is not None
            entry = CareEntry(account_id=account.id, station_id=account.station_id,
                              category=req.category, reason=req.reason,
                              review_on=req.review_on, added_by=req.requested_by,
                              approved_by=actor.user_id)
            session.add(entry)
            account.care_flag, account.care_reason = True, req.reason[:200]
        else:
            if entry is None:
                raise DomainError(E.CARE_NOT_LISTED)
            session.delete(entry)
            account.care_flag, account.care_reason = False, None
        account.version += 1
        account.updated_at = now
        uow.changed(account)
        uow.audit(action=f"care.{req.change}", entity="account", entity_id=account.id,
                  before={"care_flag": req.change != CareChange.ADD.value, **before},
                  after={"care_flag": req.change == CareChange.ADD.value,
                         "category": req.category, "requested_by": req.requested_by,
                         "approved_by": actor.user_id, "review_on": str(req.review_on)},
                  reason=req.reason)
    else:
        uow.audit(action="care.refuse", entity="account", entity_id=req.account_id,
                  after={"request": req.id, "change": req.change}, reason=text)
    return req


# -- care-visit jobs ----------------------------------------------------------------------
SYSTEM = Actor(user_id=None, role=Role.ADMIN)  # type: ignore[arg-type]


def open_care_visit(session: Session, account_id: str) -> str | None:
    return session.exec(select(WorkOrder.id).where(
        WorkOrder.account_id == account_id, WorkOrder.kind == WorkOrderKind.CARE_VISIT.value,
        col(WorkOrder.status).in_([s.value for s in OPEN_STATUSES]))).first()


def raise_visit(uow: UnitOfWork, *, account: Account, at: datetime, why_zh: str, why_en: str,
                priority: str = "normal") -> str | None:
    """A care-visit job for the account (none when one is open already)."""
    if open_care_visit(uow.session, account.id):
        return None
    order, _ = work_orders.report(uow, actor=SYSTEM, at=at, data={
        "kind": WorkOrderKind.CARE_VISIT.value, "account_id": account.id,
        "priority": priority, "channel": ReportChannel.MONITORING.value,
        "description": f"{why_zh} / {why_en}"})
    return order.id


def review_due(uow: UnitOfWork, *, on: date | None = None, limit: int = 500) -> int:
    """Raise a care-visit job for every listed account whose review date has come (once
    per review date). Returns how many were raised."""
    session = uow.session
    day = on or today()
    due = session.exec(select(CareEntry).where(
        CareEntry.review_on <= day,
        (col(CareEntry.reviewed_for).is_(None)) | (CareEntry.reviewed_for != CareEntry.review_on))
        .order_by(col(CareEntry.review_on)).limit(limit)).all()
    raised = 0
    for entry in due:
        account = session.get(Account, entry.account_id)
        if account is None:
            continue
        order_id = raise_visit(
            uow, account=account, at=utcnow(),
            why_zh=f"关怀名单复核到期（{entry.review_on}）：请上门回访并确认是否继续关怀。",
            why_en=f"Care-list review due ({entry.review_on}): visit and confirm whether "
                   "the care should continue.")
        entry.reviewed_for = entry.review_on
        entry.review_order_id = order_id or open_care_visit(session, account.id)
        entry.version += 1
        session.add(entry)
        raised += order_id is not None
    return raised


def entries(session: Session, *, actor: Actor) -> list[tuple[CareEntry, Account]]:
    _staff(actor)
    stmt = select(CareEntry, Account).join(Account, col(Account.id) == col(CareEntry.account_id))
    if actor.role != Role.ADMIN and actor.station_id is not None:
        stmt = stmt.where(CareEntry.station_id == actor.station_id)
    return list(session.exec(stmt.order_by(col(CareEntry.review_on))).all())


def requests(session: Session, *, actor: Actor, status: str | None = None
             ) -> list[tuple[CareRequest, Account]]:
    _staff(actor)
    stmt = select(CareRequest, Account).join(Account,
                                             col(Account.id) == col(CareRequest.account_id))
    if actor.role != Role.ADMIN and actor.station_id is not None:
        stmt = stmt.where(CareRequest.station_id == actor.station_id)
    if status:
        stmt = stmt.where(CareRequest.status == status)
    return list(session.exec(stmt.order_by(col(CareRequest.requested_at).desc())).all())
