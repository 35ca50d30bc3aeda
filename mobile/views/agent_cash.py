"""The agent's cash tab: record a cash recharge (works offline), the day's summary for
handing in ("as of" the last sync), their recent receipts; and the purchase-count
correction screen (online, with a reason; sent for a manager's approval, shown waiting
until the approved count arrives)."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.common import chip, error_text, kv, section
from mobile.context import AppContext
from mobile.i18n import fmt_time, t
from mobile.state.agent_cash import CashState, CountFixState, HandoverDay
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from mobile.state.sync import SyncState
from shared.billing.handover import signed_fen
from shared.money import format_fen

CASH_COLORS = {"synced": theme.OK, "sent": theme.OK, "pending": theme.WARNING,
               "rejected": theme.DANGER}


@ft.component
def CashView(app: AppState, ctx: AppContext, sync: SyncState) -> ft.Control:
    def make() -> CashState:
        s = CashState(ctx.backend, app.lang)
        s.reload()
        return ctx.track(s)

    cash, _ = ft.use_state(make)
    lang = app.lang
    cash.lang = lang

    def record(_: Any) -> None:
        if cash.submit():
            app.notify_user(t("cash_saved", lang))
            ctx.kick_sync()

    def err(name: str) -> str | None:
        key = cash.errors.get(name)
        if not key:
            return None
        if key == "amount_invalid":
            return t(key, lang, min=1, max="5,000")
        return t(key, lang, **cash.error_params) if key.startswith("cash_") else key

    if cash.receipt is not None:
        return receipt_view(cash, lang)
    known = ", ".join(a.get("account_no") or "" for a in cash.accounts[:6])
    who = cash.customer_line()
    s = cash.summary
    as_of = t("as_of", lang, time=fmt_time(sync.status.last_success_at, lang))
    lines: list[ft.Control] = []
    for c in cash.lines[:30]:
        lines.append(ft.ListTile(
            title=ft.Text(f"{cash.account_no(c.account_id)} · {format_fen(c.amount_fen)}",
                          size=15),
            subtitle=ft.Text(f"{c.receipt_no} · {fmt_time(c.at, lang)}"
                             + (f"\n{c.reason}" if c.reason else ""), size=12,
                             color=theme.MUTED),
            trailing=chip(t(f"cash_{c.state}", lang), CASH_COLORS.get(c.state, theme.MUTED)),
            content_padding=ft.Padding.symmetric(horizontal=0)))
    return ft.Column([
        section(t("cash_new", lang),
                ft.TextField(label=t("account_no_field", lang), value=cash.account_text,
                             keyboard_type=ft.KeyboardType.NUMBER,
                             on_change=lambda e: setattr(cash, "account_text",
                                                         e.control.value or ""),
                             error=err("account"),
                             helper=None if who else
                             t("my_accounts_hint", lang, list=known) if known else None),
                *([ft.Container(bgcolor=ft.Colors.GREEN_50, border_radius=8,
                                padding=ft.Padding.all(10), content=ft.Row([
                                    ft.Icon(ft.Icons.PERSON, color=theme.PRIMARY),
                                    ft.Text(who, size=15, expand=True)]))] if who else []),
                ft.TextField(label=t("amount_yuan", lang), value=cash.amount_text,
                             keyboard_type=ft.KeyboardType.NUMBER,
                             on_change=lambda e: setattr(cash, "amount_text",
                                                         e.control.value or ""),
                             error=err("amount")),
                ft.TextField(label=t("receipt_no_field", lang), value=cash.receipt_text,
                             on_change=lambda e: setattr(cash, "receipt_text",
                                                         e.control.value or ""),
                             error=err("receipt")),
                error_text(cash.errors.get("form")),
                ft.FilledButton(t("record_cash", lang), icon=ft.Icons.PAYMENTS, height=52,
                                on_click=record)),
        section(t("today_summary", lang),
                ft.Text(t("summary_line", lang, n=s.count, total=s.total), size=20,
                        weight=ft.FontWeight.BOLD, color=theme.PRIMARY),
                ft.Text(t("summary_pending", lang, n=s.pending), color=theme.WARNING,
                        visible=s.pending > 0),
                ft.Text(as_of, size=13,
                        color=theme.WARNING if sync.online is False else theme.MUTED),
                *lines),
        handover_section(cash, lang),
        ft.Container(padding=ft.Padding.all(8), content=ft.OutlinedButton(
            t("correct_count", lang), icon=ft.Icons.EDIT_NOTE, height=48,
            on_click=lambda _: app.open("count_fix"))),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


@ft.component
def CountFixView(app: AppState, ctx: AppContext, sync: SyncState) -> ft.Control:
    def make() -> CountFixState:
        return ctx.track(CountFixState(ctx.backend, app.lang))  # redrawn after each pull

    fix, _ = ft.use_state(make)
    lang = app.lang
    fix.lang = lang
    meter = fix.meter()
    err = fix.error
    message = (t(err, lang, **fix.error_params) if err in (
        "count_unknown_meter", "count_invalid", "count_needs_connection") else err)

    async def submit(_: Any) -> None:
        await fix.submit()

    async def refresh() -> None:  # on opening, back online, and after each pull
        await fix.refresh_requests()

    async def reload_list(_: Any) -> None:
        await fix.load_requests()

    ft.use_effect(refresh, dependencies=[sync.online, fix.pulls])

    return ft.Column([
        section(None,
                *([ft.Text(t("count_needs_connection", lang), color=theme.WARNING)]
                  if sync.online is False else []),
                ft.TextField(label=t("meter_or_account", lang), value=fix.meter_text,
                             on_change=lambda e: setattr(fix, "meter_text",
                                                         e.control.value or "")),
                ft.Text(t("current_count", lang, n=meter.get("purchase_count"))
                        if meter else "", color=theme.MUTED, visible=meter is not None),
                ft.TextField(label=t("new_count", lang), value=fix.count_text,
                             keyboard_type=ft.KeyboardType.NUMBER,
                             on_change=lambda e: setattr(fix, "count_text",
                                                         e.control.value or "")),
                ft.TextField(label=t("reason", lang), value=fix.reason_text, multiline=True,
                             on_change=lambda e: setattr(fix, "reason_text",
                                                         e.control.value or "")),
                ft.Text(t("count_four_eyes_hint", lang), size=13, color=theme.MUTED),
                error_text(message),
                ft.FilledButton(t("submit_count", lang), icon=ft.Icons.SEND, height=52,
                                disabled=fix.busy, on_click=submit)),
        *([count_request_view(fix, lang)] if fix.result else []),
        *[c for c in [requests_section(fix, lang, reload_list)] if c is not None],
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


#: phase -> (headline key, colour, icon)
_PHASES = {
    "sent": ("count_sent", theme.WARNING, ft.Icons.HOURGLASS_TOP),
    "already": ("count_already_waiting", theme.WARNING, ft.Icons.HOURGLASS_TOP),
    "approved": ("count_approved", theme.OK, ft.Icons.CHECK_CIRCLE),
    "rejected": ("count_rejected", theme.DANGER, ft.Icons.CANCEL),
}


def count_request_view(fix: CountFixState, lang: str) -> ft.Control:
    """The correction sent: waiting for a manager's approval (or approved, or rejected),
    old and new count ("→" drawn as an icon: the app's fonts lack the glyph)."""
    res = fix.result
    assert res is not None
    phase = fix.phase
    key, color, icon = _PHASES[phase]
    lines: list[ft.Control] = [
        ft.Row([ft.Icon(icon, color=color),
                ft.Text(t(key, lang, n=res.get("new_count")), size=18,
                        weight=ft.FontWeight.BOLD, color=color, expand=True)]),
        ft.Row([ft.Text(str(res.get("old_count")), size=20, weight=ft.FontWeight.BOLD),
                ft.Icon(ft.Icons.ARROW_FORWARD, color=color, semantics_label="→"),
                ft.Text(str(res.get("new_count")), size=20, weight=ft.FontWeight.BOLD)],
               wrap=True),
    ]
    if phase in ("sent", "already"):
        lines.append(chip(t("count_waiting", lang), theme.WARNING))
        lines.append(ft.Text(t("count_waiting_hint", lang), size=13, color=theme.MUTED))
    lines += [kv(t("meter", lang), str(res.get("meter_no") or "")),
              kv(t("reason", lang), str(res.get("reason") or ""))]
    if res.get("decision_reason"):
        lines.append(kv(t("count_decision_reason", lang), str(res["decision_reason"])))
    if res.get("decided_at") and phase in ("approved", "rejected"):
        lines.append(ft.Text(t("count_request_decided", lang,
                               by=res.get("decided_by_name") or "—",
                               at=fmt_time(parse_dt(res.get("decided_at")), lang)),
                             size=12, color=theme.MUTED))
    return section(None, *lines)


#: request status -> (label key, colour)
_STATUS = {"pending": ("count_state_pending", theme.WARNING),
           "approved": ("count_state_approved", theme.OK),
           "rejected": ("count_state_rejected", theme.DANGER)}


def request_item(req: dict[str, Any], lang: str) -> ft.Control:
    """One of the user's requests: meter, old → new count, its state; when, why, and
    who decided (a rejection with the approver's reason)."""
    key, color = _STATUS.get(str(req.get("status")), ("count_state_pending", theme.MUTED))
    lines: list[ft.Control] = [
        ft.Row([ft.Text(str(req.get("meter_no") or req.get("account_no") or ""), size=15,
                        weight=ft.FontWeight.W_600),
                ft.Text(str(req.get("old_count")), size=15),
                ft.Icon(ft.Icons.ARROW_FORWARD, size=16, color=theme.MUTED,
                        semantics_label="→"),
                ft.Text(str(req.get("new_count")), size=15, weight=ft.FontWeight.W_600,
                        expand=True),
                chip(t(key, lang), color)], spacing=6),
        ft.Text(t("count_request_sent_at", lang,
                  at=fmt_time(parse_dt(req.get("requested_at")), lang))
                + f" · {req.get('reason') or ''}", size=12, color=theme.MUTED)]
    if req.get("decided_at"):
        lines.append(ft.Text(t("count_request_decided", lang,
                               by=req.get("decided_by_name") or "—",
                               at=fmt_time(parse_dt(req.get("decided_at")), lang)),
                             size=12, color=theme.MUTED))
    if req.get("status") == "rejected" and req.get("decision_reason"):
        lines.append(ft.Text(t("count_request_rejected_why", lang,
                               reason=req["decision_reason"]), size=13, color=theme.DANGER))
    return ft.Column(lines, spacing=2)


def requests_section(fix: CountFixState, lang: str, reload_list: Any) -> ft.Control | None:
    """The user's own recent requests and what became of them (online only: offline it
    says the list needs a connection). Under the request just sent: the earlier ones
    (none: no section)."""
    state = fix.requests_state
    shown = fix.earlier_requests()
    if fix.result and state == "ok" and not shown:
        return None
    head = ft.Row([
        ft.Text(t("count_requests_earlier" if fix.result else "count_requests", lang),
                size=15, weight=ft.FontWeight.BOLD,
                color=theme.PRIMARY, expand=True),
        ft.IconButton(ft.Icons.REFRESH, tooltip=t("count_requests_refresh", lang),
                      disabled=state == "loading", on_click=reload_list)])
    body: list[ft.Control] = []
    if state == "offline":
        body.append(ft.Row([ft.Icon(ft.Icons.CLOUD_OFF, color=theme.WARNING, size=20),
                            ft.Text(t("count_requests_offline", lang), size=14,
                                    color=theme.WARNING, expand=True)]))
    elif state == "error":
        body.append(error_text(t("count_requests_error", lang, error=fix.requests_error)))
    elif state in ("", "loading") and not fix.requests:
        body.append(ft.Text(t("count_requests_loading", lang), size=14, color=theme.MUTED))
    else:
        for i, req in enumerate(shown):
            if i:
                body.append(ft.Divider(height=6))
            body.append(request_item(req, lang))
        if not shown and not fix.result:
            body.append(ft.Text(t("count_requests_none", lang), size=14, color=theme.MUTED))
    return section(None, head, *body)


def receipt_view(cash: CashState, lang: str) -> ft.Control:
    """After taking cash: the receipt to show or share (or, for a receipt entered again,
    that it was already recorded and nothing more was taken)."""
    r = cash.receipt
    assert r is not None
    head = (ft.Text(t("already_recorded", lang), size=18, weight=ft.FontWeight.BOLD,
                    color=theme.WARNING) if r.already else
            ft.Text(t("cash_saved", lang), size=16, color=theme.OK))
    return ft.Column([
        section(t("cash_receipt_title", lang), head,
                *[kv(t(k, lang), v) for k, v in r.lines()],
                kv(t("collected_at", lang), fmt_time(r.at, lang)),
                kv(t("agent", lang), r.agent),
                ft.FilledButton(t("done", lang), icon=ft.Icons.CHECK, height=48,
                                on_click=lambda _: cash.close_receipt())),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
        horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def _receipts(n: int, fen: int, lang: str) -> str:
    return t("handover_receipts_1" if n == 1 else "handover_receipts", lang, n=n,
             total=format_fen(fen))


#: hand-over state -> (icon, colour)
_HANDOVER_LOOK = {
    "open": (ft.Icons.HOURGLASS_TOP, theme.WARNING),
    "confirmed": (ft.Icons.TASK_ALT, theme.OK),
    "discrepancy": (ft.Icons.WARNING_AMBER, theme.WARNING),
}


def handover_day_view(day: HandoverDay, lang: str) -> list[ft.Control]:
    """A day: count and total; whether the counter confirmed it — matching, or with a
    discrepancy (recorded vs counted, the counter's note); receipts taken after the
    confirmation (not in it); the day's receipts."""
    s, h = day.summary, day.handover
    icon, color = _HANDOVER_LOOK[day.state]
    head = (t("handover_open", lang) if h is None else
            t("handover_with_discrepancy" if h.discrepancy else "handover_confirmed", lang,
              by=h.by))
    out: list[ft.Control] = [
        ft.Text(t("handover_day_1" if s.count == 1 else "handover_day", lang,
                  day=s.day.isoformat(), n=s.count, total=s.total), size=15,
                weight=ft.FontWeight.W_600),
        ft.Row([ft.Icon(icon, color=color, size=20),
                ft.Text(head, color=color, size=14, weight=ft.FontWeight.W_600,
                        expand=True)], spacing=6)]
    if h is not None and h.discrepancy:
        out.append(ft.Text(t("handover_recorded_vs_counted", lang,
                             recorded=_receipts(h.recorded.receipts, h.recorded.total_fen,
                                                lang),
                             counted=_receipts(h.counted.receipts, h.counted.total_fen, lang),
                             difference=signed_fen(h.difference_fen)), size=14))
    elif h is not None:
        out.append(ft.Text(t("handover_counted_ok", lang, counted=_receipts(
            h.counted.receipts, h.counted.total_fen, lang)), size=14, color=theme.MUTED))
    if h is not None and h.note:
        out.append(ft.Text(t("handover_counter_note", lang, note=h.note), size=14,
                           color=theme.MUTED))
    if day.later:
        n = len(day.later)
        out.append(ft.Container(
            bgcolor=ft.Colors.AMBER_50, border_radius=8, padding=ft.Padding.all(8),
            content=ft.Row([
                ft.Icon(ft.Icons.PAYMENTS, color=theme.WARNING, size=20),
                ft.Column([
                    ft.Text(t("handover_later_1" if n == 1 else "handover_later", lang, n=n,
                              total=format_fen(day.later_fen)), size=14,
                            weight=ft.FontWeight.W_600, color=theme.WARNING),
                    ft.Text(t("handover_later_hint", lang, receipts=" · ".join(
                        f"{c.receipt_no} {format_fen(c.amount_fen)}" for c in day.later)),
                            size=12, color=theme.MUTED)], spacing=2, expand=True)],
                vertical_alignment=ft.CrossAxisAlignment.START)))
    out.append(ft.Text(" · ".join(f"{c.receipt_no} {format_fen(c.amount_fen)}"
                                  for c in day.lines), size=12, color=theme.MUTED))
    return out


def handover_section(cash: CashState, lang: str) -> ft.Control:
    """End of day: count and total per day with the receipts, and how the station
    counter confirmed the hand-over (the synced ``cash_handover`` rows: offline too)."""
    items: list[ft.Control] = []
    for i, day in enumerate(cash.handovers):
        if i:
            items.append(ft.Divider(height=8))
        items += handover_day_view(day, lang)
    return section(t("handover", lang), *(items or [ft.Text(t("no_entries", lang),
                                                            color=theme.MUTED)]))
