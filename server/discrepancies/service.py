"""Balance discrepancies: found at a meter swap, settled or dismissed by the office.

At a swap the account's ledger is the money truth and what the technician read off the
old meter is evidence (``server.meters.service.record_swap``): the new meter gets the
ledger's figure, and when the reading differs, ``record`` notes the difference here, in
the swap's transaction — never moved silently, never a detour in the ledger.

The office reviews the open ones (``listing``; dispatchers, managers and admins of the
account's station, county-wide office staff all) and decides (``resolve``; managers and
admins), always with a reason:

* **settle** — the meter was right: the difference is posted as one ``adjustment``
  ledger entry (its dedupe key is the discrepancy, so it is posted once), audited;
* **dismiss** — the ledger was right: no money moves; audited.

``resolve`` records who proposed the decision (``proposed_by``, by default the one who
makes it) apart from who made it (``resolved_by``), so a second-person approval can wrap
it: one user proposes, another calls ``resolve`` with ``proposed_by`` set to the first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing.balance import balance_changed
from server.billing.ledger import installed_meter, lock_account, post
from server.customers.models import Account
from server.discrepancies.models import BalanceDiscrepancy
from server.uow import UnitOfWork, to_audit_dict
from shared.billing.ledger import EntryKind, check_reason
from shared.enums import DiscrepancyStatus, Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor

VIEW_ROLES = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
RESOLVE_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
_AUDIT = ("status", "ledger_fen", "reported_fen", "difference_fen", "proposed_by",
          "resolved_by", "ledger_entry_id")


def record(uow: UnitOfWork, *, swap_id: str, order_id: str, account: Account, meter_id: str,
           ledger_fen: int, reported_fen: int, actor: Actor, at: datetime
           ) -> BalanceDiscrepancy | None:
    """Note a difference between the ledger and the reading at a swap (None: no difference)."""
    if reported_fen == ledger_fen:
        return None
    row = BalanceDiscrepancy(
        swap_id=swap_id, work_order_id=order_id, account_id=account.id,
        station_id=account.station_id, meter_id=meter_id, ledger_fen=ledger_fen,
        reported_fen=reported_fen, difference_fen=reported_fen - ledger_fen,
        reported_by=actor.user_id, reported_at=at)
    uow.session.add(row)
    uow.audit(action="balance_discrepancy.open", entity="balance_discrepancy",
              entity_id=row.id, after=to_audit_dict(row, _AUDIT) | {"swap_id": swap_id})
    return row


def _where(actor: Actor) -> list[Any]:
    if actor.role not in VIEW_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    if actor.role == Role.ADMIN or actor.station_id is None:
        return []
    return [BalanceDiscrepancy.station_id == actor.station_id]


def listing(session: Session, *, actor: Actor, status: DiscrepancyStatus | None = None,
            account_id: str | None = None, limit: int = 100, offset: int = 0
            ) -> tuple[list[BalanceDiscrepancy], int]:
    where = _where(actor)
    if status is not None:
        where.append(BalanceDiscrepancy.status == status.value)
    if account_id is not None:
        where.append(BalanceDiscrepancy.account_id == account_id)
    total = session.exec(select(func.count()).select_from(BalanceDiscrepancy)
                         .where(*where)).one()
    rows = session.exec(select(BalanceDiscrepancy).where(*where)
                        .order_by(col(BalanceDiscrepancy.created_at).desc(),
                                  col(BalanceDiscrepancy.id)).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def get(session: Session, *, actor: Actor, discrepancy_id: str, lock: bool = False
        ) -> BalanceDiscrepancy:
    stmt = select(BalanceDiscrepancy).where(BalanceDiscrepancy.id == discrepancy_id,
                                            *_where(actor))
    row = session.exec(stmt.with_for_update() if lock else stmt).first()
    if row is None:  # unknown, or another station's: the same answer
        raise DomainError(ErrorCode.DISCREPANCY_NOT_FOUND, discrepancy=discrepancy_id)
    return row


def resolve(uow: UnitOfWork, *, actor: Actor, discrepancy_id: str,
            outcome: DiscrepancyStatus, reason: str, proposed_by: str | None = None,
            expected_version: int | None = None, at: datetime | None = None
            ) -> tuple[BalanceDiscrepancy, bool]:
    """Settle (post the difference) or dismiss an open discrepancy, with a reason.

    Returns ``(row, changed)``. The same decision sent again (a lost answer) changes
    nothing; another decision on a closed one is ``DISCREPANCY_CLOSED``."""
    if outcome == DiscrepancyStatus.OPEN:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="outcome: settled or dismissed")
    session = uow.session
    row = get(session, actor=actor, discrepancy_id=discrepancy_id)
    if actor.role not in RESOLVE_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    reason = check_reason(reason)
    account = lock_account(session, row.account_id)  # account first, as everywhere
    row = get(session, actor=actor, discrepancy_id=discrepancy_id, lock=True)
    if row.status != DiscrepancyStatus.OPEN:
        if row.status == outcome and row.resolved_by == actor.user_id:
            return row, False
        raise DomainError(ErrorCode.DISCREPANCY_CLOSED, status=row.status)
    if expected_version is not None and expected_version != row.version:
        raise DomainError(ErrorCode.VERSION_CONFLICT, expected=expected_version,
                          actual=row.version)
    now = utcnow()
    before = to_audit_dict(row, _AUDIT)
    if outcome == DiscrepancyStatus.SETTLED:
        meter = installed_meter(session, account.id)
        posted = post(uow, account=account, amount_fen=row.difference_fen,
                      kind=EntryKind.ADJUSTMENT, source_type="balance_discrepancy",
                      source_id=row.id, dedupe_key=f"discrepancy:{row.id}",
                      occurred_at=at or now, actor=actor, reason=reason,
                      meter_id=meter.id if meter else None,
                      data={"swap_id": row.swap_id, "ledger_fen": row.ledger_fen,
                            "reported_fen": row.reported_fen,
                            "proposed_by": proposed_by or actor.user_id})
        row.ledger_entry_id = posted.entry.id
        balance_changed(uow, account=account, at=now)
    row.status = outcome.value
    row.proposed_by = proposed_by or actor.user_id
    row.resolved_by, row.resolved_at, row.resolution_reason = actor.user_id, now, reason
    row.version += 1
    session.add(row)
    verb = "settle" if outcome == DiscrepancyStatus.SETTLED else "dismiss"
    uow.audit(action=f"balance_discrepancy.{verb}", entity="balance_discrepancy",
              entity_id=row.id, before=before,
              after=to_audit_dict(row, _AUDIT), reason=reason)
    return row, True
