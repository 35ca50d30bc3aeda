"""Online recharge: a payment order per idempotency key, the provider's signed callbacks,
and crediting the account exactly once per paid order.

Order states: ``pending`` (created, waiting for the provider) -> ``paid`` (the provider
said so in a verified callback) -> ``credited`` (the ledger entry is posted, the receipt
issued); or ``declined``. Crediting is its own transaction after ``paid`` is recorded;
an order left ``paid`` (a crash in between) is credited by ``credit_paid``.

Every callback is recorded with its verdict:

* ``rejected``: bad signature (forged or altered), timestamp too old (replayed), not
  parseable, unknown order, or it contradicts the order (amount, currency, provider
  transaction, an event id re-used with another body, declined after paid);
* ``duplicate``: an event already received (providers repeat notifications) — no effect;
* ``ignored``: an event older than one already applied (arrived out of order) — no effect;
* ``accepted``: applied.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import false
from sqlmodel import Session, col, select

from server.billing.balance import balance_changed
from server.billing.ledger import bump_purchase_count, lock_account, post
from server.billing.signing import verify
from server.customers import service as customers
from server.customers.models import Account
from server.db import Database, bump_counter
from server.notifications.service import notify
from server.payments.models import PaymentCallback, PaymentOrder
from server.uow import Scope, UnitOfWork
from shared.accounts import check_open
from shared.billing.ledger import EntryKind, check_recharge_amount
from shared.billing.notices import NoticeKind
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

log = logging.getLogger("gridone.payments")

#: Providers re-deliver notifications for up to about a day; older ones are replays.
CALLBACK_TOLERANCE_S = 3 * 24 * 3600
PENDING, PAID, CREDITED, DECLINED = "pending", "paid", "credited", "declined"


@dataclass(frozen=True)
class ProviderPayment:
    txn_id: str
    pay_url: str


class Provider(Protocol):
    name: str

    def create(self, *, order_id: str, amount_fen: int) -> ProviderPayment: ...


def order_scope(order: PaymentOrder) -> Scope:
    return Scope(None, order.account_id, order.user_id)


def _touch(uow: UnitOfWork, order: PaymentOrder, now: datetime) -> None:
    order.version += 1
    order.updated_at = now
    uow.changed(order, scope=order_scope(order))


# -- creating an order ---------------------------------------------------------------------
def create_order(db: Database, *, actor: Actor, account_id: str, amount_fen: int,
                 idempotency_key: str, provider: Provider) -> tuple[PaymentOrder, bool]:
    """A pending order (the same key again: the same order), registered with the provider."""
    if actor.role != Role.CUSTOMER:
        raise DomainError(ErrorCode.FORBIDDEN)
    with UnitOfWork(db, actor) as uow:
        session = uow.session
        account = customers.get_visible(session, actor=actor, account_id=account_id)
        check_recharge_amount(amount_fen)
        order = session.exec(select(PaymentOrder).where(
            PaymentOrder.user_id == actor.user_id,
            PaymentOrder.idempotency_key == idempotency_key)).first()
        created = order is None
        if order is not None:
            if (order.account_id, order.amount_fen) != (account.id, amount_fen):
                raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
        else:
            check_open(account.status, account_no=account.account_no)
            order = PaymentOrder(account_id=account.id, user_id=actor.user_id,
                                 idempotency_key=idempotency_key, amount_fen=amount_fen,
                                 provider=provider.name)
            uow.changed(order, scope=order_scope(order))
        uow.commit()
    if order.provider_txn_id is None:
        # Like a real provider's API call: outside our transaction. If it fails, the order
        # stays pending without a payment page, and the same request again retries it.
        payment = provider.create(order_id=order.id, amount_fen=order.amount_fen)
        with UnitOfWork(db, actor) as uow:
            order = uow.session.get(PaymentOrder, order.id, with_for_update=True)
            assert order is not None
            if order.provider_txn_id is None:
                order.provider_txn_id, order.pay_url = payment.txn_id, payment.pay_url
                _touch(uow, order, utcnow())
            uow.commit()
    return order, created


def visible_orders(session: Session, actor: Actor) -> Any:
    """Customers: their accounts' orders; agents and office staff: those of the accounts
    they may see; crews and meter technicians: none (money is not their business)."""
    if actor.role == Role.CUSTOMER:
        return col(PaymentOrder.account_id).in_(sorted(actor.account_ids))
    if actor.role in (Role.CREW, Role.METER_TECH):
        return false()
    return col(PaymentOrder.account_id).in_(
        select(Account.id).where(customers.visible_clause(actor)))


def get_order(session: Session, *, actor: Actor, order_id: str) -> PaymentOrder:
    order = session.exec(select(PaymentOrder).where(PaymentOrder.id == order_id,
                                                    visible_orders(session, actor))).first()
    if order is None:
        raise DomainError(ErrorCode.PAYMENT_ORDER_NOT_FOUND, order=order_id)
    return order


# -- callbacks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CallbackResult:
    verdict: str
    order_id: str | None
    status: str | None


class _Refusal(Exception):
    def __init__(self, code: ErrorCode, **details: Any) -> None:
        self.code, self.details = code, details


def _record(session: Session, body: bytes, data: dict[str, Any], verdict: str,
            code: str | None) -> None:
    amount = data.get("amount_fen")
    session.add(PaymentCallback(
        event_id=str(data.get("event_id"))[:64] if data.get("event_id") else None,
        order_id=str(data.get("order_id"))[:64] if data.get("order_id") else None,
        status_claimed=str(data.get("status"))[:16] if data.get("status") else None,
        amount_claimed=amount if isinstance(amount, int) and abs(amount) < 2**62 else None,
        body_sha256=hashlib.sha256(body).hexdigest(), verdict=verdict, code=code,
        body=body.decode("utf-8", "replace")[:4000]))


def handle_callback(db: Database, *, key: bytes, body: bytes, signature: str | None,
                    now: datetime | None = None) -> CallbackResult:
    """Verify, apply and record one provider notification; credit a newly paid order."""
    now = now or utcnow()
    checked = verify(key, body, signature, now=now, tolerance_s=CALLBACK_TOLERANCE_S)
    data: dict[str, Any] = {}
    try:
        parsed = json.loads(body) if checked.ok else {}
        data = parsed if isinstance(parsed, dict) else {}
    except ValueError:
        data = {}
    try:
        if not checked.ok:
            raise _Refusal(ErrorCode.PAYMENT_CALLBACK_SIGNATURE_INVALID)
        if checked.stale:
            raise _Refusal(ErrorCode.PAYMENT_CALLBACK_STALE)
        event = _fields(data)
        with UnitOfWork(db) as uow:
            result = _apply(uow, body, event, now)
            _record(uow.session, body, data, result.verdict, None)
            uow.commit()
    except _Refusal as refusal:
        with UnitOfWork(db) as uow:
            _record(uow.session, body, data, "rejected", refusal.code.value)
            uow.commit()
        log.warning("payment callback refused: %s %s", refusal.code, refusal.details)
        raise DomainError(refusal.code, **refusal.details) from None
    if result.status == PAID and result.order_id:
        credit(db, order_id=result.order_id, now=now)
        with Session(db.reader) as session:
            order = session.get(PaymentOrder, result.order_id)
            return CallbackResult(result.verdict, result.order_id,
                                  order.status if order else None)
    return result


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    need = {"event_id": str, "seq": int, "order_id": str, "txn_id": str, "status": str,
            "amount_fen": int, "currency": str}
    for name, kind in need.items():
        value = data.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _Refusal(ErrorCode.VALIDATION_ERROR, summary=f"{name}: missing or invalid")
    if data["status"] not in (PENDING, PAID, DECLINED):
        raise _Refusal(ErrorCode.VALIDATION_ERROR, summary="status: pending, paid or declined")
    return data


def _apply(uow: UnitOfWork, body: bytes, ev: dict[str, Any], now: datetime) -> CallbackResult:
    session = uow.session
    digest = hashlib.sha256(body).hexdigest()
    prior = session.exec(select(PaymentCallback).where(
        PaymentCallback.event_id == ev["event_id"],
        col(PaymentCallback.verdict).in_(("accepted", "duplicate", "ignored")))).first()
    if prior is not None:
        if prior.body_sha256 != digest:
            raise _Refusal(ErrorCode.PAYMENT_CALLBACK_MISMATCH, field="event_id")
        return CallbackResult("duplicate", ev["order_id"], None)
    order = session.exec(select(PaymentOrder).where(PaymentOrder.id == ev["order_id"])
                         .with_for_update()).first()
    if order is None:
        raise _Refusal(ErrorCode.PAYMENT_CALLBACK_MISMATCH, field="order_id")
    for name, ours in (("txn_id", order.provider_txn_id), ("amount_fen", order.amount_fen),
                       ("currency", "CNY")):
        if ev[name] != ours:
            raise _Refusal(ErrorCode.PAYMENT_CALLBACK_MISMATCH, field=name)
    if ev["seq"] <= order.provider_seq:
        return CallbackResult("ignored", order.id, None)  # older news, arrived late
    status = ev["status"]
    if status == DECLINED and order.status in (PAID, CREDITED):
        raise _Refusal(ErrorCode.PAYMENT_CALLBACK_MISMATCH, field="status")
    order.provider_seq = ev["seq"]
    if status == PAID and order.status in (PENDING, DECLINED):
        order.status, order.paid_at = PAID, now
    elif status == DECLINED and order.status == PENDING:
        order.status, order.declined_at = DECLINED, now
        account = lock_account(session, order.account_id)
        notify(uow, account=account, kind=NoticeKind.PAYMENT_DECLINED, at=now,
               params={"amount": order.amount_fen}, dedupe_key=f"declined:{order.id}")
    _touch(uow, order, now)
    return CallbackResult("accepted", order.id, order.status)


# -- crediting -------------------------------------------------------------------------------
def receipt_no(session: Session, prefix: str, at: datetime) -> str:
    n = bump_counter(session, f"receipt_{prefix.lower()}")
    return f"{prefix}{at.astimezone(LOCAL_TZ):%Y%m%d}{n:07d}"


def credit(db: Database, *, order_id: str, now: datetime | None = None) -> bool:
    """Credit a paid order (once: the order's status and the ledger's key both say so)."""
    now = now or utcnow()
    with UnitOfWork(db) as uow:
        session = uow.session
        order = session.get(PaymentOrder, order_id, with_for_update=True)
        if order is None or order.status != PAID:
            return False
        account = lock_account(session, order.account_id)
        payer = Actor(order.user_id, Role.CUSTOMER)
        posted = post(uow, account=account, amount_fen=order.amount_fen,
                      kind=EntryKind.RECHARGE_ONLINE, source_type="payment_order",
                      source_id=order.id, dedupe_key=f"payment:{order.id}", occurred_at=now,
                      actor=payer, reason="online recharge",
                      data={"provider": order.provider, "txn_id": order.provider_txn_id})
        meter = bump_purchase_count(uow, account_id=account.id)
        order.status, order.credited_at = CREDITED, now
        order.ledger_entry_id = posted.entry.id
        order.receipt_no = receipt_no(session, "OL", now)
        _touch(uow, order, now)
        notify(uow, account=account, kind=NoticeKind.RECHARGE_CREDITED, at=now,
               params={"amount": order.amount_fen, "balance": account.balance_fen,
                       "receipt_no": order.receipt_no,
                       "purchase_count": meter.purchase_count if meter else None},
               dedupe_key=f"credited:{order.id}")
        balance_changed(uow, account=account, at=now)
        uow.commit()
    return True


def credit_paid(db: Database, *, now: datetime | None = None) -> int:
    """Credit every order left paid but not credited (after a crash)."""
    with Session(db.reader) as session:
        ids = list(session.exec(select(PaymentOrder.id).where(
            PaymentOrder.status == PAID)).all())
    return sum(1 for order_id in ids if credit(db, order_id=order_id, now=now))
