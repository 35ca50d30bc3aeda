"""The ledger: the only way an account's balance changes.

``post`` appends an entry and sets ``account.balance_fen`` to the entry's balance-after
in the same transaction (the caller's unit of work). Every entry has a ``dedupe_key``
naming the effect it records (``payment:<order>``, ``cash:<receipt>``, ...): posting the
same effect again returns the first entry, so a retried request or op credits once, and
the unique index makes that hold under concurrency too. ``check`` verifies, for every
account, that the balance equals the sum of its ledger and that the running balances
chain up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing.models import LedgerEntry
from server.customers.models import Account
from server.meters.models import Meter
from server.uow import Scope, UnitOfWork
from shared.billing.ledger import EntryKind
from shared.enums import MeterStatus
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

log = logging.getLogger("gridone.billing.ledger")


def lock_account(session: Session, account_id: str) -> Account:
    """The account row, locked until the transaction ends (balance changes serialize)."""
    account = session.exec(select(Account).where(Account.id == account_id)
                           .with_for_update()).first()
    if account is None:
        raise DomainError(ErrorCode.ACCOUNT_NOT_FOUND, account=account_id)
    return account


def installed_meter(session: Session, account_id: str, *, lock: bool = False) -> Meter | None:
    stmt = select(Meter).where(Meter.account_id == account_id,
                               Meter.status == MeterStatus.INSTALLED.value)
    if lock:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def entry_scope(account: Account, actor_id: str | None) -> Scope:
    """Customers' phones get their accounts' entries; agents' phones those they recorded."""
    return Scope(None, account.id, actor_id)


def last_entry(session: Session, account_id: str) -> LedgerEntry | None:
    return session.exec(select(LedgerEntry).where(LedgerEntry.account_id == account_id)
                        .order_by(col(LedgerEntry.seq).desc()).limit(1)).first()


@dataclass(frozen=True)
class Posted:
    entry: LedgerEntry
    created: bool


def post(uow: UnitOfWork, *, account: Account, amount_fen: int, kind: EntryKind,
         source_type: str, source_id: str, dedupe_key: str, occurred_at: datetime,
         actor: Actor | None = None, reason: str | None = None, meter_id: str | None = None,
         billing_month: str | None = None, billing_day: date | None = None,
         data: dict[str, Any] | None = None) -> Posted:
    """Append an entry to ``account``'s ledger (which the caller has locked)."""
    session = uow.session
    seen = session.exec(select(LedgerEntry).where(LedgerEntry.dedupe_key == dedupe_key)).first()
    if seen is not None:
        if (seen.account_id, seen.amount_fen, seen.kind) != (account.id, amount_fen, kind):
            raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
        return Posted(seen, False)
    if kind != EntryKind.OPENING_BALANCE:
        ensure_opened(uow, account=account, occurred_at=occurred_at)
    last = last_entry(session, account.id)
    before = last.balance_after_fen if last else 0
    if kind != EntryKind.OPENING_BALANCE and account.balance_fen != before:
        # Someone changed the balance outside the ledger: the ledger wins, and it is recorded.
        log.error("account %s balance %s differs from its ledger %s", account.id,
                  account.balance_fen, before)
        uow.audit(action="ledger.balance_mismatch", entity="account", entity_id=account.id,
                  before={"balance_fen": account.balance_fen}, after={"ledger_fen": before})
    entry = LedgerEntry(
        account_id=account.id, seq=(last.seq + 1) if last else 1, kind=kind,
        amount_fen=amount_fen, balance_after_fen=before + amount_fen, meter_id=meter_id,
        source_type=source_type, source_id=source_id, dedupe_key=dedupe_key,
        billing_month=billing_month, billing_day=billing_day,
        actor_id=actor.user_id if actor else None,
        actor_role=actor.role.value if actor else None, reason=reason,
        occurred_at=occurred_at, data=data or {})
    uow.changed(entry, scope=entry_scope(account, entry.actor_id))
    account.balance_fen = entry.balance_after_fen
    account.version += 1
    account.updated_at = utcnow()
    uow.changed(account)
    session.flush()
    return Posted(entry, True)


def bump_purchase_count(uow: UnitOfWork, *, account_id: str) -> Meter | None:
    """A recharge is a purchase: the installed meter's purchase count goes up by one."""
    meter = installed_meter(uow.session, account_id, lock=True)
    if meter is None:
        return None
    meter.purchase_count += 1
    meter.version += 1
    meter.updated_at = utcnow()
    uow.changed(meter)
    return meter


