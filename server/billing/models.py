"""Billing tables: tariffs, the ledger, rated days, the policy, recharges, corrections.

``ledger_entry`` and ``purchase_count_correction`` are append-only (database triggers
refuse UPDATE and DELETE, as for ``audit_log``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when
from shared.billing.ledger import EntryKind
from shared.enums import CustomerType


class Tariff(SQLModel, table=True):
    """One version of a customer type's tariff, in force from ``effective_from``."""

    __table_args__ = (UniqueConstraint("customer_type", "effective_from"),)

    id: str = id_field()
    code: str = Field(max_length=32)
    name: str = Field(default="", max_length=100)
    customer_type: CustomerType = Field(sa_type=String(16))
    effective_from: date
    data: dict[str, Any] = json_field(dict)  # shared.billing.tariff data form
    created_by: str | None = fk("user.id", nullable=True, index=False)
    created_at: datetime = when(now=True)


class BillingPolicy(SQLModel, table=True):
    """Alert and disconnection thresholds (one row, ``id = "default"``)."""

    __tablename__ = "billing_policy"

    id: str = Field(default="default", primary_key=True, max_length=16)
    low_balance_fen: int = 2000
    low_days: int = 3
    overdraft_limit_fen: int = 0
    recent_days: int = 7
    updated_by: str | None = fk("user.id", nullable=True, index=False)
    updated_at: datetime = when(now=True)
    version: int = 1


class LedgerEntry(SQLModel, table=True):
    """One change of an account's balance: what, how much, from what, who, when, why."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("account_id", "seq"),
        Index("ix_ledger_entry_month", "account_id", "kind", "billing_month"),
    )

    id: str = id_field()
    account_id: str = fk("account.id")
    seq: int  # 1, 2, 3 ... per account: the order of entries
    kind: EntryKind = Field(sa_type=String(20))
    amount_fen: int  # signed: credits positive, debits negative
    balance_after_fen: int
    meter_id: str | None = fk("meter.id", nullable=True, index=False)
    source_type: str = Field(max_length=24)  # billing_day, payment_order, cash_receipt, ...
    source_id: str = Field(max_length=64)
    dedupe_key: str = Field(max_length=120, unique=True)  # the same effect is posted once
    billing_month: str | None = Field(default=None, max_length=7)  # "2026-11" (usage)
    billing_day: date | None = None
    actor_id: str | None = fk("user.id", nullable=True)  # who (None: the system)
    actor_role: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=500)  # why
    occurred_at: datetime = when(nullable=False)  # when (device time for field cash)
    recorded_at: datetime = when(now=True)  # server time
    data: dict[str, Any] = json_field(dict)
    version: int = 1  # entries never change; for sync


class BillingDay(SQLModel, table=True):
    """A day of an account, rated: usage, the month so far, the tier (the usage chart).

    A row exists once a charge run covered the day; re-rating updates it in place (the
    money side of a re-rating is a new ledger entry, never an edit)."""

    __tablename__ = "billing_day"
    __table_args__ = (UniqueConstraint("account_id", "day"),)

    id: str = id_field()
    account_id: str = fk("account.id", index=False)
    day: date
    usage_centi: int
    mtd_usage_centi: int
    mtd_cost_fen: int
    day_cost_fen: int
    tier: int
    tariff_code: str = Field(max_length=32)
    estimated: bool = False
    revision: int = 1
    rated_at: datetime = when(now=True)


class CashReceipt(SQLModel, table=True):
    """Cash taken by an agent (in the field, maybe offline) against a paper receipt."""

    __tablename__ = "cash_receipt"

    id: str = id_field()  # made on the device (the op's entity id)
    receipt_no: str = Field(max_length=32, unique=True)
    account_id: str = fk("account.id")
    station_id: str = fk("station.id", index=False)
    amount_fen: int
    agent_id: str = fk("user.id")
    collected_at: datetime = when(nullable=False)  # device time, corrected
    collected_day: date = Field(index=True)  # local day, for the agent's daily summary
    op_id: str | None = Field(default=None, max_length=36)
    ledger_entry_id: str = Field(max_length=36)
    recorded_at: datetime = when(now=True)


class PurchaseCountCorrection(SQLModel, table=True):
    """A correction of a meter's purchase count (购电次数): old, new, who, when, why."""

    __tablename__ = "purchase_count_correction"

    id: str = id_field()
    meter_id: str = fk("meter.id")
    account_id: str | None = fk("account.id", nullable=True, index=False)
    station_id: str = fk("station.id")
    old_count: int
    new_count: int
    reason: str = Field(max_length=500)
    actor_id: str = fk("user.id", index=False)
    actor_role: str = Field(max_length=16)
    at: datetime = when(now=True, index=True)


class CashHandover(SQLModel, table=True):
    """An agent's day of cash handed over at the station counter, as the counter confirmed
    it: the count and total it counted (``receipt_count``, ``total_fen``) and the receipts
    recorded for that day (``recorded_count``, ``recorded_fen``). When they differ the
    hand-over was confirmed with a discrepancy, explained in ``note`` (issue 15)."""

    __tablename__ = "cash_handover"
    __table_args__ = (UniqueConstraint("agent_id", "day"),)

    id: str = id_field()
    agent_id: str = fk("user.id")
    station_id: str = fk("station.id", index=False)
    day: date
    receipt_count: int
    total_fen: int
    confirmed_by: str = fk("user.id", index=False)
    confirmed_by_name: str = Field(max_length=64)
    confirmed_at: datetime = when(now=True)
    note: str | None = Field(default=None, max_length=200)
    #: the receipts recorded that day (None: confirmed before issue 15, equal to the count)
    recorded_count: int | None = None
    recorded_fen: int | None = None
    version: int = 1
