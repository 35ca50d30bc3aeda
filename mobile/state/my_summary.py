"""A staff member's own scorecard on the phone (personal work summary): fetched from the
server when online; offline, the copy from the last fetch, said as such."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import fmt_time, t
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop, parse_dt
from shared.appraisal.figures import month_of, previous_months
from sync.client.errors import AuthRequired, PermanentError, TransientError


def next_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year + (mon == 12):04d}-{mon % 12 + 1:02d}"


@ft.observable
@dataclass
class MySummaryState:
    backend: Backend = field(compare=False, repr=False)
    lang: str = "zh"
    clock: Now = field(default=default_clock, compare=False, repr=False)
    month: str = ""
    card: dict[str, Any] | None = None
    stale_note: str = ""
    error: str = ""
    loading: bool = False

    def __post_init__(self) -> None:
        if not self.month:
            self.month = month_of(self.clock())

    @property
    def is_current(self) -> bool:
        return self.month >= month_of(self.clock())

    async def load(self) -> None:
        """Fetch the shown month's card. An answer for a month no longer shown (the user
        stepped on while it was under way) is dropped: the later request's answer wins
        whichever arrives first."""
        self.loading = True
        month = self.month
        current = month == month_of(self.clock())
        try:
            card, kept = await off_loop(self.backend.my_scorecard, None if current else month)
            error = ""
        except TransientError:
            card, kept, error = None, False, t("summary_offline", self.lang)
        except (PermanentError, AuthRequired) as exc:
            card, kept, error = None, False, exc.message
        finally:
            if month == self.month:
                self.loading = False
        if month != self.month:
            return
        self.card, self.error = card, error
        if card is not None:
            self.stale_note = (t("summary_as_of", self.lang, when=fmt_time(
                parse_dt(card.get("fetched_at")), self.lang)) if kept else "")

    async def previous(self) -> None:
        self.month = previous_months(self.month, 2)[0]
        await self.load()

    async def following(self) -> None:
        if not self.is_current:
            self.month = next_month(self.month)
            await self.load()
