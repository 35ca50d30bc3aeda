"""The grid-monitoring desk (managers, dispatchers, admins): overview of the county and its
stations with the areas of the day and their flags; an area opened shows its meters (most
suspect first), the load curve, the line-loss trend against its norm and its anomalies;
the collection heat map with the failing meters; the anomalies with their jobs and
findings. Each table has its CSV and Excel export."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.monitoring import TABS, MonitoringState, pct
from mobile.office.views.common import use_runner
from mobile.office.views.monitoring_parts import (
    card,
    export_buttons,
    flag_chips,
    heatmap,
    kpi,
    load_chart,
    loss_chart,
    server_table,
)
from mobile.state.app import AppState

TAB_KEYS = {"overview": "mon_overview", "collection": "mon_collection",
            "anomalies": "mon_anomalies"}


@ft.component
def MonitoringView(app: AppState, octx: OfficeContext) -> ft.Control:
    mon, _ = ft.use_state(lambda: octx.track(MonitoringState(octx)))
    picker, _ = ft.use_state(lambda: ft.FilePicker())
    lang = app.lang
    run = use_runner()
    ft.on_mounted(mon.load_tab)

    def export(table: str, fmt: str) -> None:
        async def go() -> None:
            got = await mon.export(table, fmt)
            if got is not None:
                await picker.save_file(file_name=got[0], src_bytes=got[1])
        run(go())

    def open_button(row: dict[str, Any]) -> ft.Control:
        return ft.TextButton(row["area_code"], icon=ft.Icons.OPEN_IN_NEW,
                             tooltip=t("mon_open_area", lang, code=row["area_code"]),
                             on_click=lambda _, a=row["area_id"]: run(mon.open_area(a)))

    tabs = ft.Row([ft.Chip(label=ft.Text(t(TAB_KEYS[k], lang)),
                           selected=mon.tab == k and mon.area_id is None, show_checkmark=False,
                           on_select=lambda _, k=k: run(mon.set_tab(k))) for k in TABS],
                  spacing=6)
    head = ft.Row([ft.Text(t("page_monitoring", lang), size=22, weight=ft.FontWeight.BOLD),
                   ft.Text(t("mon_day", lang, day=mon.day.isoformat()) if mon.day else "",
                           size=15, color=theme.MUTED),
                   tabs, ft.Container(expand=True),
                   ft.IconButton(ft.Icons.REFRESH, tooltip=t("mon_refresh", lang),
                                 on_click=lambda _: run(mon.load_tab()))],
                  spacing=16, vertical_alignment=ft.CrossAxisAlignment.CENTER)
    body: list[ft.Control] = [head]
    if mon.error:
        body.append(ft.Text(mon.error, color=theme.DANGER))
    if mon.notice:
        body.append(ft.Text(mon.notice, color=theme.OK))
    if mon.area_id is not None:
        body += _area(mon, lang, run, export)
    elif mon.tab == "overview":
        body += _overview(mon, lang, export, open_button)
    elif mon.tab == "collection":
        body += _collection(mon, lang, run, export)
    else:
        body += _anomalies(mon, lang, run, export)
    return ft.Container(padding=ft.Padding.all(14), expand=True, bgcolor=ft.Colors.GREY_50,
                        content=ft.Column(body, spacing=12, scroll=ft.ScrollMode.AUTO))


def _overview(mon: MonitoringState, lang: str, export: Any, open_button: Any
              ) -> list[ft.Control]:
    ov = mon.overview
    if ov is None:
        return [ft.ProgressBar()] if mon.loading else []
    c = ov.get("county") or {}
    if not c:
        return [ft.Text(t("mon_no_data", lang), color=theme.MUTED)]
    stations = ov.get("stations") or {}
    open_n = sum(int(r.get("open_anomalies") or 0) for r in stations.get("rows") or [])
    kpis = ft.Row([
        kpi(t("kpi_collection", lang), pct(c.get("collection_rate")),
            sub=t("kpi_target", lang, pct=pct(c.get("collection_target"), 0)),
            color=theme.DANGER if c.get("collection_flagged") else theme.OK),
        kpi(t("kpi_supply", lang), f"{c.get('supply_kwh') or 0:,.0f} kWh"),
        kpi(t("kpi_sales", lang), f"{c.get('sales_kwh') or 0:,.0f} kWh"),
        kpi(t("kpi_loss", lang), pct(c.get("loss_rate"))),
        kpi(t("kpi_open_anomalies", lang), str(open_n),
            color=theme.DANGER if open_n else theme.OK),
    ], wrap=True, spacing=10)
    areas = (mon.areas or {}).get("table")
    day = (mon.areas or {}).get("day") or ""
    return [
        ft.Text(t("county", lang), size=14, color=theme.MUTED), kpis,
        card(t("stations_title", lang), export_buttons("stations", t("stations_title", lang),
                                                       lang, export),
             server_table(stations, "stations", lang)),
        card(t("areas_title", lang, day=day),
             export_buttons("areas", t("areas_title", lang, day=day), lang, export),
             server_table(areas, "areas", lang, lead=open_button,
                          lead_label=_label(areas, "area_code"),
                          tail=lambda r: flag_chips(r, lang), tail_label="")),
    ]


def _label(table: dict[str, Any] | None, key: str) -> str:
    """A column's heading as the server named it (in the user's language)."""
    return next((c["label"] for c in (table or {}).get("columns") or [] if c["key"] == key),
                "")


def _area(mon: MonitoringState, lang: str, run: Any, export: Any) -> list[ft.Control]:
    back = ft.TextButton(t("mon_back", lang), icon=ft.Icons.ARROW_BACK,
                         on_click=lambda _: run(mon.close_area()))
    if mon.area is None:
        return [back, ft.ProgressBar()] if mon.loading else [back]
    a = mon.area.get("area") or {}
    day = mon.area.get("day") or ""
    title = ft.Row([back, ft.Text(f"{a.get('area_code', '')} · {a.get('area', '')}", size=20,
                                  weight=ft.FontWeight.BOLD),
                    ft.Text(a.get("station") or "", color=theme.MUTED), flag_chips(a, lang)],
                   spacing=12, wrap=True)
    kpis = ft.Row([
        kpi(t("kpi_loss", lang), pct(a.get("loss_rate")),
            sub=f"{pct(a.get('norm_low'), 0)}–{pct(a.get('norm_high'), 0)}",
            color=theme.DANGER if a.get("loss_flag") in ("high", "negative") else theme.OK),
        kpi(t("kpi_collection", lang), pct(a.get("collection_rate")),
            color=theme.DANGER if a.get("collection_flagged") else theme.OK),
        kpi(t("kpi_supply", lang), f"{a.get('supply_kwh') or 0:,.1f} kWh"),
        kpi(t("kpi_sales", lang), f"{a.get('sales_kwh') or 0:,.1f} kWh"),
        kpi(t("kpi_peak_load", lang), pct(a.get("peak_load_rate")),
            color=theme.DANGER if a.get("load_flag") == "overload" else None),
    ], wrap=True, spacing=10)
    charts: list[ft.Control] = []
    if mon.load is not None:
        charts.append(card(t("load_title", lang, day=mon.load.get("day") or day),
                           load_chart(mon.load, lang), expand=1))
    if mon.loss is not None:
        norm = (f"{pct(a.get('norm_low'), 0)}", f"{pct(a.get('norm_high'), 0)}")
        charts.append(card(t("loss_title", lang, low=norm[0], high=norm[1]),
                           export_buttons("loss", t("kpi_loss", lang), lang, export),
                           loss_chart(mon.loss, lang), expand=1))
    return [
        title, kpis, ft.Row(charts, spacing=12, vertical_alignment=ft.CrossAxisAlignment.START),
        card(t("area_anomalies", lang), server_table(mon.area.get("anomalies"), "anomalies",
                                                     lang)),
        card(t("meters_title", lang),
             export_buttons("meters", t("meters_title", lang), lang, export),
             server_table(mon.area.get("meters"), "meters", lang)),
    ]


def _collection(mon: MonitoringState, lang: str, run: Any, export: Any) -> list[ft.Control]:
    out: list[ft.Control] = []
    if mon.heatmap is not None:
        out.append(card(t("heatmap_title", lang),
                        export_buttons("heatmap", t("heatmap_title", lang), lang, export),
                        heatmap(mon.heatmap, lang, lambda a: run(mon.open_area(a)))))
    elif mon.loading:
        out.append(ft.ProgressBar())
    if mon.failing is not None:
        out.append(card(t("failing_title", lang),
                        export_buttons("failing", t("failing_title", lang), lang, export),
                        server_table(mon.failing.get("table"), "failing_meters", lang)))
    return out


def _anomalies(mon: MonitoringState, lang: str, run: Any, export: Any) -> list[ft.Control]:
    page = mon.anomalies
    toggle = ft.Switch(label=t("open_only", lang), value=mon.open_only,
                       on_change=lambda e: run(mon.set_open_only(bool(e.control.value))))
    if page is None:
        return [toggle, ft.ProgressBar()] if mon.loading else [toggle]
    return [card(t("anomalies_title", lang),
                 ft.Row([toggle, export_buttons("anomalies", t("anomalies_title", lang), lang,
                                                export)], spacing=16),
                 server_table(page.get("table"), "anomalies", lang))]
