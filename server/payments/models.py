"""Payment orders, every callback received, and the sandbox provider's own records."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class PaymentOrder(SQLModel, table=True):
    """A customer's online recharge: pending -> paid -> credited (or declined)."""

    __tablename__ = "payment_order"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: str = id_field()
    account_id: str = fk("account.id")
    user_id: str = fk("user.id")
    idempotency_key: str = Field(max_length=64)
    amount_fen: int
    status: str = Field(default="pending", max_length=12)  # pending|paid|credited|declined
    provider: str = Field(default="sandbox", max_length=16)
    provider_txn_id: str | None = Field(default=None, max_length=64, unique=True)
    provider_seq: int = 0  # the provider's event sequence applied last (out-of-order guard)
    pay_url: str | None = Field(default=None, max_length=300)
    receipt_no: str | None = Field(default=None, max_length=32, unique=True)
    ledger_entry_id: str | None = Field(default=None, max_length=36)
    created_at: datetime = when(now=True)
    paid_at: datetime | None = when()
    credited_at: datetime | None = when()
    declined_at: datetime | None = when()
    updated_at: datetime = when(now=True)
    version: int = 1


class PaymentCallback(SQLModel, table=True):
    """Every notification the provider (or anyone) sent, with what was decided."""

    __tablename__ = "payment_callback"

    id: str = id_field()
    received_at: datetime = when(now=True)
    event_id: str | None = Field(default=None, max_length=64, index=True)
    order_id: str | None = Field(default=None, max_length=64, index=True)
    status_claimed: str | None = Field(default=None, max_length=16)
    amount_claimed: int | None = None
    body_sha256: str = Field(max_length=64)
    verdict: str = Field(max_length=12)  # accepted | duplicate | ignored | rejected
    code: str | None = Field(default=None, max_length=48)
    body: str = Field(sa_type=Text)


class SandboxPayment(SQLModel, table=True):
    """The sandbox provider's side of a payment (what a real provider keeps to itself)."""

    __tablename__ = "sandbox_payment"

    txn_id: str = Field(primary_key=True, max_length=64)
    merchant_order_id: str = Field(max_length=64, unique=True)
    amount_fen: int
    status: str = Field(default="created", max_length=12)  # created | paid | declined
    event_seq: int = 0
    created_at: datetime = when(now=True)
    decided_at: datetime | None = when()


class SandboxEvent(SQLModel, table=True):
    """A signed notification the sandbox sends (and re-sends) to the merchant."""

    __tablename__ = "sandbox_event"

    id: str = Field(primary_key=True, max_length=64)  # the event id
    txn_id: str = Field(foreign_key="sandbox_payment.txn_id", max_length=64, index=True)
    seq: int
    body: str = Field(sa_type=Text)
    signature: str = Field(max_length=200)
    deliveries_left: int = 0
    delivered: int = 0
    next_delivery_at: datetime | None = when()
    created_at: datetime = when(now=True)
