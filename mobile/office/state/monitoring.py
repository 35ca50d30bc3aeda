"""The grid-monitoring desk: county and station overview, the areas of a day with their
flags, drill-down into one area (its meters, most suspect first; the transformer's load
curve; the line-loss trend against its norm; its anomalies), the collection heat map and
the failing meters, and the anomaly list with each anomaly's job and finding. Every table
exports as CSV or Excel through the server's export (headings in the user's language).

Plain observable state over the office client (``MonitoringApi``); the pure helpers below
(formatting, flags, chart series, heat colours) are what the view draws.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.client_monitoring import MonitoringApi
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.live import Change

TABS = ("overview", "collection", "anomalies")
#: The columns each screen shows of the server's tables (the export has them all).
SHOWN: dict[str, tuple[str, ...]] = {
    "stations": ("station_code", "station", "areas", "collection_rate", "supply_kwh",
                 "sales_kwh", "loss_rate", "areas_loss_high", "areas_loss_negative",
                 "areas_overload", "open_anomalies", "open_jobs"),
    "areas": ("area", "area_class", "meters_due", "collection_rate",  # code: the open button
              "supply_kwh", "sales_kwh", "loss_rate", "baseline_loss", "peak_load_rate",
              "open_anomalies"),
    "meters": ("meter_no", "account_no", "customer", "day_kwh", "actual_intervals",
               "estimated_intervals", "recent_kwh_per_day", "history_kwh_per_day",
               "suspect_score", "anomalies"),
    "anomalies": ("kind", "status", "area_code", "meter_no", "first_day", "last_day",
                  "work_order_code", "work_order_status", "assignee", "finding",
                  "follow_up_code"),
    "failing_meters": ("meter_no", "area_code", "account_no", "failed_days", "last_data_at",
                       "last_register_kwh"),
}
RATE_KEYS = frozenset({"collection_rate", "loss_rate", "baseline_loss", "peak_load_rate",
                       "norm_low", "norm_high", "load_rate"})


# -- pure helpers -----------------------------------------------------------------------
def pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f}%"


def cell(key: str, value: Any, lang: str) -> str:
    """A table value as the screen shows it."""
    if value is None or value == "":
        return "—"
    if key in RATE_KEYS:
        return pct(value)
    if isinstance(value, bool):
        return t("yes" if value else "no", lang)
    if key == "kind":
        return t(f"anom_{value}", lang)
    if key == "area_class":
        return t(f"class_{value}", lang)
    if key == "status" and value in ("open", "job", "resolved", "cleared"):
        return t(f"anom_{value}", lang)
    if key == "finding":
        return t(f"outcome_{value}", lang)
    if key == "anomalies":
        return ", ".join(t(f"anom_{k}", lang) for k in str(value).split(",") if k)
    if key == "work_order_status":
        from mobile.office.i18n import label

        return label(str(value), lang)
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def area_flags(row: dict[str, Any]) -> list[tuple[str, str]]:
    """(string key, severity) of what is wrong with an area's day: ``bad`` or ``warn``."""
    out: list[tuple[str, str]] = []
    flag = row.get("loss_flag")
    if flag == "high":
        out.append(("flag_loss_high", "bad"))
    elif flag == "negative":
        out.append(("flag_loss_negative", "bad"))
    elif flag == "low":
        out.append(("flag_loss_low", "warn"))
    elif flag == "no_supply":
        out.append(("flag_loss_no_supply", "warn"))
    if row.get("loss_jump"):
        out.append(("flag_jump", "warn"))
    if row.get("reliable") is False:
        out.append(("flag_unreliable", "warn"))
    if row.get("load_flag") == "overload":
        out.append(("flag_overload", "bad"))
    elif row.get("load_flag") == "heavy":
        out.append(("flag_heavy", "warn"))
    if row.get("collection_flagged"):
        out.append(("flag_collection", "warn"))
    return out


def load_points(load: dict[str, Any]) -> list[tuple[int, float, bool]]:
    """(slot, load rate in %, estimated) of the day's 96 points that arrived."""
    return [(int(p["slot"]), round(float(p["load_rate"]) * 100, 2), bool(p.get("estimated")))
            for p in load.get("points") or [] if p.get("load_rate") is not None]


@dataclass(frozen=True)
class LossTrend:
    labels: list[str]  # period per x
    points: list[tuple[int, float, bool]]  # (x, loss %, reliable)
    norm_low: float  # %
    norm_high: float  # %


def loss_trend(table: dict[str, Any]) -> LossTrend:
    rows = table.get("rows") or []
    pts = [(i, round(float(r["loss_rate"]) * 100, 2), bool(r.get("reliable", True)))
           for i, r in enumerate(rows) if r.get("loss_rate") is not None]
    lows = [r["norm_low"] for r in rows if r.get("norm_low") is not None]
    highs = [r["norm_high"] for r in rows if r.get("norm_high") is not None]
    return LossTrend([str(r.get("period")) for r in rows], pts,
                     round(float(lows[-1]) * 100, 2) if lows else 0.0,
                     round(float(highs[-1]) * 100, 2) if highs else 10.0)


