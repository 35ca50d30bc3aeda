"""The customer's money: the balance panel on each account card (alert state, recharge,
history), the history screen (ledger entries, usage by day / month with the tier) and
the inbox."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import chip, kv, section
from mobile.context import AppContext
from mobile.i18n import fmt_time, t
from mobile.state.app import AppState
from mobile.state.billing import BalanceCard, HistoryState, InboxState, UsageBar, balance_cards

ALERT_COLORS = {"ok": theme.OK, "low": theme.WARNING, "arrears": theme.DANGER}
ALERT_ICONS = {"ok": ft.Icons.CHECK_CIRCLE, "low": ft.Icons.WARNING_AMBER,
               "arrears": ft.Icons.ERROR}
TIER_COLORS = {1: theme.PRIMARY, 2: theme.ACCENT, 3: theme.DANGER}
NOTICE_ICONS = {"job": ft.Icons.ENGINEERING, "outage": ft.Icons.POWER_OFF,
                "low": ft.Icons.WARNING_AMBER, "arrears": ft.Icons.ERROR,
                "disconnect": ft.Icons.POWER_OFF, "reconnect": ft.Icons.POWER,
                "recharge": ft.Icons.RECEIPT_LONG, "payment": ft.Icons.PAYMENT}


def balance_panel(card: BalanceCard, app: AppState) -> ft.Control:
    """Alert state and the recharge / history buttons under an account's balance."""
    lang = app.lang
    color = ALERT_COLORS.get(card.alert, theme.MUTED)
    rows: list[ft.Control] = [ft.Row([
        chip(t(f"alert_{card.alert}", lang).split("，")[0].split(":")[0], color,
             icon=ALERT_ICONS.get(card.alert)),
        *([chip(t("purchase_count", lang) + f" {card.purchase_count}", theme.MUTED)]
          if card.purchase_count is not None else []),
    ], wrap=True, spacing=6)]
    if card.notice_key:
        rows.append(ft.Container(
            bgcolor=ft.Colors.RED_50 if card.alert == "arrears" else ft.Colors.AMBER_50,
            border_radius=8, padding=ft.Padding.all(10),
            content=ft.Text(t(card.notice_key, lang), size=14, color=color)))
    # recharge on a row of its own: three buttons side by side broke their labels
    # ("Rechar ge", "Monthl y bill") on a 390 px phone
    rows.append(ft.FilledButton(t("recharge", lang), icon=ft.Icons.ADD_CARD, height=48,
                                on_click=lambda _: app.open("recharge",
                                                            account_id=card.account_id)))
    rows.append(ft.Row([
        ft.OutlinedButton(t("history", lang), icon=ft.Icons.RECEIPT_LONG, height=48,
                          expand=True,
                          on_click=lambda _: app.open("history", account_id=card.account_id)),
        ft.OutlinedButton(t("bill", lang), icon=ft.Icons.DESCRIPTION, height=48,
                          expand=True,
                          on_click=lambda _: app.open("bill", account_id=card.account_id)),
    ], spacing=8))
    return ft.Column(rows, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


@ft.component
def BalancePanel(app: AppState, ctx: AppContext, account_id: str) -> ft.Control:
    cards = balance_cards(ctx.backend)
    card = cards.get(account_id)
    return balance_panel(card, app) if card else ft.Container()


def tier_chart(bars: list[UsageBar], lang: str) -> ft.Control:
    # the charts package is read when a chart is first drawn, not at the app's start
    import flet_charts as fch
    if not bars:
        return ft.Text(t("no_usage", lang), color=theme.MUTED)
    top = max(b.kwh for b in bars) or 1.0
    step_y = max(round(top / 3), 1)
    max_y = step_y * (int(top // step_y) + 1)
    width = 7 if len(bars) > 12 else 22
    groups = [fch.BarChartGroup(x=i, rods=[fch.BarChartRod(
        to_y=b.kwh, width=width, color=TIER_COLORS.get(b.tier, theme.DANGER), border_radius=2,
        tooltip=f"{b.label}: {b.kwh:.1f} kWh, {t('tier_n', lang, n=b.tier)}")])
        for i, b in enumerate(bars)]
    step = max(len(bars) // 5, 1)
    labels = [fch.ChartAxisLabel(value=i, label=ft.Text(b.label, size=10))
              for i, b in enumerate(bars) if i % step == 0]
    return ft.Container(height=190, padding=ft.Padding.only(top=10), content=fch.BarChart(
        groups=groups, max_y=max_y, interactive=True,
        left_axis=fch.ChartAxis(label_size=40, label_spacing=step_y),
        bottom_axis=fch.ChartAxis(labels=labels, label_size=22),
        horizontal_grid_lines=fch.ChartGridLines(color=ft.Colors.GREY_300, width=1)))


@ft.component
def HistoryView(app: AppState, ctx: AppContext, account_id: str) -> ft.Control:
    def make() -> HistoryState:
        s = HistoryState(ctx.backend, account_id)
        s.reload()
        return ctx.track(s)

    h, _ = ft.use_state(make)
    lang = app.lang
    legend = ft.Row([chip(t("tier_n", lang, n=n), c) for n, c in TIER_COLORS.items()],
                    spacing=6)
    months = [ft.Text(t("month_usage", lang, month=b.label, kwh=f"{b.kwh:.1f}",
                        tier=t("tier_n", lang, n=b.tier)), size=14) for b in h.months[-3:]]
    seg = ft.SegmentedButton(
        selected=[h.by], segments=[
            ft.Segment(value="day", label=ft.Text(t("by_day", lang))),
            ft.Segment(value="month", label=ft.Text(t("by_month", lang)))],
        on_change=lambda e: h.show(str((e.control.selected or ["day"])[0])))
    lines: list[ft.Control] = []
    for line in h.lines[:60]:
        color = theme.OK if line.amount_fen > 0 else theme.DANGER
        sub = fmt_time(line.at, lang) + (f" · {line.receipt_no}" if line.receipt_no else "")
        lines.append(ft.ListTile(
            title=ft.Text(t(f"kind_{line.kind}", lang), size=15),
            subtitle=ft.Text(sub, size=12, color=theme.MUTED),
            trailing=ft.Column([ft.Text(line.amount, color=color, weight=ft.FontWeight.W_600),
                                ft.Text(line.balance_after, size=12, color=theme.MUTED)],
                               spacing=0, horizontal_alignment=ft.CrossAxisAlignment.END,
                               tight=True),
            content_padding=ft.Padding.symmetric(horizontal=0)))
    card = h.card
    return ft.Column([
        section(None,
                *([kv(t("balance", lang), card.balance)] if card else []),
                ft.Text(t("usage_chart", lang), size=14, weight=ft.FontWeight.W_600),
                seg, tier_chart(h.bars, lang), legend,
                ft.Text(t("tier_legend", lang), size=12, color=theme.MUTED), *months),
        section(t("recharges", lang), *(lines or [ft.Text(t("no_entries", lang),
                                                          color=theme.MUTED)])),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


@ft.component
def InboxView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> InboxState:
        s = InboxState(ctx.backend, app.lang)
        s.reload()
        return ctx.track(s)

    inbox, _ = ft.use_state(make)
    lang = app.lang
    if inbox.lang != lang:
        inbox.lang = lang
        inbox.reload()
    def open_message(message_id: str) -> None:
        order_id = inbox.open(message_id)
        if order_id and ctx.backend.row("work_order", order_id):
            app.open("job", order_id=order_id)

    items: list[ft.Control] = []
    if inbox.unread:
        items.append(ft.Container(padding=ft.Padding.symmetric(horizontal=12), content=ft.Row([
            ft.Text(t("unread_n", lang, n=inbox.unread), size=14, color=theme.PRIMARY,
                    weight=ft.FontWeight.W_600, expand=True),
            ft.TextButton(t("mark_all_read", lang), icon=ft.Icons.DONE_ALL,
                          on_click=lambda _: inbox.mark_all_read())])))
    for m in inbox.messages:
        title = ft.Row([
            ft.Icon(NOTICE_ICONS.get(m.kind.split("_")[0], ft.Icons.NOTIFICATIONS),
                    color=theme.PRIMARY if m.unread else theme.MUTED, size=20),
            ft.Text(m.title, size=15, expand=True, color=None if m.unread else theme.MUTED,
                    weight=ft.FontWeight.BOLD if m.unread else ft.FontWeight.W_500),
            *([chip(t("unread", lang), theme.DANGER)] if m.unread else [])])
        items.append(ft.Card(content=ft.Container(
            padding=ft.Padding.all(14), on_click=lambda _, i=m.id: open_message(i),
            content=ft.Column([
                title, ft.Text(m.body, size=14),
                ft.Row([ft.Text(fmt_time(m.at, lang), size=12, color=theme.MUTED,
                                expand=True),
                        *([ft.Text(t("open_job", lang) + " ›", size=13, color=theme.PRIMARY)]
                          if m.work_order_id else [])])], spacing=6))))
    return ft.Column(items or [section(None, ft.Text(t("no_messages", lang),
                                                     color=theme.MUTED))],
                     scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
