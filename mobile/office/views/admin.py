"""The administrator's page: the stall rules as an editable table, and the scheduler's jobs
(last run, next run, result, last error)."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.admin import AdminState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from mobile.state.common import parse_dt


def _rules(state: AdminState, lang: str, run: Any) -> ft.Control:
    heads = ["rule_trigger", "rule_kind", "threshold", "escalate_after", "rule_active", ""]
    rows = []
    for r in state.rules:
        draft = state.drafts.get(r["id"], {})
        rid = r["id"]
        cells: list[ft.Control] = [
            ft.Text(r["description"], weight=ft.FontWeight.W_600),
            ft.Text(t("any_kind", lang) if r["kind"] == "*" else label(r["kind"], lang)),
            ft.TextField(value=draft.get("threshold", str(r["threshold"])), width=90,
                         dense=True, keyboard_type=ft.KeyboardType.NUMBER,
                         on_change=lambda e, i=rid: state.edit(i, "threshold",
                                                               e.control.value or "")),
            ft.TextField(value=draft.get("escalate_after_min", str(r["escalate_after_min"])),
                         width=90, dense=True, keyboard_type=ft.KeyboardType.NUMBER,
                         on_change=lambda e, i=rid: state.edit(i, "escalate_after_min",
                                                               e.control.value or "")),
            ft.TextButton(t("switch_off" if r["active"] else "switch_on", lang),
                          icon=ft.Icons.TOGGLE_ON if r["active"] else ft.Icons.TOGGLE_OFF,
                          on_click=lambda _, rule=r: run(state.toggle(rule))),
            ft.Row([ft.OutlinedButton(t("save", lang), disabled=not draft,
                                      on_click=lambda _, rule=r: run(state.save(rule))),
                    ft.Text(state.errors.get(rid, ""), color=theme.DANGER, size=12)],
                   tight=True),
        ]
        rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in cells]))
    return ft.DataTable(
        columns=[ft.DataColumn(ft.Text(t(h, lang) if h else "", weight=ft.FontWeight.BOLD))
                 for h in heads],
        rows=rows, column_spacing=18, data_row_min_height=52, bgcolor=ft.Colors.WHITE,
        border_radius=8, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))


def _scheduler(state: AdminState, lang: str) -> ft.Control:
    if state.scheduler is None:
        return ft.Text(state.scheduler_error, color=theme.MUTED)
    heads = ["job_name", "last_run", "next_run", "last_status", "runs", "last_error"]
    rows = []
    for j in state.scheduler.get("jobs", []):
        cells = [ft.Text(j["name"], weight=ft.FontWeight.W_600),
                 ft.Text(fmt_time(parse_dt(j.get("last_run_at")), lang)),
                 ft.Text(fmt_time(parse_dt(j.get("next_run_at")), lang)),
                 ft.Text(j.get("last_result") or j.get("last_status") or "", size=12,
                         width=320, max_lines=2, overflow=ft.TextOverflow.ELLIPSIS),
                 ft.Text(f"{j.get('run_count', 0)} / {j.get('error_count', 0)}"),
                 ft.Text((j.get("last_error") or "").strip().splitlines()[-1:][0]
                         if j.get("last_error") else "", size=12, color=theme.DANGER,
                         width=260, max_lines=2, overflow=ft.TextOverflow.ELLIPSIS)]
        rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in cells]))
    return ft.DataTable(
        columns=[ft.DataColumn(ft.Text(t(h, lang), weight=ft.FontWeight.BOLD)) for h in heads],
        rows=rows, column_spacing=18, bgcolor=ft.Colors.WHITE, border_radius=8,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))


@ft.component
def AdminView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: AdminState(octx))
    lang = app.lang

    run = use_runner()

    ft.on_mounted(state.load)
    body: list[ft.Control] = [
        ft.Text(t("stall_rules", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Text(t("stall_rules_help", lang), size=13, color=theme.MUTED),
    ]
    if state.error:
        body.append(ft.Text(state.error, color=theme.DANGER))
    body += [
        ft.Row([_rules(state, lang, run)], scroll=ft.ScrollMode.AUTO),
        ft.Row([ft.FilledButton(t("run_stall_now", lang), icon=ft.Icons.PLAY_ARROW,
                                on_click=lambda _: run(state.run_now())),
                ft.Text(state.run_result, size=13, expand=True)]),
        ft.Divider(),
        ft.Text(t("scheduler", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Row([_scheduler(state, lang)], scroll=ft.ScrollMode.AUTO),
    ]
    return ft.Container(padding=ft.Padding.all(16), expand=True,
                        content=ft.Column(body, spacing=10, scroll=ft.ScrollMode.AUTO))
