"""The customer's fault reports: status at a glance; tap one to follow it."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import section, sync_chip
from mobile.context import AppContext
from mobile.i18n import fmt_time, label, t
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from mobile.state.jobs import JobsState, sync_text


@ft.component
def FaultsView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> JobsState:
        s = JobsState(ctx.backend, filter="open")
        s.reload()
        return ctx.track(s)

    jobs, _ = ft.use_state(make)
    lang = app.lang
    cards: list[ft.Control] = []
    for v in jobs.items:
        row = v.row
        title = f"{label(row['kind'], lang)} · {row.get('code') or '…'}"
        assignee = row.get("assignee_name") or t("not_assigned", lang)
        cards.append(ft.Card(content=ft.Container(
            padding=ft.Padding.all(14),
            on_click=lambda _, v=v: app.open("job", order_id=v.id,
                                                 title=v.row.get("code") or ""),
            content=ft.Column([
                ft.Row([ft.Text(title, size=16, weight=ft.FontWeight.BOLD, expand=True),
                        ft.Text(label(row["status"], lang), size=15, color=theme.PRIMARY,
                                weight=ft.FontWeight.W_600)]),
                ft.Text(row.get("description") or "", size=14, max_lines=2),
                ft.Row([ft.Icon(ft.Icons.ENGINEERING, size=18, color=theme.MUTED),
                        ft.Text(assignee, size=14, expand=True),
                        ft.Text(fmt_time(parse_dt(row.get("reported_at")), lang), size=13,
                                color=theme.MUTED)]),
                sync_chip(v.sync.mark.value, sync_text(v.sync.mark, v.sync.unsynced, lang)),
            ], spacing=6))))
    if not cards:
        cards.append(section(None, ft.Text(t("no_faults", lang), color=theme.MUTED)))
    return ft.Column([
        ft.Container(padding=ft.Padding.all(8), content=ft.FilledButton(
            t("report_fault", lang), icon=ft.Icons.REPORT_PROBLEM, height=52,
            on_click=lambda _: app.open("report"))),
        *cards,
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
