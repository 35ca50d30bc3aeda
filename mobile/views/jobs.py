"""My jobs: most urgent first; filters open / today / done and by kind."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import chip, sync_chip
from mobile.context import AppContext
from mobile.i18n import label, t
from mobile.state.app import AppState
from mobile.state.jobs import FILTERS, JobCard, JobsState

KIND_ICONS = {"fault_repair": ft.Icons.ELECTRIC_BOLT, "meter_swap": ft.Icons.SPEED}


def _card(c: JobCard, app: AppState) -> ft.Control:
    deadline_color = theme.DANGER if c.overdue else theme.PRIMARY
    badges: list[ft.Control] = ([sync_chip(c.sync_mark, c.sync_text)]
                                if c.sync_mark != "synced" else [])
    if c.help_requested:
        badges.append(chip(t("help_requested", app.lang), theme.WARNING,
                           icon=ft.Icons.SUPPORT))
    return ft.Card(content=ft.Container(
        padding=ft.Padding.all(14),
        on_click=lambda _: app.open("job", order_id=c.id, title=c.code),
        content=ft.Column([
            ft.Row([ft.Icon(KIND_ICONS.get(c.kind, ft.Icons.BUILD), color=theme.PRIMARY),
                    ft.Text(c.title, size=17, weight=ft.FontWeight.BOLD, expand=True),
                    ft.Text(c.status, size=14, color=theme.MUTED)]),
            *([ft.Row([ft.Icon(ft.Icons.PLACE, size=18, color=theme.MUTED),
                       ft.Text(c.address, size=15, expand=True)])] if c.address else []),
            ft.Row([ft.Icon(ft.Icons.TIMER, size=18, color=deadline_color),
                    ft.Text(c.deadline_text, size=15, color=deadline_color,
                            weight=ft.FontWeight.W_600, expand=True),
                    ft.Text(c.priority, size=13, color=theme.MUTED)]),
            *([ft.Row(badges, spacing=6, wrap=True)] if badges else []),
        ], spacing=6)))


@ft.component
def JobsView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> JobsState:
        s = JobsState(ctx.backend)
        s.reload()
        return ctx.track(s)

    jobs, _ = ft.use_state(make)
    lang = app.lang
    cards = jobs.cards(lang)
    filters = ft.SegmentedButton(
        selected=[jobs.filter], allow_multiple_selection=False, allow_empty_selection=False,
        segments=[ft.Segment(value=f, label=ft.Text(f"{t('filter_' + f, lang)} "
                                                    f"({jobs.count(f)})")) for f in FILTERS],
        on_change=lambda e: jobs.set_filter(next(iter(e.control.selected))),
    )
    kinds = jobs.kinds()
    kind_row: list[ft.Control] = []
    if len(kinds) > 1:
        kind_row = [ft.Row([ft.Chip(label=ft.Text(label(k, lang)), selected=jobs.kind == k,
                                    on_select=lambda e, k=k: jobs.set_kind(
                                        k if e.control.selected else None))
                            for k in kinds], wrap=True, spacing=6)]
    body: list[ft.Control] = [ft.Card(content=ft.Container(
        padding=ft.Padding.all(24),
        content=ft.Text(t("no_jobs", lang), size=16, color=theme.MUTED)))] if not cards \
        else [_card(c, app) for c in cards]
    return ft.Column([
        ft.Container(padding=ft.Padding.only(left=8, right=8, top=8),
                     content=ft.Column([filters, *kind_row], spacing=6)),
        ft.Column(body, scroll=ft.ScrollMode.AUTO, expand=True, spacing=2),
    ], expand=True, spacing=4)
