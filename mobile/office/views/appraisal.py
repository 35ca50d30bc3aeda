"""Performance appraisal (managers, dispatchers, administrators): a month's ranking of
people or stations; a row opens its scorecard beside the table, each figure with how it
is computed and a link to the jobs behind it, and the 6-month trend as a chart."""

from __future__ import annotations

from typing import Any

import flet as ft
import flet_charts as fch

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.appraisal import AppraisalState, shift_month
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from shared.appraisal.figures import format_value

#: Columns of the ranking besides rank, name, role and jobs handled.
TABLE_FIGURES = ("conformity", "arrive_on_time", "first_fix", "satisfaction", "accept_min")
TREND_FIGURES = (("conformity", theme.PRIMARY), ("first_fix", theme.ACCENT),
                 ("arrive_on_time", ft.Colors.BLUE_700))


def _fig(card: dict[str, Any], key: str) -> dict[str, Any]:
    return next(f for f in card["figures"] if f["key"] == key)


def trend_chart(ap: AppraisalState, lang: str) -> ft.Control:
    series = []
    for key, color in TREND_FIGURES:
        points = [fch.LineChartDataPoint(x=i, y=v, tooltip=f"{m}: {v:.1f} %")
                  for i, (m, v) in enumerate(ap.trend_points(key)) if v is not None]
        series.append(fch.LineChartData(points=points, color=color, stroke_width=3,
                                        curved=False))
    labels = [fch.ChartAxisLabel(value=i, label=ft.Text(m["period"][2:], size=10))
              for i, m in enumerate(ap.trend)]
    legend = ft.Row([ft.Row([ft.Container(width=14, height=4, bgcolor=c),
                             ft.Text(t(f"fig_{k}", lang), size=12)], spacing=4, tight=True)
                     for k, c in TREND_FIGURES], wrap=True, spacing=12)
    chart = fch.LineChart(
        data_series=series, min_y=0, max_y=100, min_x=0, max_x=max(len(ap.trend) - 1, 1),
        interactive=True,
        left_axis=fch.ChartAxis(label_size=36, label_spacing=25),
        bottom_axis=fch.ChartAxis(labels=labels, label_size=22),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1))
    return ft.Column([ft.Text(t("ap_trend", lang), weight=ft.FontWeight.BOLD), legend,
                      ft.Container(height=180, content=chart)], spacing=6)


def figure_tile(ap: AppraisalState, fig: dict[str, Any], lang: str,
                run: Any) -> ft.Control:
    drill = fig["drill"]
    link: list[ft.Control] = []
    if drill:
        link = [ft.TextButton(t("ap_drill", lang, n=drill),
                              on_click=lambda _, k=fig["key"]: run(ap.drill(k)))]
    return ft.Container(
        width=250, height=150, padding=ft.Padding.all(10), border_radius=8,
        bgcolor=ft.Colors.WHITE, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        content=ft.Column([
            ft.Text(t(f"fig_{fig['key']}", lang), size=12, color=theme.MUTED),
            ft.Row([ft.Text(format_value(fig["value"], fig["unit"], lang), size=22,
                            weight=ft.FontWeight.BOLD),
                    ft.Text(t("ap_from_n", lang, n=fig["n"]), size=11, color=theme.MUTED)],
                   vertical_alignment=ft.CrossAxisAlignment.END),
            ft.Text(fig["how"], size=11, color=theme.MUTED),
            *link], spacing=2))


def card_panel(ap: AppraisalState, lang: str, run: Any) -> ft.Control:
    card = ap.card
    assert card is not None
    kinds = ", ".join(f"{label(k, lang)} {n}" for k, n in card["by_kind"].items()) or "—"
    body: list[ft.Control] = [
        ft.Row([ft.Text(f"{card['name']} · {card['period']}", size=18,
                        weight=ft.FontWeight.BOLD, expand=True),
                ft.IconButton(ft.Icons.CLOSE, tooltip=t("close", lang),
                              on_click=lambda _: ap.close_card())]),
        ft.Text(f"{t('ap_by_kind', lang)}: {kinds}", size=13),
        ft.Row([figure_tile(ap, f, lang, run) for f in card["figures"]], wrap=True,
               spacing=8, run_spacing=8),
        trend_chart(ap, lang),
    ]
    if ap.drill_figure:
        title = t("ap_jobs_of", lang, figure=t(f"fig_{ap.drill_figure}", lang),
                  name=card["name"], month=card["period"])
        jobs = [ft.ListTile(
            dense=True, title=ft.Text(f"{j['code']} · {label(j['kind'], lang)}"),
            subtitle=ft.Text(f"{label(j['status'], lang)} · {j['address'] or ''}"
                             f"{' · ' + '★' * j['rating'] if j['rating'] else ''}"),
            trailing=ft.Text((j["resolved_at"] or "")[:16].replace("T", " "), size=12))
            for j in ap.drill_jobs]
        body += [ft.Text(title, weight=ft.FontWeight.BOLD),
                 *(jobs or [ft.Text(t("ap_no_jobs", lang))])]
    return ft.Container(width=560, padding=ft.Padding.all(12), bgcolor=theme.SURFACE,
                        border_radius=8, content=ft.Column(body, spacing=10,
                                                           scroll=ft.ScrollMode.AUTO))


