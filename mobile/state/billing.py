"""The customer's money screens: balance cards with their alert state, the inbox, and an
account's history (ledger entries) with usage by day and by month and the tier reached.

Everything here is read from synced rows (``account``, ``meter``, ``ledger_entry``,
``notification``, ``meter_reading``); balances are the server's as of the last sync.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import flet as ft

from mobile.services.backend import Backend, Row
from mobile.state.common import parse_dt
from shared.billing.tariff import Schedule, default_versions, flatten
from shared.enums import CustomerType
from shared.money import format_fen

ALERTS = ("ok", "low", "arrears")
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BalanceCard:
    account_id: str
    account_no: str
    balance_fen: int
    balance: str
    alert: str  # ok | low | arrears
    supply_off: bool
    care: bool
    meter_id: str | None
    meter_no: str | None
    purchase_count: int | None

    @property
    def notice_key(self) -> str | None:
        """What the card says besides the amount (None: nothing to say)."""
        if self.alert == "arrears" and self.care:
            return "supply_off_care"
        if self.supply_off:
            return "supply_off"
        if self.alert in ("low", "arrears"):
            return f"alert_{self.alert}"
        return None


def balance_card(account: Row, meters: list[Row]) -> BalanceCard:
    meter = next((m for m in meters if m.get("account_id") == account["id"]
                  and m.get("status") == "installed"), None)
    balance = int(account.get("balance_fen") or 0)
    alert = str(account.get("alert_level") or "")
    if alert not in ALERTS:  # a row from before billing: judge by the amount
        alert = "arrears" if balance < 0 else "ok"
    return BalanceCard(
        account_id=account["id"], account_no=account.get("account_no") or "",
        balance_fen=balance, balance=format_fen(balance), alert=alert,
        supply_off=account.get("supply_state") == "off", care=bool(account.get("care_flag")),
        meter_id=(meter or {}).get("id"), meter_no=(meter or {}).get("meter_no"),
        purchase_count=(meter or {}).get("purchase_count"))


def balance_cards(backend: Backend) -> dict[str, BalanceCard]:
    meters = backend.rows("meter")
    return {a["id"]: balance_card(a, meters) for a in backend.rows("account")}


# -- inbox ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Message:
    id: str
    kind: str
    title: str
    body: str
    at: datetime | None
    unread: bool
    work_order_id: str | None = None


@ft.observable
@dataclass
class InboxState:
    backend: Backend
    lang: str = "zh"
    messages: list[Message] = field(default_factory=list)

    def reload(self) -> None:
        en = self.lang == "en"
        read = self.backend.read_notes()
        out = []
        for n in self.backend.rows("notification"):
            title = (n.get("title_en") if en else n.get("title_zh")) or n.get("title_zh") or ""
            body = (n.get("body_en") if en else n.get("body_zh")) or n.get("body_zh") or ""
            data = n.get("data") if isinstance(n.get("data"), dict) else {}
            out.append(Message(n["id"], str(n.get("kind") or ""), str(title), str(body),
                               parse_dt(n.get("created_at")),
                               n.get("read_at") is None and n["id"] not in read,
                               data.get("work_order_id")))
        self.messages = sorted(out, key=lambda m: (m.at or _EARLIEST, m.id), reverse=True)

    @property
    def unread(self) -> int:
        return sum(1 for m in self.messages if m.unread)

    def open(self, message_id: str) -> str | None:
        """The user read a message: it is marked read; returns its job to open, if any."""
        msg = next((m for m in self.messages if m.id == message_id), None)
        if msg is None:
            return None
        if msg.unread:
            self.backend.mark_read([msg.id])
            self.reload()
        return msg.work_order_id

    def mark_all_read(self) -> None:
        self.backend.mark_read([m.id for m in self.messages if m.unread])
        self.reload()


# -- history and usage ------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerLine:
    id: str
    seq: int
    kind: str
    amount_fen: int
    amount: str  # signed, e.g. +¥100.00 / -¥3.52
    balance_after: str
    at: datetime | None
    receipt_no: str | None


@dataclass(frozen=True)
class UsageBar:
    label: str  # "11-27" or "2026-11"
    kwh: float
    tier: int  # tier of the month's usage at the end of this day / month


def daily_centi(readings: list[Row]) -> dict[date, int]:
    """Usage per day (hundredths of kWh) from cumulative register readings."""
    by_day: dict[date, int] = {}
    for r in readings:
        if r.get("source") == "swap_start":
            continue
        day = date.fromisoformat(str(r.get("read_date")))
        by_day[day] = max(by_day.get(day, 0), int(r.get("value_centi") or 0))
    days = sorted(by_day)
    return {b: max(by_day[b] - by_day[a], 0) for a, b in itertools.pairwise(days)}


def schedule_for(account: Row | None) -> Schedule:
    kind = CustomerType((account or {}).get("customer_type") or CustomerType.RESIDENTIAL)
    return flatten(default_versions(), kind)


def usage_bars(usage: dict[date, int], schedule: Schedule
               ) -> tuple[list[UsageBar], list[UsageBar]]:
    """(by day, by month): each bar with the tier the month's running usage had reached
    (tier bounds from ``shared.billing``, seasonal by month)."""
    months: dict[tuple[int, int], int] = defaultdict(int)
    days: list[UsageBar] = []
    for day in sorted(usage):
        key = (day.year, day.month)
        months[key] += usage[day]
        version = schedule.on(day)
        days.append(UsageBar(f"{day:%m-%d}", usage[day] / 100,
                             version.tier_at(day.month, max(months[key] - 1, 0))))
    by_month = []
    for (y, m), centi in sorted(months.items()):
        version = schedule.on(date(y, m, 1))
        by_month.append(UsageBar(f"{y}-{m:02d}", centi / 100,
                                 version.tier_at(m, max(centi - 1, 0))))
    return days, by_month


@ft.observable
@dataclass
class HistoryState:
    backend: Backend
    account_id: str
    lines: list[LedgerLine] = field(default_factory=list)
    days: list[UsageBar] = field(default_factory=list)
    months: list[UsageBar] = field(default_factory=list)
    by: str = "day"  # day | month
    card: BalanceCard | None = None

    def reload(self) -> None:
        account = self.backend.row("account", self.account_id)
        if account is not None:
            self.card = balance_card(account, self.backend.rows("meter"))
        entries = [e for e in self.backend.rows("ledger_entry")
                   if e.get("account_id") == self.account_id]
        out = []
        for e in sorted(entries, key=lambda e: int(e.get("seq") or 0), reverse=True):
            amount = int(e.get("amount_fen") or 0)
            data = e.get("data") or {}
            out.append(LedgerLine(
                str(e["id"]), int(e.get("seq") or 0), str(e.get("kind") or ""), amount,
                ("+" if amount > 0 else "") + format_fen(amount),
                format_fen(int(e.get("balance_after_fen") or 0)), parse_dt(e.get("occurred_at")),
                data.get("receipt_no") if isinstance(data, dict) else None))
        self.lines = out
        readings = [r for r in self.backend.rows("meter_reading")
                    if r.get("account_id") == self.account_id]
        self.days, self.months = usage_bars(daily_centi(readings), schedule_for(account))
        self.days = self.days[-31:]

    def show(self, by: str) -> None:
        if by not in ("day", "month"):
            raise ValueError(by)
        self.by = by

    @property
    def bars(self) -> list[UsageBar]:
        return self.days if self.by == "day" else self.months
