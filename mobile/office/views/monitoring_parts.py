"""The monitoring desk's pieces: KPI tiles, flag chips, server tables with their export
buttons, the load curve and the line-loss trend (``flet-charts``) and the collection heat
map (a grid of cells: areas down, days across)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import flet as ft
import flet_charts as fch

from mobile import theme
from mobile.components.charts import axis_range
from mobile.office.i18n import t
from mobile.office.state.monitoring import (
    area_flags,
    cell,
    columns,
    heat_level,
    load_points,
    loss_trend,
    pct,
)

SEVERITY = {"bad": theme.DANGER, "warn": theme.WARNING}
HEAT = {"ok": ft.Colors.GREEN_400, "warn": ft.Colors.AMBER_400, "bad": ft.Colors.RED_400,
        "none": ft.Colors.GREY_300}
Runner = Callable[[Any], None]


def card(title: str | None, *controls: ft.Control, expand: bool | int = False
         ) -> ft.Control:
    items: list[ft.Control] = []
    if title:
        items.append(ft.Text(title, size=16, weight=ft.FontWeight.BOLD, color=theme.PRIMARY))
    items.extend(controls)
    return ft.Container(bgcolor=ft.Colors.WHITE, border_radius=8, padding=ft.Padding.all(12),
                        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT), expand=expand,
                        content=ft.Column(items, spacing=8))


def kpi(label_text: str, value: str, *, sub: str = "", color: str | None = None
        ) -> ft.Control:
    return ft.Container(
        bgcolor=ft.Colors.WHITE, border_radius=8, padding=ft.Padding.all(12), width=200,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        content=ft.Column([ft.Text(label_text, size=13, color=theme.MUTED),
                           ft.Text(value, size=24, weight=ft.FontWeight.BOLD, color=color),
                           ft.Text(sub, size=12, color=theme.MUTED, visible=bool(sub))],
                          spacing=2))


def flag_chips(row: dict[str, Any], lang: str) -> ft.Control:
    return ft.Row([ft.Container(
        content=ft.Text(t(key, lang), size=12, color=ft.Colors.WHITE,
                        weight=ft.FontWeight.W_600),
        bgcolor=SEVERITY[sev], border_radius=10,
        padding=ft.Padding.symmetric(horizontal=8, vertical=2))
        for key, sev in area_flags(row)], spacing=4, wrap=True, width=220)


def export_buttons(table: str, title: str, lang: str, on_export: Callable[[str, str], Any]
                   ) -> ft.Control:
    return ft.Row([
        ft.TextButton(t("mon_export_csv", lang, table=title), icon=ft.Icons.DOWNLOAD,
                      on_click=lambda _: on_export(table, "csv")),
        ft.TextButton(t("mon_export_xlsx", lang, table=title), icon=ft.Icons.TABLE_VIEW,
                      on_click=lambda _: on_export(table, "xlsx")),
    ], spacing=4)


def server_table(table: dict[str, Any] | None, name: str, lang: str, *,
                 lead: Callable[[dict[str, Any]], ft.Control] | None = None,
                 lead_label: str = "", tail: Callable[[dict[str, Any]], ft.Control] | None
                 = None, tail_label: str = "") -> ft.Control:
    """A table the server sent (``{columns, rows}``), its labels already translated;
    ``lead``/``tail`` add a cell of controls (an open button, flag chips)."""
    if not table:
        return ft.ProgressBar()
    cols = columns(table, name)
    heads = ([lead_label] if lead else []) + [c["label"] for c in cols] + (
        [tail_label] if tail else [])
    rows = []
    for r in table.get("rows") or []:
        cells: list[ft.Control] = [lead(r)] if lead else []
        cells += [ft.Text(cell(c["key"], r.get(c["key"]), lang), size=13,
                          max_lines=2, overflow=ft.TextOverflow.ELLIPSIS) for c in cols]
        if tail:
            cells.append(tail(r))
        rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in cells]))
    if not rows:
        return ft.Text(t("none_rows", lang), color=theme.MUTED)
    return ft.Row([ft.DataTable(
        columns=[ft.DataColumn(ft.Text(h, weight=ft.FontWeight.BOLD, size=12))
                 for h in heads],
        rows=rows, column_spacing=14, data_row_min_height=40, data_row_max_height=64,
        heading_row_height=40, bgcolor=ft.Colors.WHITE)], scroll=ft.ScrollMode.AUTO)


def _axis_labels(labels: list[tuple[int, str]]) -> list[fch.ChartAxisLabel]:
    return [fch.ChartAxisLabel(value=x, label=ft.Text(text, size=10)) for x, text in labels]


def _nice(value: float, step: float = 5.0) -> float:
    """``value`` rounded up to a multiple of ``step``: a round axis end."""
    return float(math.ceil(value / step) * step)


def _hline(y: float, color: str) -> fch.LineChartData:
    return fch.LineChartData(points=[fch.LineChartDataPoint(x=0, y=y),
                                     fch.LineChartDataPoint(x=95, y=y)],
                             color=color, stroke_width=1.5, dash_pattern=[6, 4], point=False)


def load_chart(load: dict[str, Any], lang: str) -> ft.Control:
    """The transformer's 96 load-rate points of the day with the heavy and overload
    lines; estimated points hollow."""
    pts = load_points(load)
    heavy = float(load.get("heavy_rate") or 0.8) * 100
    over = float(load.get("overload_rate") or 1.0) * 100
    peak = max([p[1] for p in pts] or [0.0])
    # scaled to the day's load (a lightly loaded transformer's curve is still readable);
    # the heavy and overload lines are drawn when they fall within it
    top = _nice(max(peak * 1.25, 20.0 if peak < 16 else over * 1.1))
    lines = [_hline(y, c) for y, c in ((heavy, ft.Colors.ORANGE), (over, theme.DANGER))
             if y <= top]
    series = fch.LineChartData(
        points=[fch.LineChartDataPoint(x=x, y=y, tooltip=f"{x // 4:02d}:{x % 4 * 15:02d} {y:.1f}%",
                                       point=fch.ChartCirclePoint(
                                           radius=2, color=theme.PRIMARY if not est
                                           else ft.Colors.WHITE, stroke_width=1,
                                           stroke_color=theme.PRIMARY))
                for x, y, est in pts],
        color=theme.PRIMARY, stroke_width=2, curved=False,
        below_line_bgcolor=ft.Colors.with_opacity(0.12, theme.PRIMARY))
    chart = fch.LineChart(
        data_series=[series, *lines], min_x=0, max_x=95, min_y=0, max_y=top,
        interactive=True,
        # no label at the foot: it was drawn into the first time label (the grid shows it)
        left_axis=fch.ChartAxis(label_size=44, label_spacing=top / 5, show_min=False),
        bottom_axis=fch.ChartAxis(labels=_axis_labels([(h * 4, f"{h:02d}:00")
                                                       for h in range(0, 24, 3)]),
                                  label_size=24, label_spacing=12),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_200, width=1))
    legend = t("load_legend", lang, heavy=pct(heavy / 100, 0), over=pct(over / 100, 0),
               mins=load.get("sustained_minutes") or 120)
    return ft.Column([ft.Container(chart, height=220),
                      ft.Text(legend, size=12, color=theme.MUTED)], spacing=4)


def loss_chart(table: dict[str, Any], lang: str) -> ft.Control:
    """The area's daily loss rate against its norm band (green); unreliable days hollow."""
    tr = loss_trend(table)
    ys = [p[1] for p in tr.points] + [tr.norm_low, tr.norm_high]
    lo, hi = min([*ys, 0.0]), max(ys)
    # headroom for the points' circles; labels on round values only (axis_range)
    bottom, top, step_y = axis_range(lo, hi + max(hi - lo, 5.0) * 0.05)
    n = max(len(tr.labels) - 1, 1)
    band = fch.LineChartData(
        points=[fch.LineChartDataPoint(x=0, y=tr.norm_high),
                fch.LineChartDataPoint(x=n, y=tr.norm_high)],
        color=ft.Colors.GREEN_400, stroke_width=1, point=False,
        below_line_bgcolor=ft.Colors.with_opacity(0.18, ft.Colors.GREEN),
        below_line_cutoff_y=tr.norm_low)
    floor = fch.LineChartData(
        points=[fch.LineChartDataPoint(x=0, y=tr.norm_low),
                fch.LineChartDataPoint(x=n, y=tr.norm_low)],
        color=ft.Colors.GREEN_400, stroke_width=1, point=False)
    line = fch.LineChartData(
        points=[fch.LineChartDataPoint(
            x=x, y=y, tooltip=f"{tr.labels[x]} {y:.1f}%",
            point=fch.ChartCirclePoint(radius=3.5, color=(theme.DANGER if not tr.norm_low <= y
                                                         <= tr.norm_high else theme.PRIMARY)
                                       if ok else ft.Colors.WHITE,
                                       stroke_width=1.5, stroke_color=theme.PRIMARY))
            for x, y, ok in tr.points],
        color=theme.PRIMARY, stroke_width=2)
    step = max(len(tr.labels) // 6, 1)
    chart = fch.LineChart(
        data_series=[band, floor, line], min_x=0, max_x=n,
        min_y=bottom, max_y=top,
        interactive=True,
        left_axis=fch.ChartAxis(label_size=44, label_spacing=step_y, show_min=False),
        bottom_axis=fch.ChartAxis(labels=_axis_labels(
            [(i, lab[5:]) for i, lab in enumerate(tr.labels) if i % step == 0]), label_size=24),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_200, width=1))
    return ft.Column([ft.Container(chart, height=220),
                      ft.Text(t("loss_unreliable", lang), size=12, color=theme.MUTED)],
                     spacing=4)


