"""The monthly bill screen: one account, one month at a time (from the synced ledger, so
it works offline), and its PDF."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import flet as ft

from mobile.services.backend import Backend
from mobile.state.billing import schedule_for
from mobile.state.common import parse_dt
from shared.billing.bill import Bill, build, month_of, months_with_entries
from shared.timeutil import utcnow


def _at(entry: dict) -> object:
    return parse_dt(entry.get("occurred_at"))


@ft.observable
@dataclass
class BillState:
    backend: Backend
    account_id: str
    month: str = ""
    months: list[str] = field(default_factory=list)
    bill: Bill | None = None

    def reload(self) -> None:
        account = self.backend.row("account", self.account_id) or {}
        entries = [e for e in self.backend.rows("ledger_entry")
                   if e.get("account_id") == self.account_id]
        self.months = months_with_entries(entries, _at) or [month_of(utcnow())]
        if self.month not in self.months:
            self.month = self.months[0]
        self.bill = build(account=account, entries=entries, month=self.month,
                          schedule=schedule_for(account), at_of=_at)

    def step(self, older: bool) -> None:
        """The previous (older) or next month that has entries."""
        i = self.months.index(self.month) + (1 if older else -1)
        if 0 <= i < len(self.months):
            self.month = self.months[i]
            self.reload()

    def pdf(self, lang: str, fonts: Path | None = None) -> tuple[str, bytes]:
        from mobile.services.bill_pdf import FONTS, render

        if self.bill is None:
            self.reload()
        assert self.bill is not None
        return (f"bill-{self.bill.account_no}-{self.bill.month}.pdf",
                render(self.bill, lang, fonts or FONTS))