def heat_level(rate: float | None, target: float) -> str:
    """none | ok | warn | bad: a heat-map cell's colour."""
    if rate is None:
        return "none"
    if rate >= target:
        return "ok"
    return "warn" if rate >= 0.9 else "bad"


def columns(table: dict[str, Any], name: str) -> list[dict[str, str]]:
    """The columns of a server table this screen shows, in the screen's order."""
    want = SHOWN.get(name)
    cols = table.get("columns") or []
    if want is None:
        return list(cols)
    by_key = {c["key"]: c for c in cols}
    return [by_key[k] for k in want if k in by_key]


# -- the screen's state -------------------------------------------------------------------
@ft.observable
@dataclass
class MonitoringState:
    octx: OfficeContext = field(compare=False, repr=False)
    tab: str = "overview"
    overview: dict[str, Any] | None = None
    areas: dict[str, Any] | None = None
    area_id: str | None = None
    area: dict[str, Any] | None = None
    load: dict[str, Any] | None = None
    loss: dict[str, Any] | None = None
    heatmap: dict[str, Any] | None = None
    failing: dict[str, Any] | None = None
    anomalies: dict[str, Any] | None = None
    open_only: bool = False
    error: str = ""
    notice: str = ""
    loading: bool = False

    @property
    def api(self) -> MonitoringApi:
        return MonitoringApi(self.octx.client)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def day(self) -> date | None:
        got = (self.area or self.overview or {}).get("day")
        return date.fromisoformat(got) if got else None

    async def _get(self, fn: Any, *args: Any, **kw: Any) -> Any:
        try:
            got = await self.octx.call(fn, *args, **kw)
        except OfficeError as exc:
            self.error = exc.message
            return None
        return got

    async def load_tab(self) -> None:
        """Load what the current screen shows (one or a few requests)."""
        self.loading, self.error = True, ""
        try:
            if self.area_id is not None:
                await self._load_area()
            elif self.tab == "overview":
                self.overview = await self._get(self.api.overview)
                self.areas = await self._get(self.api.areas)
            elif self.tab == "collection":
                self.heatmap = await self._get(self.api.heatmap)
                self.failing = await self._get(self.api.failing)
            else:
                self.anomalies = await self._get(self.api.anomalies,
                                                 open_only=self.open_only)
        finally:
            self.loading = False

    async def _load_area(self) -> None:
        area_id = self.area_id
        assert area_id is not None
        # the three requests at once: the area opens with its charts, one round trip later
        area, load, loss = await asyncio.gather(self._get(self.api.area, area_id),
                                                self._get(self.api.load, area_id),
                                                self._get(self.api.loss, area_id))
        if self.area_id == area_id:  # (not if the person went back meanwhile)
            self.area, self.load, self.loss = area, load, loss

    async def set_tab(self, tab: str) -> None:
        if tab not in TABS:
            raise ValueError(tab)
        self.tab, self.area_id, self.area, self.notice = tab, None, None, ""
        await self.load_tab()

    async def open_area(self, area_id: str) -> None:
        self.area_id, self.notice = area_id, ""
        await self.load_tab()

    async def close_area(self) -> None:
        self.area_id, self.area, self.load, self.loss = None, None, None, None
        await self.load_tab()

    async def set_open_only(self, value: bool) -> None:
        self.open_only = value
        await self.load_tab()

    async def export(self, table: str, fmt: str) -> tuple[str, bytes] | None:
        """The file of one of the screen's tables: (file name, bytes)."""
        filters: dict[str, Any] = {}
        if table in ("meters", "loss"):
            filters["area_id"] = self.area_id
        if table in ("stations", "areas", "meters", "failing") and self.day is not None:
            filters["day"] = self.day
        if table == "anomalies" and self.open_only:
            filters["status"] = "open"
        data = await self._get(self.api.export, table, fmt, **filters)
        if data is None:
            return None
        name = f"gridone-{table}-{self.day.isoformat() if self.day else 'latest'}.{fmt}"
        self.notice = t("mon_exported", self.lang, name=name)
        return name, data

    def shown_jobs(self) -> set[str]:
        """The jobs on screen (the live feed reloads when one of them changes)."""
        tables = [self.anomalies.get("table") if self.anomalies else None,
                  self.area.get("anomalies") if self.area else None]
        return {r["work_order_id"] for tb in tables if tb for r in tb.get("rows") or []
                if r.get("work_order_id")}

    async def on_changes(self, change: Change) -> None:
        """A job changed (a crew's finding synced, the office acted): reload what shows
        anomalies; the overview's open-job counts follow on any job change."""
        if change.everything or change.touches(self.shown_jobs()) or (
                self.tab == "overview" and self.area_id is None and change.order_ids):
            await self.load_tab()
