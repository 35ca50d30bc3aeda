"""Helpers for the billing tests: readings, charging, the ledger, signed messages, ops."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from server.billing.charging import charge_day
from server.billing.ledger import check, open_accounts
from server.billing.models import LedgerEntry
from server.billing.readings import import_rows
from server.billing.signing import derive_key, sign
from server.customers.models import Account
from server.db import Database
from server.uow import UnitOfWork
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import SECRET

PAYMENT_KEY = derive_key(SECRET, "payment-provider")
HEADEND_KEY = derive_key(SECRET, "head-end")
PRICES = (Decimal("0.588"), Decimal("0.638"), Decimal("0.888"))


def today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def month_start(months_back: int = 1) -> date:
    """The first day of a month before this one (readings there are all in the past)."""
    first = today().replace(day=1)
    for _ in range(months_back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def local(day: date, hour: int = 0, minute: int = 5) -> datetime:
    return datetime.combine(day, time(hour, minute), LOCAL_TZ)


def reading(meter_no: str, day: date, kwh: str, source: str = "actual", hour: int = 0
            ) -> dict[str, Any]:
    return {"meter_no": meter_no, "read_at": local(day, hour).isoformat(), "value_kwh": kwh,
            "source": source}


def import_readings(db: Database, rows: list[dict[str, Any]], lang: str = "en") -> Any:
    with UnitOfWork(db) as uow:
        report = import_rows(uow, rows=rows, actor=None, lang=lang)
        uow.commit()
    assert not report.rejected, [(r.line, r.code, r.message) for r in report.rejected]
    return report


def charge(db: Database, *days: date) -> list[Any]:
    return [charge_day(db, day=d) for d in days]


def entries(db: Database, account_id: str, kind: str | None = None) -> list[LedgerEntry]:
    with Session(db.reader) as s:
        stmt = select(LedgerEntry).where(LedgerEntry.account_id == account_id)
        if kind:
            stmt = stmt.where(LedgerEntry.kind == kind)
        return list(s.exec(stmt.order_by(col(LedgerEntry.seq))).all())


def balance(db: Database, account_id: str) -> int:
    with Session(db.reader) as s:
        account = s.get(Account, account_id)
        assert account is not None
        return account.balance_fen


def account_row(db: Database, account_id: str) -> Account:
    with Session(db.reader) as s:
        account = s.get(Account, account_id)
        assert account is not None
        return account


def open_all(db: Database) -> None:
    """The test world's accounts are made with a balance and no ledger: open them."""
    with UnitOfWork(db) as uow:
        open_accounts(uow, as_of=date(2000, 1, 1))  # nothing of the tests' readings is paid
        uow.commit()


def assert_ledger_ok(db: Database) -> None:
    """Every account's balance is the sum of its ledger, and the running balances chain."""
    with Session(db.reader) as s:
        assert check(s) == []


def tier_cost_fen(usage_kwh: Decimal, month: int) -> int:
    """The default residential tariff, written out independently of shared.billing."""
    bounds = (Decimal(180), Decimal(350)) if month in (3, 4, 5, 9, 10, 11) else (
        Decimal(200), Decimal(450))
    cost, lower = Decimal(0), Decimal(0)
    for price, upper in zip(PRICES, (*bounds, None), strict=True):
        top = usage_kwh if upper is None else min(usage_kwh, upper)
        if top > lower:
            cost += (top - lower) * price
        if upper is None or usage_kwh <= upper:
            break
        lower = upper
    return int((cost * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def signed(key: bytes, payload: dict[str, Any] | bytes, at: datetime | None = None
           ) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(
        payload, separators=(",", ":"), sort_keys=True).encode()
    return body, {"X-Signature": sign(key, body, at or utcnow()),
                  "Content-Type": "application/json"}


def cash_op(account_id: str, amount_fen: Any, receipt_no: str, *, seq: int = 1,
            device: str = "device-agent1-0001", entity_id: str | None = None,
            created_at: datetime | None = None) -> dict[str, Any]:
    rid = entity_id or new_id()
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"cash:{rid}", "lane_prev": None, "type": "recharge.cash@1",
            "entity_id": rid, "payload": {"account_id": account_id, "amount_fen": amount_fen,
                                          "receipt_no": receipt_no},
            "photos": [], "created_at": (created_at or utcnow()).isoformat()}


def push(api: Any, ops: list[dict[str, Any]], device: str = "device-agent1-0001") -> list[Any]:
    r = api.post("/api/v1/sync/push", json={"protocol": PROTOCOL_VERSION, "device_id": device,
                                            "sent_at": utcnow().isoformat(), "ops": ops})
    assert r.status_code == 200, r.text
    return r.json()["results"]