def open_account(uow: UnitOfWork, *, account: Account, as_of: date,
                 occurred_at: datetime | None = None) -> Posted:
    """The opening entry of an account that had a balance before its ledger.

    ``as_of`` is the last day the balance already paid for (its ``billing_day``): usage up
    to and including that day is never charged again (see ``opened_through``).
    """
    return post(uow, account=account, amount_fen=account.balance_fen,
                kind=EntryKind.OPENING_BALANCE, source_type="account", source_id=account.id,
                dedupe_key=f"opening:{account.id}", occurred_at=occurred_at or utcnow(),
                billing_day=as_of, reason="balance before the ledger",
                data={"as_of": as_of.isoformat()})


def ensure_opened(uow: UnitOfWork, *, account: Account, occurred_at: datetime | None = None
                  ) -> None:
    """An account loaded outside the ledger (imported, seeded) with a balance gets its
    opening entry before anything else, as of the day before the balance was last set
    (``updated_at``): that balance already paid for the days before."""
    if account.balance_fen != 0 and last_entry(uow.session, account.id) is None:
        open_account(uow, account=account, occurred_at=occurred_at,
                     as_of=local_day(account.updated_at) - timedelta(days=1))


def open_accounts(uow: UnitOfWork, *, as_of: date | None = None) -> int:
    """Open every account that has a balance but no ledger yet (made before the ledger,
    or loaded in bulk), as of ``as_of`` (default: yesterday — the balance as loaded is
    taken to be net of all usage so far). Returns how many were opened."""
    session = uow.session
    as_of = as_of or local_day(utcnow()) - timedelta(days=1)
    has = select(LedgerEntry.account_id).distinct()
    ids = session.exec(select(Account.id).where(Account.balance_fen != 0,
                                                 col(Account.id).not_in(has))).all()
    for account_id in ids:
        open_account(uow, account=lock_account(session, account_id), as_of=as_of)
    return len(ids)


def opened_through(session: Session, account_id: str) -> date | None:
    """The last day an account's opening balance already paid for (None: charge all)."""
    return session.exec(select(col(LedgerEntry.billing_day)).where(
        LedgerEntry.account_id == account_id,
        LedgerEntry.kind == EntryKind.OPENING_BALANCE.value)).first()


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


# -- checking ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    account_id: str
    account_no: str
    balance_fen: int
    ledger_sum_fen: int
    entries: int
    problem: str  # "balance != sum" | "broken chain at seq N"


def check(session: Session, *, account_ids: list[str] | None = None) -> list[Mismatch]:
    """Every account whose balance is not the sum of its ledger, or whose entries'
    running balances do not chain (each = the previous + its amount, seq 1, 2, 3 ...)."""
    sums = select(LedgerEntry.account_id, func.coalesce(func.sum(LedgerEntry.amount_fen), 0)
                  .label("total"), func.count().label("n")).group_by(LedgerEntry.account_id)
    if account_ids is not None:
        sums = sums.where(col(LedgerEntry.account_id).in_(account_ids))
    totals = {a: (int(t), int(n)) for a, t, n in session.exec(sums).all()}
    accounts = select(Account.id, Account.account_no, Account.balance_fen)
    if account_ids is not None:
        accounts = accounts.where(col(Account.id).in_(account_ids))
    out: list[Mismatch] = []
    for account_id, account_no, balance in session.exec(accounts).all():
        total, n = totals.get(account_id, (0, 0))
        if total != balance:
            out.append(Mismatch(account_id, account_no, balance, total, n, "balance != sum"))
    chain = select(LedgerEntry.account_id, LedgerEntry.seq, LedgerEntry.amount_fen,
                   LedgerEntry.balance_after_fen).order_by(col(LedgerEntry.account_id),
                                                           col(LedgerEntry.seq))
    if account_ids is not None:
        chain = chain.where(col(LedgerEntry.account_id).in_(account_ids))
    current, running, expect_seq, broken = None, 0, 1, False
    numbers = {a: no for a, no, _ in session.exec(accounts).all()}
    balances = {a: b for a, _, b in session.exec(accounts).all()}
    for account_id, seq, amount, after in session.exec(chain).all():
        if account_id != current:
            current, running, expect_seq, broken = account_id, 0, 1, False
        running += amount
        if not broken and (seq != expect_seq or after != running):
            broken = True
            total, n = totals.get(account_id, (0, 0))
            out.append(Mismatch(account_id, numbers.get(account_id, "?"),
                                balances.get(account_id, 0), total, n,
                                f"broken chain at seq {seq}"))
        expect_seq = seq + 1
    return out
