"""My work summary (crews, meter technicians, agents): this month's (or an earlier one's)
scorecard, each figure with how it is computed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import flet as ft

from mobile import theme
from mobile.components.common import section
from mobile.context import AppContext
from mobile.i18n import label, t
from mobile.state.app import AppState
from mobile.state.my_summary import MySummaryState
from shared.appraisal.figures import format_value


@ft.component
def MySummaryView(app: AppState, ctx: AppContext) -> ft.Control:
    lang = app.lang
    s, _ = ft.use_state(lambda: MySummaryState(ctx.backend, lang=lang))
    ft.on_mounted(s.load)

    page = ft.context.page

    def later(coro_fn: Callable[[], Awaitable[None]]) -> None:
        page.run_task(coro_fn)

    head = ft.Row([
        ft.TextButton(t("summary_prev", lang), icon=ft.Icons.CHEVRON_LEFT,
                      on_click=lambda _: later(s.previous)),
        ft.Text(s.month, size=18, weight=ft.FontWeight.BOLD),
        ft.TextButton(t("summary_next", lang), icon=ft.Icons.CHEVRON_RIGHT,
                      disabled=s.is_current, on_click=lambda _: later(s.following)),
    ], alignment=ft.MainAxisAlignment.CENTER)
    body: list[ft.Control] = [head]
    if s.loading and s.card is None:
        body.append(ft.ProgressBar())
    if s.error:
        body.append(ft.Text(s.error, color=theme.WARNING, size=15))
    if s.stale_note:
        body.append(ft.Text(s.stale_note, color=theme.WARNING, size=14))
    card = s.card
    if card is not None:
        kinds = " · ".join(f"{label(k, lang)} {n}" for k, n in card["by_kind"].items())
        body.append(section(None, ft.Text(t("summary_jobs", lang, n=card["handled"]),
                                          size=17, weight=ft.FontWeight.BOLD),
                            *([ft.Text(kinds, size=14, color=theme.MUTED)] if kinds else [])))
        for fig in card["figures"]:
            if fig["key"] == "handled":
                continue
            body.append(section(None, ft.Row([
                ft.Text(t(f"fig_{fig['key']}", lang), size=15, expand=True),
                ft.Text(format_value(fig["value"], fig["unit"], lang), size=18,
                        weight=ft.FontWeight.BOLD)]),
                ft.Text(f"{t('summary_from_n', lang, n=fig['n'])} · {fig['how']}", size=12,
                        color=theme.MUTED)))
    return ft.Column(body, scroll=ft.ScrollMode.AUTO, expand=True, spacing=4,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