def heatmap(data: dict[str, Any], lang: str, on_open: Runner) -> ft.Control:
    """Areas down, days across; each cell the day's collection rate (tooltip: the rate)."""
    days: list[str] = data.get("days") or []
    target = float(data.get("target") or 0.98)
    size = max(min(int(1000 / max(len(days), 1)), 26), 10)
    head = ft.Row([ft.Container(width=150)] + [
        ft.Container(ft.Text(d[8:], size=9, color=theme.MUTED), width=size,
                     alignment=ft.Alignment.CENTER) for d in days], spacing=2)
    lines: list[ft.Control] = [head]
    for area, rates in zip(data.get("areas") or [], data.get("rates") or [], strict=False):
        cells = [ft.Container(width=size, height=size, border_radius=3,
                              bgcolor=HEAT[heat_level(r, target)],
                              tooltip=f"{area['code']} {d}: {pct(r)}")
                 for d, r in zip(days, rates, strict=False)]
        lines.append(ft.Row([ft.TextButton(area["code"], width=150,
                                           tooltip=t("mon_open_area", lang, code=area["code"]),
                                           on_click=lambda _, a=area["id"]: on_open(a)),
                             *cells], spacing=2))
    return ft.Column([ft.Row([ft.Column(lines, spacing=2)], scroll=ft.ScrollMode.AUTO),
                      ft.Text(t("heatmap_legend", lang), size=12, color=theme.MUTED)],
                     spacing=6)
