"""Field cash recharge by an agent (a sync op that works offline), and the agent's daily
cash summary for handing the money in.

A cash recharge is identified twice: by its id (made on the device, the op's entity id)
and by the paper receipt's number. Sending it again — the same op after a lost answer,
or a new op for the same receipt — finds the first one and credits nothing more; the
same id or receipt number with other content is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from server.billing.balance import balance_changed
from server.billing.ledger import bump_purchase_count, lock_account, post
from server.billing.models import CashReceipt, LedgerEntry
from server.customers import service as customers
from server.customers.models import Account
from server.notifications.service import notify
from server.uow import UnitOfWork
from server.users.models import User
from shared.accounts import check_open
from shared.billing.ledger import EntryKind, check_receipt_no, check_recharge_amount
from shared.billing.notices import NoticeKind
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

CASH_ROLES = frozenset({Role.AGENT, Role.MANAGER})


@dataclass(frozen=True)
class CashResult:
    receipt: CashReceipt
    entry: LedgerEntry
    created: bool


def _same(r: CashReceipt, account_id: str, amount_fen: int, receipt_no: str, agent: str
          ) -> bool:
    return (r.account_id, r.amount_fen, r.receipt_no, r.agent_id) == (
        account_id, amount_fen, receipt_no, agent)


def record_cash(uow: UnitOfWork, *, actor: Actor, receipt_id: str, account_id: str,
                amount_fen: int, receipt_no: str, at: datetime | None = None,
                op_id: str | None = None) -> CashResult:
    """Credit cash taken by ``actor`` (an agent) against a receipt, exactly once."""
    session = uow.session
    if actor.role not in CASH_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    receipt_no = check_receipt_no(receipt_no)
    check_recharge_amount(amount_fen)
    account = customers.get_visible(session, actor=actor, account_id=account_id)
    account = lock_account(session, account.id)  # then look: a concurrent twin waits here
    for existing in (session.get(CashReceipt, receipt_id),
                     session.exec(select(CashReceipt).where(
                         CashReceipt.receipt_no == receipt_no)).first()):
        if existing is None:
            continue
        if not _same(existing, account.id, amount_fen, receipt_no, actor.user_id):
            if existing.id == receipt_id:
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
            raise DomainError(ErrorCode.CASH_RECEIPT_REUSED, receipt_no=receipt_no)
        entry = session.get(LedgerEntry, existing.ledger_entry_id)
        assert entry is not None
        return CashResult(existing, entry, False)
    check_open(account.status, account_no=account.account_no)  # (a repeat above still answers)
    now = utcnow()
    at = at or now
    posted = post(uow, account=account, amount_fen=amount_fen, kind=EntryKind.RECHARGE_CASH,
                  source_type="cash_receipt", source_id=receipt_id,
                  dedupe_key=f"cash:{receipt_id}", occurred_at=at, actor=actor,
                  reason="cash recharge", data={"receipt_no": receipt_no, "op_id": op_id})
    receipt = CashReceipt(id=receipt_id, receipt_no=receipt_no, account_id=account.id,
                          station_id=account.station_id, amount_fen=amount_fen,
                          agent_id=actor.user_id, collected_at=at,
                          collected_day=at.astimezone(LOCAL_TZ).date(), op_id=op_id,
                          ledger_entry_id=posted.entry.id)
    session.add(receipt)
    meter = bump_purchase_count(uow, account_id=account.id)
    notify(uow, account=account, kind=NoticeKind.RECHARGE_CREDITED, at=at,
           params={"amount": amount_fen, "balance": account.balance_fen,
                   "receipt_no": receipt_no,
                   "purchase_count": meter.purchase_count if meter else None},
           dedupe_key=f"cash:{receipt_id}")
    balance_changed(uow, account=account, at=now)
    session.flush()
    return CashResult(receipt, posted.entry, True)


def cash_summary(session: Session, *, actor: Actor, day: date, agent_id: str | None = None
                 ) -> dict[str, Any]:
    """What an agent took in cash on a (local) day: count, total and each receipt.
    Agents see their own; managers their station's agents; admins anyone's."""
    agent_id = agent_id or actor.user_id
    if actor.role == Role.AGENT and agent_id != actor.user_id:
        raise DomainError(ErrorCode.FORBIDDEN)
    if actor.role not in (Role.AGENT, Role.MANAGER, Role.ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN)
    agent = session.get(User, agent_id)
    if agent is None or (actor.role == Role.MANAGER and actor.station_id is not None
                         and agent.station_id != actor.station_id):
        raise DomainError(ErrorCode.USER_NOT_FOUND, user=agent_id)
    rows = session.exec(select(CashReceipt, Account.account_no).join(
        Account, col(Account.id) == CashReceipt.account_id).where(
        CashReceipt.agent_id == agent_id, CashReceipt.collected_day == day)
        .order_by(col(CashReceipt.collected_at))).all()
    return {
        "agent_id": agent_id, "agent_name": agent.display_name, "day": day,
        "count": len(rows), "total_fen": sum(r.amount_fen for r, _ in rows),
        "receipts": [{"id": r.id, "receipt_no": r.receipt_no, "account_id": r.account_id,
                      "account_no": no, "amount_fen": r.amount_fen,
                      "collected_at": r.collected_at, "recorded_at": r.recorded_at}
                     for r, no in rows],
    }
