"""The customer's accounts: balance ("as of" when it was last synced), meter, usage chart,
care-list notice."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import kv, notice_box, section
from mobile.context import AppContext
from mobile.i18n import t
from mobile.state.accounts import AccountCard, AccountsState
from mobile.state.app import AppState
from mobile.state.outages import account_outages
from mobile.state.sync import SyncState
from mobile.views.balance import BalancePanel
from shared.timeutil import utcnow


def usage_chart(card: AccountCard, lang: str) -> ft.Control:
    # the charts package is read when a chart is first drawn, not at the app's start
    import flet_charts as fch
    if not card.usage:
        return ft.Text(t("no_usage", lang), color=theme.MUTED)
    top = max(d.kwh for d in card.usage) or 1.0
    step_y = max(round(top / 3), 1)
    max_y = step_y * (int(top // step_y) + 1)
    groups = [fch.BarChartGroup(x=i, rods=[fch.BarChartRod(
        to_y=d.kwh, width=7, color=theme.PRIMARY, border_radius=2,
        tooltip=f"{d.day:%m-%d}: {d.kwh:.1f} kWh")]) for i, d in enumerate(card.usage)]
    step = max(len(card.usage) // 5, 1)
    labels = [fch.ChartAxisLabel(value=i, label=ft.Text(f"{d.day:%m-%d}", size=10))
              for i, d in enumerate(card.usage) if i % step == 0]
    return ft.Container(height=190, padding=ft.Padding.only(top=10), content=fch.BarChart(
        groups=groups, max_y=max_y, interactive=True,
        left_axis=fch.ChartAxis(label_size=36, label_spacing=step_y),
        bottom_axis=fch.ChartAxis(labels=labels, label_size=22),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1),
    ))


def _card(c: AccountCard, app: AppState, ctx: AppContext, sync: SyncState) -> ft.Control:
    lang = app.lang
    balance_color = theme.DANGER if c.balance_low else theme.PRIMARY
    as_of = AccountsState.as_of(sync.status.last_success_at, sync.online, lang)
    rows: list[ft.Control] = [
        ft.Row([ft.Text(c.account_no, size=17, weight=ft.FontWeight.BOLD, expand=True),
                ft.Text(c.name, size=14, color=theme.MUTED)]),
        ft.Text(c.address, size=14, color=theme.MUTED),
        ft.Row([ft.Text(t("balance", lang), size=15),
                ft.Text(c.balance, size=30, weight=ft.FontWeight.BOLD, color=balance_color)],
               vertical_alignment=ft.CrossAxisAlignment.END, spacing=12),
        ft.Text(as_of, size=13, color=theme.WARNING if sync.online is False else theme.MUTED),
        kv(t("meter", lang), c.meter_no),
        BalancePanel(app, ctx, c.id, key=f"money-{c.id}"),
    ]
    for outage in account_outages(ctx.backend, c.id, utcnow()):
        rows.append(notice_box(f"{t('outage_title', lang)}：{outage.text(lang)}"
                               if lang == "zh" else
                               f"{t('outage_title', lang)}: {outage.text(lang)}",
                               ft.Icons.POWER_OFF))
    if c.care:
        rows.append(notice_box(t("care_notice", lang), ft.Icons.VOLUNTEER_ACTIVISM))
    rows.append(ft.Text(t("usage_30d", lang), size=14, weight=ft.FontWeight.W_600))
    rows.append(usage_chart(c, lang))
    return section(None, *rows)


@ft.component
def AccountsView(app: AppState, ctx: AppContext, sync: SyncState) -> ft.Control:
    def make() -> AccountsState:
        s = AccountsState(ctx.backend)
        s.reload()
        return ctx.track(s)

    accounts, _ = ft.use_state(make)
    lang = app.lang
    body = [_card(c, app, ctx, sync) for c in accounts.cards] or [
        section(None, ft.Text(t("loading", lang), color=theme.MUTED))]
    return ft.Column([
        *body,
        ft.Container(padding=ft.Padding.all(8), content=ft.FilledButton(
            t("report_fault", lang), icon=ft.Icons.REPORT_PROBLEM, height=52,
            on_click=lambda _: app.open("report"))),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
