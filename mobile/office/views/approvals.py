"""Four eyes: record a change of money or counts (it waits for another person), and the
requests, with approve / reject for those whose role decides."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.approvals import STATUSES, ApprovalsState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, frame, heading, notice_line, pager, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from shared.money import format_fen

Runner = Callable[[Awaitable[Any]], None]


def _form(state: ApprovalsState, lang: str, run: Runner) -> ft.Control:
    kinds = state.form_kinds()
    if not kinds:
        return ft.Container()
    count = state.kind == "purchase_count"
    amount_label = t("new_count" if count else
                     "refund_yuan" if state.kind == "refund" else "amount_yuan", lang)
    return ft.Container(
        padding=ft.Padding.all(12), bgcolor=ft.Colors.WHITE, border_radius=8,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        content=ft.Column([
            heading(t("new_request", lang), 16),
            ft.Row([
                ft.Dropdown(label=t("kind", lang), value=state.kind, width=220, dense=True,
                            options=[ft.DropdownOption(key=k, text=t(f"kind_{k}", lang))
                                     for k in kinds],
                            on_select=lambda e: setattr(state, "kind", e.control.value
                                                        or kinds[0])),
                ft.TextField(label=t("account_no", lang), value=state.account_no, width=170,
                             dense=True, on_change=lambda e: setattr(
                                 state, "account_no", e.control.value or "")),
                ft.TextField(label=amount_label, value=state.amount, width=230, dense=True,
                             on_change=lambda e: setattr(state, "amount",
                                                         e.control.value or "")),
                ft.TextField(label=t("reason", lang), value=state.reason, width=300,
                             dense=True, on_change=lambda e: setattr(
                                 state, "reason", e.control.value or "")),
                ft.FilledButton(t("submit_request", lang), icon=ft.Icons.SEND,
                                disabled=state.busy, on_click=lambda _: run(state.submit())),
            ], wrap=True, spacing=10, run_spacing=8),
            notice_line(state.form_error, error=True),
        ], spacing=8))


def _change(r: dict[str, Any], lang: str) -> str:
    if r["kind"] == "purchase_count":
        return t("count_change", lang, old=r.get("old_count"), new=r.get("new_count"))
    amount = r.get("amount_fen") or 0
    return format_fen(-amount if r["kind"] == "refund" else amount)


def _actions(state: ApprovalsState, r: dict[str, Any], lang: str, run: Runner) -> ft.Control:
    if r["status"] != "pending" or not state.decides:
        who = r.get("decided_by_name") or ""
        extra = f" · {r['decision_reason']}" if r.get("decision_reason") else ""
        return cell(f"{who}{extra}", width=220)
    rid = r["id"]
    return ft.Column([
        ft.Row([
            ft.TextField(label=t("reject_reason", lang), value=state.reasons.get(rid, ""),
                         width=150, dense=True, on_change=lambda e, i=rid: setattr(
                             state, "reasons", {**state.reasons, i: e.control.value or ""})),
            ft.FilledButton(t("approve_request", lang), disabled=state.busy,
                            on_click=lambda _, i=rid: run(state.decide(i, True))),
            ft.OutlinedButton(t("reject", lang), disabled=state.busy,
                              on_click=lambda _, i=rid: run(state.decide(i, False))),
        ], spacing=6),
        ft.Text(state.row_errors.get(rid, ""), color=theme.DANGER, size=12, width=420,
                visible=bool(state.row_errors.get(rid))),
    ], spacing=2, tight=True)


@ft.component
def ApprovalsView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: ApprovalsState(octx, role=octx.shell.role))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    chips = ft.Row([
        ft.Chip(label=ft.Text(t(f"st_{s}", lang) if s else t("all", lang)),
                selected=state.status == s, show_checkmark=False,
                selected_color=ft.Colors.with_opacity(0.2, theme.PRIMARY),
                on_select=lambda _, s=s: run(state.set_status(s))) for s in STATUSES],
        spacing=6)
    heads = [t(h, lang) for h in ("kind", "col_account", "col_change", "reason",
                                  "col_requested_by", "when", "status", "col_decided_by")]
    rows = [[cell(t(f"kind_{r['kind']}", lang), bold=True),
             cell(f"{r.get('account_no') or ''}  {r.get('account_name') or ''}", width=180),
             cell(_change(r, lang)), cell(r["reason"], width=200),
             cell(r.get("requested_by_name")),
             cell(fmt_time(parse_dt(r.get("requested_at")), lang)),
             cell(t(f"st_{r['status']}", lang)), _actions(state, r, lang, run)]
            for r in state.rows]
    body: list[ft.Control] = [
        ft.Text(t("approvals_help", lang), size=13, color=theme.MUTED),
        _form(state, lang, run),
        notice_line(state.notice),
        ft.Row([chips, ft.IconButton(ft.Icons.REFRESH, tooltip=t("refresh", lang),
                                     on_click=lambda _: run(state.load()))]),
        notice_line(state.error, error=True),
        table(heads, rows) if rows else ft.Text(t("nothing_here", lang), color=theme.MUTED),
        *([pager(state.page_text(), lang, lambda step: run(state.move(step)))]
          if state.total else []),
    ]
    return frame(body)
