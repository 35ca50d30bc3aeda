"""The monthly bill of an account: balance at both ends, usage by tier, charges and
recharges, each entry; a PDF to download or share."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.common import kv, section
from mobile.context import AppContext
from mobile.i18n import fmt_time, t
from mobile.state.app import AppState
from mobile.state.bill import BillState
from mobile.state.common import off_loop
from shared.money import format_fen


@ft.component
def BillView(app: AppState, ctx: AppContext, account_id: str) -> ft.Control:
    def make() -> BillState:
        s = BillState(ctx.backend, account_id)
        s.reload()
        return ctx.track(s)

    state, _ = ft.use_state(make)
    lang = app.lang
    bill = state.bill
    if bill is None:
        return section(None, ft.Text(t("bill_none", lang), color=theme.MUTED))

    async def download(_: Any) -> None:
        fonts = ctx.hardware.fonts() if ctx.hardware.fonts else None
        name, data = await off_loop(state.pdf, lang, fonts)
        await ctx.hardware.save_file(name, data)
        app.notify_user(t("bill_saved", lang, path=name))

    i = state.months.index(state.month)
    header = ft.Row([
        ft.IconButton(ft.Icons.CHEVRON_LEFT, tooltip=t("prev_month", lang),
                      disabled=i + 1 >= len(state.months), on_click=lambda _: state.step(True)),
        ft.Text(bill.month, size=20, weight=ft.FontWeight.BOLD, expand=True,
                text_align=ft.TextAlign.CENTER),
        ft.IconButton(ft.Icons.CHEVRON_RIGHT, tooltip=t("next_month", lang),
                      disabled=i == 0, on_click=lambda _: state.step(False)),
    ])
    tiers = [kv(t("bill_tier_line", lang, n=x.tier, kwh=f"{x.kwh:.2f}", price=x.price),
                format_fen(x.cost_fen)) for x in bill.tiers]
    lines: list[ft.Control] = [ft.ListTile(
        title=ft.Text(t(f"kind_{x.kind}", lang), size=15),
        subtitle=ft.Text(fmt_time(x.at, lang) + (f" · {x.receipt_no}" if x.receipt_no else ""),
                         size=12, color=theme.MUTED),
        trailing=ft.Text(("+" if x.amount_fen > 0 else "") + format_fen(x.amount_fen),
                         color=theme.OK if x.amount_fen > 0 else theme.DANGER),
        content_padding=ft.Padding.symmetric(horizontal=0)) for x in bill.lines]
    return ft.Column([
        section(None, header,
                kv(t("account", lang), bill.account_no),
                kv(t("bill_opening", lang), format_fen(bill.opening_fen)),
                kv(t("bill_usage", lang), f"{bill.usage_kwh:.2f} kWh"), *tiers,
                kv(t("bill_charges", lang), format_fen(bill.charges_fen)),
                kv(t("bill_recharges", lang), format_fen(bill.recharges_fen)),
                *([kv(t("bill_other", lang), format_fen(bill.other_fen))]
                  if bill.other_fen else []),
                kv(t("bill_closing", lang), format_fen(bill.closing_fen),
                   value_color=theme.PRIMARY),
                ft.FilledButton(t("bill_pdf", lang), icon=ft.Icons.PICTURE_AS_PDF, height=48,
                                on_click=download)),
        section(t("recharges", lang), *(lines or [ft.Text(t("bill_none", lang),
                                                          color=theme.MUTED)])),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
