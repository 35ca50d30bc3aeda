"""Request and response schemas of the billing API (and the cash-recharge op payload).

Amounts are integer fen (``shared.numbers.Fen``: ``12.5`` or ``"12"`` are refused, never
rounded); reasons and names are cleaned by ``shared.text``.
Range rules (recharge between 1 and 5,000 yuan, ...) are the domain's (``shared.billing``)
so the phone and the server refuse the same things with the same codes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from shared.enums import CustomerType
from shared.numbers import Fen
from shared.text import OneLine, Paragraphs

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                                r"[0-9a-f]{4}-[0-9a-f]{12}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- cash -----------------------------------------------------------------------------------
class CashRechargeOp(Strict):
    """Payload of ``recharge.cash@1`` (the envelope's entity_id is the recharge id)."""

    account_id: Uuid
    amount_fen: Fen
    receipt_no: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]


class CashRechargeIn(CashRechargeOp):
    id: Uuid = Field(description="Made by the client: sending it again is a no-op")


class CashRechargeOut(BaseModel):
    id: str
    receipt_no: str
    account_id: str
    amount_fen: int
    agent_id: str
    collected_at: datetime
    ledger_entry_id: str
    balance_after_fen: int
    duplicate: bool = False


class CashReceiptLine(BaseModel):
    id: str
    receipt_no: str
    account_id: str
    account_no: str
    amount_fen: int
    collected_at: datetime
    recorded_at: datetime


class CashSummaryOut(BaseModel):
    agent_id: str
    agent_name: str
    day: date
    count: int
    total_fen: int
    receipts: list[CashReceiptLine]


# -- ledger and balance --------------------------------------------------------------------
class LedgerEntryOut(BaseModel):
    id: str
    seq: int
    kind: str
    amount_fen: int
    balance_after_fen: int
    meter_id: str | None
    source_type: str
    source_id: str
    billing_month: str | None
    billing_day: date | None
    actor_id: str | None
    actor_role: str | None
    reason: str | None
    occurred_at: datetime
    recorded_at: datetime
    data: dict[str, Any]


class LedgerPage(BaseModel):
    items: list[LedgerEntryOut]
    total: int


class BalanceOut(BaseModel):
    account_id: str
    account_no: str
    balance_fen: int
    ledger_sum_fen: int
    alert_level: str
    supply_state: str
    days_left: str | None
    care_flag: bool
    meter_no: str | None
    purchase_count: int | None
    month: str
    month_usage_kwh: str
    month_cost_fen: int
    tier: int | None
    pending_command: str | None = Field(
        default=None, description="disconnect / reconnect queued or sent, not yet acknowledged")


class UsageDayOut(BaseModel):
    day: date
    usage_kwh: str
    cost_fen: int
    mtd_usage_kwh: str
    mtd_cost_fen: int
    tier: int
    estimated: bool


class UsageMonthOut(BaseModel):
    month: str
    usage_kwh: str
    cost_fen: int
    charged_fen: int
    top_tier: int
    days: list[UsageDayOut]


class CorrectionIn(Strict):
    id: Uuid = Field(description="Made by the client: sending it again is a no-op")
    amount_fen: Fen = Field(description="Signed: positive credits the customer")
    reason: Reason


class RefundIn(Strict):
    id: Uuid
    amount_fen: Fen = Field(description="Paid back to the customer (positive)")
    reason: Reason


class PurchaseCountIn(Strict):
    id: Uuid | None = Field(default=None, description="Made by the client (idempotency)")
    new_count: StrictInt
    expected_count: StrictInt | None = Field(
        default=None, description="The count the user saw; refused if it changed since")
    reason: Reason


class PurchaseCountOut(BaseModel):
    id: str
    meter_id: str
    meter_no: str | None = None
    account_id: str | None
    station_id: str
    old_count: int
    new_count: int
    reason: str
    actor_id: str
    actor_role: str
    at: datetime


class PurchaseCountPage(BaseModel):
    items: list[PurchaseCountOut]
    total: int


# -- tariffs, policy ------------------------------------------------------------------------
class TariffIn(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32,
                                           pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, StringConstraints(max_length=100), OneLine] = ""
    customer_type: CustomerType
    effective_from: date
    data: dict[str, Any] = Field(description='{"prices": ["0.588", ...], "seasons": '
                                             '[{"months": [3, 4, 5], "bounds_kwh": [180, 350]}]}')


class TariffOut(BaseModel):
    id: str
    code: str
    name: str
    customer_type: CustomerType
    effective_from: date
    data: dict[str, Any]


class PolicyIn(Strict):
    low_balance_fen: StrictInt | None = None
    low_days: StrictInt | None = None
    overdraft_limit_fen: StrictInt | None = None
    recent_days: StrictInt | None = None


class PolicyOut(BaseModel):
    low_balance_fen: int
    low_days: int
    overdraft_limit_fen: int
    recent_days: int
    version: int


# -- readings, runs, checks ----------------------------------------------------------------
class ReadingRowIn(BaseModel):
    """One row as the metering system exports it (checked row by row, not all-or-nothing)."""

    model_config = ConfigDict(extra="forbid")
    meter_no: Any = None
    read_at: Any = None
    value_kwh: Any = None
    source: Any = None


class ImportIn(Strict):
    rows: list[ReadingRowIn] = Field(max_length=20_000)


class ImportRowOut(BaseModel):
    line: int
    meter_no: str
    status: str
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class ImportOut(BaseModel):
    summary: dict[str, int]
    rerated_accounts: int
    adjusted_fen: int
    rejected: list[ImportRowOut]


class ChargeRunIn(Strict):
    day: date


class ChargeRunOut(BaseModel):
    day: date
    accounts: int
    charged: int
    total_fen: int
    errors: list[str]


class MismatchOut(BaseModel):
    account_id: str
    account_no: str
    balance_fen: int
    ledger_sum_fen: int
    entries: int
    problem: str


class LedgerCheckOut(BaseModel):
    accounts_checked: int
    ok: bool
    mismatches: list[MismatchOut]
