"""Customer lookup and the account view: one search box, the results, then the whole
account — balance and alert state, meter, readings chart, ledger, jobs with their
timelines, meter commands, messages sent, the care-list flag, purchase-count corrections
and requests waiting for approval. ID numbers are only ever shown masked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import flet as ft
import flet_charts as fch

from mobile import theme
from mobile.components.charts import axis_range
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.customers import CustomersState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, figure, frame, heading, notice_line, pager, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from shared.money import format_fen


def _chart(readings: list[dict[str, Any]], lang: str) -> ft.Control:
    if not readings:
        return ft.Text(t("no_readings", lang), color=theme.MUTED)
    values = [float(Decimal(r["kwh"])) for r in readings]
    bottom, top, step_y = axis_range(min(values), max(values))
    step = max(len(readings) // 6, 1)
    labels = [fch.ChartAxisLabel(value=i, label=ft.Text(str(r["read_date"])[5:], size=10))
              for i, r in enumerate(readings) if i % step == 0]
    return ft.Container(height=200, width=640, padding=ft.Padding.only(top=10, right=16),
                        content=fch.LineChart(
        data_series=[fch.LineChartData(points=[fch.LineChartDataPoint(i, v)
                                               for i, v in enumerate(values)],
                                       color=theme.PRIMARY, stroke_width=2)],
        min_y=bottom, max_y=top, interactive=True,
        left_axis=fch.ChartAxis(label_size=56, label_spacing=step_y, show_min=False),
        bottom_axis=fch.ChartAxis(labels=labels, label_size=22),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1)))


def _results(state: CustomersState, lang: str, run: Any) -> list[ft.Control]:
    if not state.searched:
        return []
    heads = [t(h, lang) for h in ("account_no", "who", "phone", "address", "meter",
                                  "id_card", "balance")]
    rows = [[cell(a["account_no"], bold=True), cell(a["name"]), cell(a.get("phone")),
             cell(a["address"], width=220), cell(a.get("meter_no")),
             cell(a.get("id_card_masked") or "—"), cell(format_fen(a["balance_fen"]))]
            for a in state.rows]
    return [ft.Text(t("customers_n", lang, n=state.total), size=13, color=theme.MUTED),
            table(heads, rows, on_tap=[lambda i=a["id"]: run(state.open(i))
                                       for a in state.rows]) if rows else ft.Container(),
            pager(state.page_text(), lang, lambda step: run(state.move(step)))]


def _timeline(job: dict[str, Any], lang: str) -> ft.Control:
    lines = [ft.Text(f"{fmt_time(parse_dt(e['occurred_at']), lang)}  {label(e['action'], lang)}"
                     f" -> {label(e['to_status'], lang)}"
                     + (f" · {e['reason']}" if e.get("reason") else ""), size=12)
             for e in job["timeline"]]
    return ft.ExpansionTile(
        title=ft.Text(f"{job['code']}  {label(job['kind'], lang)}  ·  "
                      f"{label(job['status'], lang)}", size=14, weight=ft.FontWeight.W_600),
        subtitle=ft.Text(job.get("description") or "", size=12, max_lines=1),
        controls=[ft.Container(padding=ft.Padding.only(left=16, bottom=8),
                               content=ft.Column(lines, spacing=2))])


def _account(v: dict[str, Any], lang: str, state: CustomersState) -> list[ft.Control]:
    a, m = v["account"], v.get("meter")
    alert = a.get("alert_level") or "ok"
    head = [
        ft.Row([ft.TextButton(t("back_to_results", lang), icon=ft.Icons.ARROW_BACK,
                              on_click=lambda _: state.close())]),
        ft.Row([heading(f"{a['account_no']}  {a['name']}", 20),
                ft.Text(t(f"ctype_{a['customer_type']}", lang), color=theme.MUTED)], spacing=16),
        ft.Text(f"{t('phone', lang)}: {a.get('phone') or '—'}   {t('address', lang)}: "
                f"{a['address']}", size=14),
        ft.Text(f"{t('id_card', lang)}: {a.get('id_card_masked') or '—'}   "
                f"{t('property_cert', lang)}: {a.get('property_cert_masked') or '—'}",
                size=14),
    ]
    if a.get("care_flag"):
        head.append(ft.Container(
            bgcolor=ft.Colors.AMBER_50, padding=ft.Padding.all(8), border_radius=6,
            content=ft.Text(t("sv_care_list", lang, why=a.get("care_reason") or ""),
                            color=theme.WARNING, weight=ft.FontWeight.W_600)))
    head.append(ft.Row([
        figure(t("balance", lang), format_fen(a["balance_fen"]),
               color=theme.DANGER if alert != "ok" else None),
        figure(t("alert_state", lang), t(f"alert_{alert}", lang),
               color=theme.DANGER if alert != "ok" else theme.OK),
        figure(t("meter", lang), m["meter_no"] if m else "—", size=18),
        figure(t("purchase_count", lang), m["purchase_count"] if m else "—"),
        figure(t("last_reading", lang), f"{m['last_reading_kwh']} kWh"
               if m and m.get("last_reading_kwh") else "—"),
        figure(t("supply", lang), t("supply_" + (a.get("supply_state") or "on"), lang),
               color=theme.DANGER if a.get("supply_state") == "off" else theme.OK),
    ], wrap=True, spacing=10, run_spacing=10))
    body = [*head, heading(t("readings_chart", lang), 16), _chart(v["readings"], lang)]
    shown, total = len(v["ledger"]), v["ledger_total"]
    body += [heading(t("ledger_latest", lang, shown=shown, n=total) if total > shown
                     else t("ledger", lang, n=total), 16), table(
        [t(h, lang) for h in ("when", "kind", "col_change", "balance", "reason")],
        [[cell(fmt_time(parse_dt(e["occurred_at"]), lang)), cell(e["kind"]),
          cell(format_fen(e["amount_fen"])), cell(format_fen(e["balance_after_fen"])),
          cell(e.get("reason") or "", width=260)] for e in v["ledger"]])
        if v["ledger"] else ft.Text(t("nothing_here", lang), color=theme.MUTED)]
    body += [heading(t("jobs", lang), 16),
             *([_timeline(j, lang) for j in v["jobs"]] or
               [ft.Text(t("nothing_here", lang), color=theme.MUTED)])]
    for key, lines in _extras(v, lang):
        body.append(heading(t(key, lang), 16))
        body.append(ft.Column([ft.Text(x, size=13) for x in lines] or
                              [ft.Text(t("nothing_here", lang), color=theme.MUTED)],
                              spacing=2))
    return body


def _extras(v: dict[str, Any], lang: str) -> list[tuple[str, list[str]]]:
    def at(value: Any) -> str:
        return fmt_time(parse_dt(value), lang)

    return [
        ("commands", [f"{at(c['created_at'])}  {c['kind']} · {c['state']} · {c['reason']}"
                      for c in v["commands"]]),
        ("messages", [f"{at(n['created_at'])}  "
                      f"{n['title_zh'] if lang == 'zh' else n['title_en']}"
                      for n in v["messages"]]),
        ("corrections", [f"{at(c['at'])}  {c['old_count']} -> {c['new_count']} · {c['reason']}"
                         for c in v["purchase_count_corrections"]]),
        ("pending_requests", [
            f"{t('kind_' + p['kind'], lang)} · "
            f"{p.get('new_count') or format_fen(p.get('amount_fen') or 0)} · {p['reason']}"
            for p in v["pending_approvals"]]),
    ]


@ft.component
def CustomersView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: CustomersState(octx))
    lang = app.lang
    run = use_runner()
    box = ft.TextField(label=t("customer_search", lang), value=state.q, width=560,
                       dense=True, prefix_icon=ft.Icons.SEARCH,
                       on_change=lambda e: setattr(state, "q", e.control.value or ""),
                       on_submit=lambda e: run(state.search(e.control.value or "")))
    body: list[ft.Control] = [
        ft.Row([box, ft.FilledButton(t("search", lang), icon=ft.Icons.SEARCH,
                                     on_click=lambda _: run(state.search(state.q)))]),
        notice_line(state.error, error=True), notice_line(state.view_error, error=True),
    ]
    body += _account(state.view, lang, state) if state.view else _results(state, lang, run)
    return frame(body)
