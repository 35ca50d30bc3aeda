"""The counter's cash sheet: per agent, the day's receipts, count and total, and
"Confirm hand-over"."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.cash import CashSheetState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from shared.money import format_fen


@ft.component
def CashSheetView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: octx.track(CashSheetState(octx)))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    cards: list[ft.Control] = []
    for r in state.items:
        done = r.get("confirmed_by_name")
        cards.append(ft.Container(
            bgcolor=ft.Colors.WHITE, border_radius=8, padding=ft.Padding.all(14),
            content=ft.Column([
                ft.Row([ft.Text(r["agent_name"], size=17, weight=ft.FontWeight.BOLD,
                                expand=True),
                        ft.Text(t("handover_day_1" if r["count"] == 1 else "handover_day",
                                  lang, day=str(r["day"]), n=r["count"],
                                  total=format_fen(r["total_fen"])), size=15)]),
                ft.Text(" · ".join(f"{x['receipt_no']} {x['account_no']} "
                                   f"{format_fen(x['amount_fen'])}" for x in r["receipts"]),
                        size=13, color=theme.MUTED),
                ft.Text(t("handover_confirmed", lang, by=done), color=theme.OK) if done else
                ft.FilledButton(t("confirm_handover", lang), icon=ft.Icons.TASK_ALT,
                                on_click=lambda _, a=r["agent_id"]: run(state.confirm(a))),
            ], spacing=8)))
    return ft.Container(padding=ft.Padding.all(14), expand=True, content=ft.Column([
        ft.Row([ft.IconButton(ft.Icons.CHEVRON_LEFT, on_click=lambda _: run(state.step(-1))),
                ft.Text(str(state.day or ""), size=18, weight=ft.FontWeight.BOLD),
                ft.IconButton(ft.Icons.CHEVRON_RIGHT, on_click=lambda _: run(state.step(1)))]),
        ft.Text(state.error, color=theme.DANGER, visible=bool(state.error)),
        ft.Text(state.message, color=theme.OK, visible=bool(state.message)),
        *(cards or [ft.Text(t("no_entries", lang), color=theme.MUTED)]),
    ], spacing=10, scroll=ft.ScrollMode.AUTO))
