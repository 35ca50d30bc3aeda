"""Performance appraisal on the office desk: a month's ranking of people or stations, one
subject's scorecard with how each figure is computed, its 6-month trend, and the jobs
behind a figure; exports of the ranking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.state.common import Now, default_clock
from shared.appraisal.figures import RANK_BY, month_of, previous_months

API = "/api/v1/appraisal"


def shift_month(month: str, by: int) -> str:
    """``month`` moved ``by`` months (-1: the previous one)."""
    if by < 0:
        return previous_months(month, 1 - by)[0]
    year, mon = (int(p) for p in month.split("-"))
    total = year * 12 + (mon - 1) + by
    return f"{total // 12:04d}-{total % 12 + 1:02d}"


@ft.observable
@dataclass
class AppraisalState:
    octx: OfficeContext = field(compare=False, repr=False)
    clock: Now = field(default=default_clock, compare=False, repr=False)
    month: str = ""
    level: str = "people"
    by: str = "conformity"
    rows: list[dict[str, Any]] = field(default_factory=list)
    loaded: bool = False
    error: str = ""
    card: dict[str, Any] | None = None
    trend: list[dict[str, Any]] = field(default_factory=list)
    drill_figure: str | None = None
    drill_jobs: list[dict[str, Any]] = field(default_factory=list)
    notice: str = ""

    def __post_init__(self) -> None:
        if not self.month:
            self.month = month_of(self.clock())

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def rank_choices(self) -> list[str]:
        return list(RANK_BY)

    async def _get(self, path: str, **params: Any) -> Any:
        try:
            got = await self.octx.call(self.octx.client.get, f"{API}{path}", **params)
        except OfficeError as exc:
            self.error = exc.message
            return None
        self.error = ""
        return got

    async def load(self) -> None:
        """The ranking for the month, level and order shown; an answer for a choice the
        user has moved on from meanwhile is dropped (the later request's answer wins)."""
        asked = (self.month, self.level, self.by)
        got = await self._get("/ranking", month=self.month, level=self.level, by=self.by)
        if got is not None and asked == (self.month, self.level, self.by):
            self.rows, self.loaded = got["rows"], True
            if self.card is not None:
                keep = next((r["card"] for r in self.rows
                             if r["card"]["subject"] == self.card["subject"]), None)
                await self.open(keep["subject"]) if keep else self.close_card()

    async def set_month(self, month: str) -> None:
        self.month = month
        await self.load()

    async def set_level(self, level: str) -> None:
        self.level = level
        self.close_card()
        await self.load()

    async def set_by(self, by: str) -> None:
        self.by = by
        await self.load()

    def close_card(self) -> None:
        self.card, self.trend, self.drill_figure, self.drill_jobs = None, [], None, []

    async def open(self, subject: str) -> None:
        card = await self._get("/scorecard", subject=subject, month=self.month)
        if card is None:
            return
        trend = await self._get("/trend", subject=subject, month=self.month, months=6)
        self.card, self.trend = card, (trend or {}).get("months", [])
        self.drill_figure, self.drill_jobs = None, []

    async def drill(self, figure: str) -> None:
        if self.card is None:
            return
        jobs = await self._get("/jobs", subject=self.card["subject"], month=self.month,
                               figure=figure)
        if jobs is not None:
            self.drill_figure, self.drill_jobs = figure, jobs

    def trend_points(self, figure: str) -> list[tuple[str, float | None]]:
        out = []
        for m in self.trend:
            fig = next((f for f in m["figures"] if f["key"] == figure), None)
            out.append((m["period"], fig["value"] if fig else None))
        return out

    async def export(self, fmt: str) -> tuple[str, bytes] | None:
        try:
            data = await self.octx.call(self.octx.client.download, f"{API}/export",
                                        month=self.month, level=self.level, by=self.by,
                                        format=fmt)
        except OfficeError as exc:
            self.error = exc.message
            return None
        return f"appraisal-{self.level}-{self.month}.{fmt}", data
