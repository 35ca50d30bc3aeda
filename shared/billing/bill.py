"""A monthly bill (月度账单) of one account, from its ledger: the balance at both ends, the
charges, recharges and other entries of the month, and the month's usage split by tier at
the tariff's prices. Pure: the phone (synced ledger rows) and any server code share it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shared.billing.ledger import EntryKind
from shared.billing.tariff import Schedule, price_text, tier_breakdown
from shared.timeutil import LOCAL_TZ

RECHARGES = frozenset({EntryKind.RECHARGE_ONLINE.value, EntryKind.RECHARGE_CASH.value})


@dataclass(frozen=True)
class BillLine:
    at: datetime
    kind: str
    amount_fen: int
    balance_after_fen: int
    receipt_no: str | None = None


@dataclass(frozen=True)
class TierLine:
    tier: int
    kwh: float
    price: str  # yuan per kWh, as the tariff states it
    cost_fen: int


@dataclass(frozen=True)
class Bill:
    account_no: str
    name: str
    address: str
    month: str  # "2026-11"
    opening_fen: int
    closing_fen: int
    charges_fen: int  # usage charges (negative or zero)
    recharges_fen: int
    other_fen: int  # corrections, refunds, adjustments, opening balance
    usage_kwh: float
    tiers: tuple[TierLine, ...]
    lines: tuple[BillLine, ...] = field(default_factory=tuple)

    @property
    def balanced(self) -> bool:
        """Opening + everything in the month = closing (the ledger's own arithmetic)."""
        return (self.opening_fen + self.charges_fen + self.recharges_fen + self.other_fen
                == self.closing_fen)


def month_of(at: datetime) -> str:
    return f"{at.astimezone(LOCAL_TZ):%Y-%m}"


def parse_month(month: str) -> date:
    return date.fromisoformat(f"{month}-01")


def months_with_entries(entries: Iterable[Mapping[str, Any]], at_of: Any) -> list[str]:
    """The months an account has ledger entries in, newest first."""
    return sorted({month_of(at_of(e)) for e in entries if at_of(e) is not None}, reverse=True)


def build(*, account: Mapping[str, Any], entries: Iterable[Mapping[str, Any]], month: str,
          schedule: Schedule, at_of: Any) -> Bill:
    """The bill of ``month`` ("YYYY-MM", local time) from the account's ledger entries
    (rows with ``seq``, ``kind``, ``amount_fen``, ``balance_after_fen``, ``data``;
    ``at_of(entry)`` gives when each happened)."""
    first = parse_month(month)
    ordered = sorted(entries, key=lambda e: int(e.get("seq") or 0))
    # an account with no ledger yet (data from before it): its balance, unchanged
    opening = 0 if ordered else int(account.get("balance_fen") or 0)
    inside: list[Mapping[str, Any]] = []
    for e in ordered:
        at = at_of(e)
        if at is None:
            continue
        m = month_of(at)
        if m < month:
            opening = int(e.get("balance_after_fen") or 0)
        elif m == month:
            inside.append(e)
    closing = int(inside[-1].get("balance_after_fen") or 0) if inside else opening
    charges = sum(int(e["amount_fen"]) for e in inside
                  if e.get("kind") == EntryKind.USAGE_CHARGE.value)
    recharges = sum(int(e["amount_fen"]) for e in inside if e.get("kind") in RECHARGES)
    other = sum(int(e["amount_fen"]) for e in inside) - charges - recharges
    usage_centi = 0
    for e in inside:  # the month's running usage, as the last charge run rated it
        raw = e.get("data")
        data: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        if e.get("kind") == EntryKind.USAGE_CHARGE.value and data.get("mtd_usage_centi"):
            usage_centi = max(usage_centi, int(data["mtd_usage_centi"]))
    version = schedule.on(first)
    tiers = tuple(
        TierLine(tier, centi / 100, price_text(price),
                 round(centi * price / 10_000))  # centi-kWh x (yuan/10^4 per kWh) -> fen
        for tier, centi, price in tier_breakdown(usage_centi, version, first.month))
    lines = tuple(BillLine(at_of(e), str(e.get("kind")), int(e["amount_fen"]),
                           int(e.get("balance_after_fen") or 0),
                           (e.get("data") or {}).get("receipt_no")
                           if isinstance(e.get("data"), dict) else None) for e in inside)
    return Bill(account_no=str(account.get("account_no") or ""),
                name=str(account.get("name") or ""), address=str(account.get("address") or ""),
                month=month, opening_fen=opening, closing_fen=closing, charges_fen=charges,
                recharges_fen=recharges, other_fen=other, usage_kwh=usage_centi / 100,
                tiers=tiers, lines=lines)
