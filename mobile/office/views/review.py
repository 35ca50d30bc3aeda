"""The review queue: resolved jobs to approve or return with a reason (side panel)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.review import ReviewState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, frame, heading, notice_line, pager, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt

Runner = Callable[[Awaitable[Any]], None]
KINDS = ("fault_repair", "meter_swap", "new_connection", "capacity_change",
         "account_change", "usage_inspection", "care_visit")


def _panel(state: ReviewState, lang: str, run: Runner) -> ft.Control:
    job = state.job
    if job is None:
        return ft.Text(t("pick_a_job", lang), color=theme.MUTED)
    return ft.Column([
        heading(job["code"]),
        ft.Text(f"{label(job['kind'], lang)} · {label(job['status'], lang)}", size=14),
        ft.Text(job.get("address") or "", size=13, color=theme.MUTED),
        ft.Text(f"{t('col_assignee', lang)}: {job.get('assignee_name') or '—'}", size=14),
        ft.Text(f"{t('col_resolved', lang)}: "
                f"{fmt_time(parse_dt(job.get('resolved_at')), lang)}", size=14),
        ft.Text(t("resolution", lang), weight=ft.FontWeight.BOLD),
        ft.Text(job.get("resolution") or "—", size=14),
        ft.Text(f"{t('cause', lang)}: {job.get('cause') or '—'}", size=13),
        ft.Divider(),
        ft.TextField(label=t("return_reason", lang), value=state.reason, multiline=True,
                     max_lines=3, on_change=lambda e: setattr(state, "reason",
                                                              e.control.value or "")),
        ft.Row([
            ft.FilledButton(t("approve", lang), icon=ft.Icons.CHECK, disabled=state.busy,
                            on_click=lambda _: run(state.decide("approved"))),
            ft.OutlinedButton(t("return_job", lang), icon=ft.Icons.UNDO, disabled=state.busy,
                              on_click=lambda _: run(state.decide("returned"))),
        ], wrap=True),
        notice_line(state.error, error=True),
    ], spacing=8)


@ft.component
def ReviewView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: ReviewState(octx))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    heads = [t(h, lang) for h in ("col_code", "col_kind", "col_address", "col_assignee",
                                  "col_resolved", "col_resolution", "col_rating",
                                  "col_reopened")]
    rows = [[cell(r["code"], bold=True), cell(label(r["kind"], lang)),
             cell(r.get("address"), width=200), cell(r.get("assignee_name") or "—"),
             cell(fmt_time(parse_dt(r.get("resolved_at")), lang)),
             cell(r.get("resolution"), width=240), cell(r.get("rating") or "—"),
             cell(r.get("reopen_count") or 0)] for r in state.rows]
    rule = ft.Row([
        ft.Text(state.rule_text(), size=14, weight=ft.FontWeight.W_600),
        ft.Dropdown(label=t("kind", lang), value=state.rule_kind, width=190, dense=True,
                    options=[ft.DropdownOption(key="*", text=t("rule_rest", lang)),
                             *[ft.DropdownOption(key=k, text=label(k, lang)) for k in KINDS]],
                    on_select=lambda e: setattr(state, "rule_kind", e.control.value or "*")),
        ft.TextField(label=t("rule_percent", lang), value=state.rule_percent, width=150,
                     dense=True, on_change=lambda e: setattr(state, "rule_percent",
                                                             e.control.value or "")),
        ft.OutlinedButton(t("save_rule", lang), on_click=lambda _: run(state.save_rule())),
        ft.IconButton(ft.Icons.REFRESH, tooltip=t("refresh", lang),
                      on_click=lambda _: run(state.load())),
    ], wrap=True, spacing=10, vertical_alignment=ft.CrossAxisAlignment.CENTER)
    body: list[ft.Control] = [
        ft.Text(t("review_help", lang), size=13, color=theme.MUTED),
        rule,
        notice_line(state.notice),
    ]
    if not state.loaded:
        body.append(ft.ProgressBar())
    if state.error and state.job is None:
        body.append(notice_line(state.error, error=True))
    body += [
        table(heads, rows, on_tap=[lambda i=r["id"]: state.pick(i) for r in state.rows],
              picked=[r["id"] == state.picked for r in state.rows]) if rows
        else ft.Text(t("nothing_here", lang), color=theme.MUTED),
        *([pager(state.page_text(), lang, lambda step: run(state.move(step)))]
          if state.total else []),
    ]
    return frame(body, _panel(state, lang, run) if state.picked else None)
