"""The station counter's cash sheet: each agent's cash of a day (count, total, receipts)
and a confirm action for the hand-over (count and total as recorded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.state.common import Now, default_clock
from shared.timeutil import LOCAL_TZ


@ft.observable
@dataclass
class CashSheetState:
    octx: OfficeContext = field(compare=False, repr=False)
    day: date | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""
    message: str = ""
    loaded: bool = False
    clock: Now = field(default=default_clock, compare=False, repr=False)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    async def load(self) -> None:
        self.day = self.day or self.clock().astimezone(LOCAL_TZ).date()
        try:
            self.items = await self.octx.call(self.octx.client.get,
                                              "/api/v1/billing/cash-handovers",
                                              day=self.day.isoformat())
        except OfficeError as exc:
            self.error = exc.message
            return
        self.loaded, self.error = True, ""

    async def step(self, days: int) -> None:
        assert self.day is not None
        self.day = self.day + timedelta(days=days)
        await self.load()

    async def confirm(self, agent_id: str) -> None:
        """Confirm what the sheet shows for the agent (the counter counted it)."""
        row = next(r for r in self.items if r["agent_id"] == agent_id)
        try:
            await self.octx.call(self.octx.client.post, "/api/v1/billing/cash-handovers", {
                "agent_id": agent_id, "day": str(row["day"]), "receipt_count": row["count"],
                "total_fen": row["total_fen"]})
        except OfficeError as exc:
            self.error = exc.message
            return
        self.message = t("handover_done", self.lang, name=row["agent_name"])
        await self.load()
