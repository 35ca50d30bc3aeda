"""Online recharge: amount, the provider's payment page, pending -> paid -> credited, the
receipt. Says clearly that it needs a connection when the phone is offline."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

import flet as ft

from mobile import theme
from mobile.components.common import error_text, kv, section
from mobile.context import AppContext
from mobile.i18n import fmt_time, t
from mobile.state.app import AppState
from mobile.state.billing import balance_cards
from mobile.state.recharge import PRESETS_YUAN, RechargeState
from mobile.state.sync import SyncState
from shared.money import format_fen

log = logging.getLogger(__name__)
POLL_S = 1.5
STEPS = ("pending", "paid", "credited")


def _steps(phase: str, lang: str) -> ft.Control:
    if phase == "declined":
        return ft.Text(t("step_declined", lang), color=theme.DANGER, size=16,
                       weight=ft.FontWeight.W_600)
    reached = STEPS.index(phase) if phase in STEPS else 0
    items: list[ft.Control] = []
    for i, step in enumerate(STEPS):
        done = i <= reached
        items.append(ft.Row([
            ft.Icon(ft.Icons.CHECK_CIRCLE if done else ft.Icons.RADIO_BUTTON_UNCHECKED,
                    color=theme.OK if done else theme.MUTED, size=20),
            ft.Text(t(f"step_{step}", lang), size=15,
                    weight=ft.FontWeight.W_600 if i == reached else None,
                    color=None if done else theme.MUTED)], spacing=4, tight=True))
        if i < len(STEPS) - 1:
            items.append(ft.Icon(ft.Icons.ARROW_FORWARD, size=16, color=theme.MUTED))
    return ft.Row(items, spacing=4, wrap=True)


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _receipt(r: dict[str, Any], lang: str) -> ft.Control:
    return section(t("receipt", lang),
                   kv(t("receipt_no", lang), str(r.get("receipt_no") or "")),
                   kv(t("account", lang), f"{r.get('account_no')} {r.get('account_name')}"),
                   kv(t("amount", lang), format_fen(int(r.get("amount_fen") or 0))),
                   kv(t("balance_after", lang), format_fen(int(r.get("balance_after_fen")
                                                               or 0))),
                   kv(t("meter", lang), str(r.get("meter_no") or "—")),
                   kv(t("purchase_count", lang), str(r.get("purchase_count") or "—")),
                   kv(t("paid_at", lang), fmt_time(_dt(r.get("credited_at")), lang)))


@ft.component
def RechargeView(app: AppState, ctx: AppContext, sync: SyncState, account_id: str
                 ) -> ft.Control:
    r, _ = ft.use_state(lambda: RechargeState(ctx.backend, account_id))
    alive = ft.use_ref(True)
    lang = app.lang

    async def watch() -> None:
        while alive.current:
            await asyncio.sleep(POLL_S)
            if r.order is not None and r.phase in ("pending", "paid", "offline"):
                try:
                    await r.poll()
                except Exception:
                    log.exception("payment poll failed")
                if r.phase == "credited":
                    ctx.kick_sync()  # bring the new balance and ledger entry down

    def stop() -> None:
        alive.current = False

    ft.on_mounted(watch)
    ft.on_unmounted(stop)

    async def open_page(_: Any = None) -> None:
        url = r.pay_url(app.server_url)
        if url:
            await ft.UrlLauncher().launch_url(url, web_only_window_name="_blank")

    async def pay(_: Any) -> None:
        await r.submit()
        if r.phase == "pending":
            await open_page()

    card = balance_cards(ctx.backend).get(account_id)
    head = section(None, ft.Row([
        ft.Text(card.account_no if card else "", size=17, weight=ft.FontWeight.BOLD,
                expand=True),
        ft.Text(f"{t('balance', lang)} {card.balance}" if card else "", size=15)]))
    offline_note = ft.Container(
        bgcolor=ft.Colors.AMBER_50, border_radius=8, padding=ft.Padding.all(10),
        content=ft.Row([ft.Icon(ft.Icons.WIFI_OFF, color=theme.WARNING),
                        ft.Text(t("needs_connection", lang), size=14, expand=True)]))
    offline = sync.online is False or r.phase == "offline"
    body: list[ft.Control] = [head]
    if r.order is None:
        err = r.error
        message = (t("amount_invalid", lang, min=r.min_yuan, max=f"{r.max_yuan:,}")
                   if err == "amount_invalid" else "" if err == "needs_connection" else err)
        body.append(section(
            None,
            *([offline_note] if offline else []),
            ft.TextField(label=t("amount_yuan", lang), value=r.amount_text, prefix="¥",
                         keyboard_type=ft.KeyboardType.NUMBER,
                         on_change=lambda e: r.set_amount(e.control.value or ""),
                         error=message or None),
            ft.Row([ft.OutlinedButton(f"¥{y}", on_click=lambda _, y=y: r.set_amount(str(y)))
                    for y in PRESETS_YUAN], wrap=True, spacing=6),
            ft.FilledButton(t("pay_online", lang), icon=ft.Icons.PAYMENT, height=52,
                            on_click=pay, disabled=r.phase == "creating"),
            ft.Text(t("creating_order", lang), color=theme.MUTED,
                    visible=r.phase == "creating")))
        return ft.Column(body, scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                         horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
    order = r.order
    body.append(section(
        None,
        kv(t("amount", lang), format_fen(int(order.get("amount_fen") or 0))),
        _steps(r.phase if r.phase != "offline" else "pending", lang),
        *([offline_note] if offline else []),
        *([ft.Text(t("pay_hint", lang), size=14, color=theme.MUTED),
           ft.OutlinedButton(t("open_pay_page", lang), icon=ft.Icons.OPEN_IN_NEW,
                             on_click=open_page)] if r.phase in ("pending", "offline") else []),
        error_text(r.error if r.error not in ("needs_connection", "amount_invalid") else "")))
    if r.receipt is not None:
        body.append(_receipt(r.receipt, lang))
    if r.phase in ("credited", "declined"):
        body.append(ft.Container(padding=ft.Padding.all(8), content=ft.Row([
            ft.OutlinedButton(t("new_recharge", lang), on_click=lambda _: r.again(),
                              expand=True),
            ft.FilledButton(t("done", lang), on_click=lambda _: app.back(), expand=True)],
            spacing=8)))
    return ft.Column(body, scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
