"""Customer accounts (用电户)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when
from shared.accounts import AccountStatus
from shared.enums import CustomerType


class Account(SQLModel, table=True):
    id: str = id_field()
    account_no: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    address: str = Field(max_length=200)
    lat: float | None = None
    lon: float | None = None
    customer_type: CustomerType = Field(default=CustomerType.RESIDENTIAL, sa_type=String(16))
    station_id: str = fk("station.id")
    area_id: str = fk("transformer_area.id")
    owner_user_id: str | None = fk("user.id", nullable=True)
    # Identity documents: a keyed digest for exact lookup, and a masked form for display.
    id_card_digest: str | None = Field(default=None, max_length=64, index=True)
    id_card_masked: str | None = Field(default=None, max_length=24)
    property_cert_digest: str | None = Field(default=None, max_length=64, index=True)
    property_cert_masked: str | None = Field(default=None, max_length=40)
    care_flag: bool = False
    care_reason: str | None = Field(default=None, max_length=200)
    balance_fen: int = 0
    # Prepaid state kept with the balance (issue 5): the alert level last notified about
    # (ok | low | arrears) and the supply state last acknowledged by the meter (on | off).
    alert_level: str = Field(default="ok", max_length=8)
    supply_state: str = Field(default="on", max_length=8)
    # Set by the applications (issue 13): the contracted capacity (a new connection's, then
    # each completed capacity change's; None: not on record), and the account's status
    # (``shared.accounts.AccountStatus``), closed by a completed closing, and when.
    capacity_kw: int | None = None
    status: str = Field(default=AccountStatus.ACTIVE.value, max_length=12)
    closed_at: datetime | None = when()
    created_at: datetime = when(now=True)
    updated_at: datetime = when(now=True)
    version: int = 1
