"""The desk's planned outage notices: a form (areas, from, to, reason) and the notices
not over yet, each cancellable in a dialog that asks for the reason (required)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.outages import OutagesState, local_text
from mobile.office.state.said import words
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from shared.outages import REASON_MAX

Runner = Callable[[Awaitable[Any]], None]


def cancel_dialog(state: OutagesState, lang: str, run: Runner) -> ft.AlertDialog | None:
    """Cancel a notice: what it is, the reason (required; the customers read it) and two
    clearly different buttons."""
    notice = state.cancelled_notice
    if notice is None:
        return None
    starts, ends = parse_dt(notice["starts_at"]), parse_dt(notice["ends_at"])
    when = f"{local_text(starts)} – {local_text(ends)}" if starts and ends else ""
    return ft.AlertDialog(
        modal=True, title=ft.Text(t("outage_cancel_title", lang)),
        content=ft.Column([
            ft.Text("、".join(a["name"] for a in notice["areas"]) + f" · {when}",
                    weight=ft.FontWeight.W_600),
            ft.Text(notice["reason"], color=theme.MUTED, size=13),
            ft.Text(t("outage_cancel_hint", lang), size=14),
            ft.TextField(label=t("outage_cancel_reason", lang), value=state.cancel_reason,
                         multiline=True, min_lines=2, max_lines=4, max_length=REASON_MAX,
                         autofocus=True, on_change=lambda e: state.edit_cancel_reason(
                             e.control.value or "")),
            ft.Text(words(state.cancel_error, lang), color=theme.DANGER,
                    visible=bool(state.cancel_error)),
        ], tight=True, spacing=10, width=460),
        actions=[
            ft.TextButton(t("outage_keep", lang), on_click=lambda _: state.keep()),
            ft.FilledButton(t("outage_cancel_confirm", lang), icon=ft.Icons.EVENT_BUSY,
                            disabled=state.busy, style=ft.ButtonStyle(bgcolor=theme.DANGER),
                            on_click=lambda _: run(state.cancel())),
        ])


@ft.component
def OutagesView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: octx.track(OutagesState(octx)))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    ft.use_dialog(cancel_dialog(state, lang, run))

    def field(name: str, label_key: str, **kw: object) -> ft.TextField:
        return ft.TextField(label=t(label_key, lang), value=getattr(state, name),
                            on_change=lambda e: setattr(state, name, e.control.value or ""),
                            **kw)  # type: ignore[arg-type]

    areas = ft.Row([ft.Chip(label=ft.Text(a["name"]), selected=a["id"] in state.chosen,
                            on_select=lambda _, i=a["id"]: state.toggle(i))
                    for a in state.areas], wrap=True, spacing=6)
    form = ft.Column([
        ft.Text(t("outage_new", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Text(t("outage_areas", lang), size=14, color=theme.MUTED), areas,
        ft.Row([field("start_text", "outage_from", width=220),
                field("end_text", "outage_to", width=220)], wrap=True),
        field("reason", "outage_reason", multiline=True),
        ft.Text(words(state.error, lang), color=theme.DANGER, visible=bool(state.error)),
        ft.Text(words(state.message, lang), color=theme.OK, visible=bool(state.message)),
        ft.FilledButton(t("outage_publish", lang), icon=ft.Icons.CAMPAIGN,
                        on_click=lambda _: run(state.publish())),
    ], spacing=10)
    rows = []
    for o in state.items:
        starts, ends = parse_dt(o["starts_at"]), parse_dt(o["ends_at"])
        cancelled = o["status"] == "cancelled"
        rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in (
            ft.Text("、".join(a["name"] for a in o["areas"])),
            ft.Text(f"{local_text(starts)} – {local_text(ends)}" if starts and ends else ""),
            ft.Text(o["reason"], width=280, max_lines=2, overflow=ft.TextOverflow.ELLIPSIS),
            ft.Text(t("outage_cancelled_why", lang, reason=o.get("cancel_reason") or "—")
                    if cancelled else t("outage_live", lang), width=220, max_lines=2,
                    overflow=ft.TextOverflow.ELLIPSIS,
                    color=theme.MUTED if cancelled else theme.OK),
            ft.Container() if cancelled else ft.TextButton(
                t("outage_cancel", lang), on_click=lambda _, i=o["id"]: state.ask_cancel(i)),
        )]))
    table = ft.DataTable(columns=[ft.DataColumn(ft.Text(t(h, lang), weight=ft.FontWeight.BOLD))
                                  for h in ("outage_areas", "outage_when", "outage_reason",
                                            "status", "")],
                         rows=rows, bgcolor=ft.Colors.WHITE, border_radius=8,
                         border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    return ft.Container(padding=ft.Padding.all(14), expand=True, content=ft.Column([
        ft.Container(bgcolor=ft.Colors.WHITE, border_radius=8, padding=ft.Padding.all(14),
                     content=form),
        ft.Text(t("outage_list", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Row([table], scroll=ft.ScrollMode.AUTO) if rows else
        ft.Text(t("outage_none", lang), color=theme.MUTED),
    ], spacing=12, scroll=ft.ScrollMode.AUTO))