@ft.component
def AppraisalView(app: AppState, octx: OfficeContext) -> ft.Control:
    ap, _ = ft.use_state(lambda: AppraisalState(octx))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(ap.load)
    picker: list[ft.FilePicker] = []

    async def export(fmt: str) -> None:
        got = await ap.export(fmt)
        if got is None:
            return
        if not picker:
            picker.append(ft.FilePicker())
        name, data = got
        await picker[0].save_file(file_name=name, src_bytes=data)
        ap.notice = t("ap_exported", lang, name=name)

    heads = ["ap_rank", "ap_name", "ap_role", "fig_handled",
             *[f"fig_{k}" for k in TABLE_FIGURES]]
    rows = []
    for row in ap.rows:
        card = row["card"]
        ranked_by = _fig(card, ap.by)["value"] is not None
        cells = [ft.Text(str(row["rank"]) if ranked_by else "—", weight=ft.FontWeight.BOLD),
                 ft.Text(card["name"], weight=ft.FontWeight.W_600),
                 ft.Text(label(card["role"], lang) if card["role"] else ""),
                 ft.Text(str(card["handled"]))]
        cells += [ft.Text(format_value(_fig(card, k)['value'], _fig(card, k)['unit'], lang))
                  for k in TABLE_FIGURES]
        rows.append(ft.DataRow(
            cells=[ft.DataCell(c) for c in cells],
            selected=ap.card is not None and ap.card["subject"] == card["subject"],
            on_select_change=lambda _, s=card["subject"]: run(ap.open(s))))
    table = ft.DataTable(
        columns=[ft.DataColumn(ft.Text(t(h, lang), weight=ft.FontWeight.BOLD, size=13),
                               numeric=h not in ("ap_name", "ap_role"))
                 for h in heads],
        rows=rows, column_spacing=18, show_checkbox_column=False, bgcolor=ft.Colors.WHITE,
        border_radius=8, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    bar = ft.Row([
        ft.TextButton(t("ap_prev", lang), icon=ft.Icons.CHEVRON_LEFT,
                      on_click=lambda _: run(ap.set_month(shift_month(ap.month, -1)))),
        ft.Text(ap.month, size=16, weight=ft.FontWeight.BOLD),
        ft.TextButton(t("ap_next", lang), icon=ft.Icons.CHEVRON_RIGHT,
                      on_click=lambda _: run(ap.set_month(shift_month(ap.month, 1)))),
        ft.Chip(label=ft.Text(t("ap_people", lang)), selected=ap.level == "people",
                show_checkmark=False, on_select=lambda _: run(ap.set_level("people"))),
        ft.Chip(label=ft.Text(t("ap_stations", lang)), selected=ap.level == "stations",
                show_checkmark=False, on_select=lambda _: run(ap.set_level("stations"))),
        ft.Dropdown(label=t("ap_rank_by", lang), value=ap.by, width=220, dense=True,
                    options=[ft.DropdownOption(key=k, text=t(f"fig_{k}", lang))
                             for k in ap.rank_choices],
                    on_select=lambda e: run(ap.set_by(e.control.value))),
        ft.OutlinedButton(t("ap_export_csv", lang), icon=ft.Icons.DOWNLOAD,
                          on_click=lambda _: run(export("csv"))),
        ft.OutlinedButton(t("ap_export_xlsx", lang), icon=ft.Icons.TABLE_VIEW,
                          on_click=lambda _: run(export("xlsx"))),
    ], wrap=True, spacing=8, vertical_alignment=ft.CrossAxisAlignment.CENTER)
    left: list[ft.Control] = [bar]
    if ap.error:
        left.append(ft.Text(ap.error, color=theme.DANGER))
    if ap.notice:
        left.append(ft.Text(ap.notice, color=theme.OK))
    if not ap.loaded and not ap.error:
        left.append(ft.ProgressBar())
    left += [ft.Text(t("ap_pick", lang), size=12, color=theme.MUTED),
             ft.Row([table], scroll=ft.ScrollMode.AUTO)]
    parts: list[ft.Control] = [ft.Column(left, spacing=10, expand=True,
                                         scroll=ft.ScrollMode.AUTO)]
    if ap.card is not None:
        parts.append(card_panel(ap, lang, run))
    return ft.Container(padding=ft.Padding.all(14), expand=True,
                        content=ft.Row(parts, spacing=14,
                                       vertical_alignment=ft.CrossAxisAlignment.START))
