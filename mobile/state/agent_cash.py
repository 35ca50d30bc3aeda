"""The agent's screens: field cash recharge (a sync op: works offline, idempotent on the
paper receipt), the day's cash summary for handing in, and purchase-count correction
(online only: it needs the server's current count and a reason)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import flet as ft

from mobile.i18n import translate
from mobile.services.backend import Backend, Row
from mobile.state.common import Now, default_clock, off_loop
from mobile.state.recharge import parse_amount
from shared.billing.ledger import check_purchase_count, check_reason, check_receipt_no
from shared.errors import DomainError
from shared.ids import new_id
from shared.money import format_fen
from shared.numbers import parse_count
from shared.timeutil import LOCAL_TZ
from sync.client.errors import AuthRequired, PermanentError, TransientError
from sync.client.readmodel import CashLine


def find_account(accounts: list[Row], text: str) -> Row | None:
    """An account on this phone by its number (or id)."""
    wanted = text.strip()
    return next((a for a in accounts if wanted and wanted in (a.get("account_no"), a["id"])),
                None)


@dataclass(frozen=True)
class CashSummary:
    day: date
    count: int
    total_fen: int
    pending: int  # not yet on the server (or not yet pulled back)

    @property
    def total(self) -> str:
        return format_fen(self.total_fen)


def summarize(lines: list[CashLine], day: date) -> CashSummary:
    mine = [c for c in lines if c.state != "rejected"
            and c.at.astimezone(LOCAL_TZ).date() == day]
    return CashSummary(day, len(mine), sum(c.amount_fen for c in mine),
                       sum(1 for c in mine if c.state != "synced"))


@ft.observable
@dataclass
class CashState:
    backend: Backend
    lang: str = "zh"
    clock: Now = default_clock
    account_text: str = ""
    amount_text: str = ""
    receipt_text: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key / text
    error_params: dict[str, Any] = field(default_factory=dict)
    lines: list[CashLine] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    saved_seq: int = 0

    def reload(self) -> None:
        self.accounts = sorted(self.backend.rows("account"),
                               key=lambda a: a.get("account_no") or "")
        self.lines = self.backend.cash_recharges()

    @property
    def summary(self) -> CashSummary:
        return summarize(self.lines, self.clock().astimezone(LOCAL_TZ).date())

    def account_no(self, account_id: str) -> str:
        got = next((a for a in self.accounts if a["id"] == account_id), None)
        return str((got or {}).get("account_no") or account_id[:8])

    def submit(self) -> bool:
        """Check the three fields, queue the op. True when it was recorded."""
        self.errors, self.error_params = {}, {}
        account = find_account(self.accounts, self.account_text)
        if account is None:
            self.errors["account"] = "cash_unknown_account"
            self.error_params = {"no": self.account_text.strip()}
        fen, receipt = None, ""
        try:
            fen = parse_amount(self.amount_text)
        except DomainError:
            self.errors["amount"] = "amount_invalid"
        try:
            receipt = check_receipt_no(self.receipt_text)
        except DomainError as exc:
            self.errors["receipt"] = translate(exc.code, self.lang, **exc.details)
        if self.errors or account is None or fen is None:
            return False
        try:
            self.backend.cash_recharge(account_id=account["id"], amount_fen=fen,
                                       receipt_no=receipt)
        except DomainError as exc:
            self.errors["form"] = translate(exc.code, self.lang, **exc.details)
            return False
        self.account_text = self.amount_text = self.receipt_text = ""
        self.saved_seq += 1
        self.reload()
        return True


@ft.observable
@dataclass
class CountFixState:
    backend: Backend
    lang: str = "zh"
    meter_text: str = ""
    count_text: str = ""
    reason_text: str = ""
    error: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)
    busy: bool = False
    result: dict[str, Any] | None = None
    _id: str = ""

    def meter(self) -> Row | None:
        wanted = self.meter_text.strip()
        if not wanted:
            return None
        meters = self.backend.rows("meter")
        found = next((m for m in meters if m.get("meter_no") == wanted), None)
        if found is None:
            account = find_account(self.backend.rows("account"), wanted)
            if account is not None:
                found = next((m for m in meters if m.get("account_id") == account["id"]
                              and m.get("status") == "installed"), None)
        return found

    async def submit(self) -> None:
        self.error, self.error_params, self.result = "", {}, None
        meter = self.meter()
        if meter is None:
            self.error, self.error_params = "count_unknown_meter", {"no": self.meter_text}
            return
        try:
            new = check_purchase_count(parse_count(self.count_text))  # shared digit rule
        except (ValueError, DomainError):
            self.error = "count_invalid"
            return
        try:
            reason = check_reason(self.reason_text)
        except DomainError as exc:
            self.error = translate(exc.code, self.lang, **exc.details)
            return
        self._id = self._id or new_id()
        self.busy = True
        try:
            self.result = await off_loop(lambda: self.backend.correct_purchase_count(
                meter["id"], correction_id=self._id, new_count=new,
                expected_count=meter.get("purchase_count"), reason=reason))
            self._id = ""
        except TransientError:
            self.error = "needs_connection"
        except (PermanentError, AuthRequired) as exc:
            self.error = exc.message
            self._id = ""
        finally:
            self.busy = False

    def reload(self) -> None:
        pass


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()
