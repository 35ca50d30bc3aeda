"""The customer's accounts: balance (with the time it was true), meter, daily usage."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

import flet as ft

from mobile.i18n import fmt_time, t
from mobile.services.backend import Backend, Row
from shared.money import format_fen

USAGE_DAYS = 30


@dataclass(frozen=True)
class UsageDay:
    day: date
    kwh: float


@dataclass(frozen=True)
class AccountCard:
    id: str
    account_no: str
    name: str
    address: str
    balance: str
    balance_low: bool
    meter_no: str
    care: bool
    usage: tuple[UsageDay, ...]


def daily_usage(readings: list[Row], days: int = USAGE_DAYS) -> list[UsageDay]:
    """kWh used each day, from a meter's cumulative daily register readings."""
    by_day: dict[str, int] = {}
    for r in readings:
        day = str(r.get("read_date"))
        value = int(r.get("value_centi") or 0)
        if r.get("source") in ("swap_start",):
            continue
        by_day[day] = max(by_day.get(day, 0), value)
    ordered = sorted(by_day.items())
    out: list[UsageDay] = []
    for (_, before), (day, after) in itertools.pairwise(ordered):
        used = max(after - before, 0) / 100
        out.append(UsageDay(date.fromisoformat(day), used))
    return out[-days:]


@ft.observable
@dataclass
class AccountsState:
    backend: Backend
    cards: list[AccountCard] = field(default_factory=list)
    loaded: bool = False

    def reload(self) -> None:
        meters = self.backend.rows("meter")
        readings = self.backend.rows("meter_reading")
        out = []
        for a in sorted(self.backend.rows("account"), key=lambda r: r.get("account_no") or ""):
            meter = next((m for m in meters if m.get("account_id") == a["id"]
                          and m.get("status") == "installed"), None)
            mine = [r for r in readings if r.get("account_id") == a["id"]]
            balance = int(a.get("balance_fen") or 0)
            out.append(AccountCard(
                id=a["id"], account_no=a.get("account_no") or "", name=a.get("name") or "",
                address=a.get("address") or "", balance=format_fen(balance),
                balance_low=balance < 2000, meter_no=(meter or {}).get("meter_no") or "—",
                care=bool(a.get("care_flag")), usage=tuple(daily_usage(mine))))
        self.cards = out
        self.loaded = True

    @staticmethod
    def as_of(last_success: datetime | None, online: bool | None, lang: str) -> str:
        """The balance is the server's as of the last successful sync."""
        return t("as_of", lang, time=fmt_time(last_success, lang))
