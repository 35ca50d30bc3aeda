"""The care list (用电关怀 · 关怀户): the station's listed accounts in a wide table (filter
by category, by account), the requests to add or remove with approve / refuse for another
person, and a side panel to ask for a change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.care import CATEGORIES, STATUSES, CareState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, frame, heading, notice_line, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt
from shared.care import CareChange

Runner = Callable[[Awaitable[Any]], None]


def _who(row: dict[str, Any], key: str) -> str:
    """A person's name (the id's start when the server did not name them)."""
    return str(row.get(f"{key}_name") or (row.get(key) or "")[:8])


def _category(value: str | None, lang: str) -> str:
    return t(f"care_cat_{value}", lang) if value else ""


def _chip(text: str, selected: bool, on_select: Callable[[Any], Any]) -> ft.Control:
    return ft.Chip(label=ft.Text(text), selected=selected, show_checkmark=False,
                   selected_color=ft.Colors.with_opacity(0.2, theme.PRIMARY),
                   on_select=on_select)


def _entries(state: CareState, lang: str) -> list[ft.Control]:
    filters = ft.Row([
        ft.TextField(label=t("care_filter", lang), value=state.query, width=290, dense=True,
                     prefix_icon=ft.Icons.SEARCH,
                     on_change=lambda e: setattr(state, "query", e.control.value or "")),
        _chip(t("care_all_categories", lang), not state.category_filter,
              lambda _: state.filter_category("")),
        *[_chip(_category(c, lang), state.category_filter == c,
                lambda _, c=c: state.filter_category(c)) for c in CATEGORIES],
    ], wrap=True, spacing=6, run_spacing=6)
    shown = state.shown()
    removing = state.account["id"] if (state.change == CareChange.REMOVE.value
                                       and state.account) else None
    heads = [t(h, lang) for h in ("care_col_account", "care_col_customer", "care_col_category",
                                  "care_col_reason", "care_col_review", "care_col_added",
                                  "care_col_approved", "")]
    rows = []
    for e in shown:
        overdue = state.overdue(e)
        review = str(e["review_on"])
        rows.append([
            cell(e["account_no"], bold=True), cell(e["account_name"], width=90),
            cell(_category(e["category"], lang), width=110), cell(e["reason"], width=170),
            cell(t("care_overdue", lang, day=review) if overdue else review,
                 color=theme.DANGER if overdue else None, bold=overdue),
            cell(_who(e, "added_by")), cell(_who(e, "approved_by")),
            ft.TextButton(t("care_remove", lang), icon=ft.Icons.PERSON_REMOVE,
                          on_click=lambda _, e=e: state.start_remove(e)),
        ])
    if rows:
        listing: ft.Control = table(heads, rows, picked=[e["account_id"] == removing
                                                         for e in shown])
    else:
        listing = ft.Text(t("care_no_match" if state.entries else "care_empty", lang),
                          color=theme.MUTED)
    return [heading(t("care_entries", lang, n=len(state.entries)), 16), filters, listing]


def _decision(state: CareState, r: dict[str, Any], lang: str, run: Runner) -> ft.Control:
    rid = r["id"]
    if r["status"] != "pending" or not state.decides:
        if not r.get("decided_by"):
            return ft.Container()
        when = fmt_time(parse_dt(r.get("decided_at")), lang)
        note = f" · {r['decision_note']}" if r.get("decision_note") else ""
        return ft.Text(t("care_decided", lang, who=_who(r, "decided_by"), when=when) + note,
                       size=13, color=theme.MUTED)
    error = state.row_errors.get(rid, "")
    return ft.Column([
        ft.Row([
            ft.FilledButton(t("care_approve", lang), icon=ft.Icons.CHECK, disabled=state.busy,
                            on_click=lambda _: run(state.decide(rid, True))),
            ft.TextField(label=t("care_refuse_note", lang), value=state.notes.get(rid, ""),
                         width=200, dense=True,
                         on_change=lambda e: state.set_note(rid, e.control.value or "")),
            ft.OutlinedButton(t("care_refuse", lang), disabled=state.busy,
                              on_click=lambda _: run(state.decide(rid, False))),
        ], spacing=8, wrap=True),
        ft.Text(error, color=theme.DANGER, size=13, visible=bool(error),
                weight=ft.FontWeight.W_600),
    ], spacing=4, tight=True)


def _request_card(state: CareState, r: dict[str, Any], lang: str, run: Runner) -> ft.Control:
    add = r["change"] == CareChange.ADD.value
    what = [t("care_change_add" if add else "care_change_remove", lang),
            f"{r['account_no']} {r['account_name']}"]
    if add:
        what += [_category(r.get("category"), lang),
                 t("care_review_line", lang, day=r.get("review_on") or "")]
    asked = t("care_asked_line", lang, who=_who(r, "requested_by"),
              when=fmt_time(parse_dt(r.get("requested_at")), lang))
    status_color = {"pending": theme.WARNING, "approved": theme.OK}.get(r["status"],
                                                                        theme.MUTED)
    return ft.Container(
        bgcolor=ft.Colors.WHITE, border_radius=8, padding=ft.Padding.all(12),
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        content=ft.Column([
            ft.Row([ft.Text(" · ".join(what), size=14, weight=ft.FontWeight.W_600, expand=True),
                    ft.Text(t(f"care_st_{r['status']}", lang), color=status_color,
                            weight=ft.FontWeight.W_600)]),
            ft.Text(t("care_reason_line", lang, reason=r["reason"]), size=13),
            ft.Text(asked, size=13, color=theme.MUTED),
            _decision(state, r, lang, run),
        ], spacing=4))


def _requests(state: CareState, lang: str, run: Runner) -> list[ft.Control]:
    chips = [_chip(t(f"care_st_{s}", lang) if s else t("all", lang), state.status == s,
                   lambda _, s=s: run(state.set_status(s))) for s in STATUSES]
    cards = [_request_card(state, r, lang, run) for r in state.requests]
    return [ft.Row([heading(t("care_requests", lang), 16), *chips,
                    ft.TextButton(t("refresh", lang), icon=ft.Icons.REFRESH,
                                  on_click=lambda _: run(state.load()))], spacing=8,
                   wrap=True, run_spacing=6),
            *(cards or [ft.Text(t("care_no_requests", lang), color=theme.MUTED)])]


def _form(state: CareState, lang: str, run: Runner) -> ft.Control:
    add = state.change == CareChange.ADD.value
    errors = state.field_errors
    account = state.account
    parts: list[ft.Control] = [
        heading(t("care_add_title" if add else "care_remove_title", lang), 17),
        ft.Row([
            ft.TextField(label=t("care_account_no", lang), value=state.account_no, width=210,
                         dense=True, read_only=not add, error=errors.get("account_no"),
                         on_change=lambda e: state.set_account_no(e.control.value or ""),
                         on_submit=lambda _: run(state.look_up())),
            ft.OutlinedButton(t("care_find", lang), icon=ft.Icons.PERSON_SEARCH,
                              visible=add, on_click=lambda _: run(state.look_up())),
        ], vertical_alignment=ft.CrossAxisAlignment.START),
    ]
    if account is not None:
        parts.append(ft.Text(t("care_account_line", lang, no=account["account_no"],
                               name=account["name"], address=account.get("address") or "")
                             .rstrip(" ·"), size=14, weight=ft.FontWeight.W_600))
    if add:
        parts += [
            ft.Text(t("care_category", lang), size=14, color=theme.MUTED),
            ft.RadioGroup(value=state.category or None,
                          on_change=lambda e: setattr(state, "category", e.control.value or ""),
                          content=ft.Column([ft.Radio(value=c, label=t(f"care_cat_{c}", lang))
                                             for c in CATEGORIES], spacing=0)),
            ft.Text(errors.get("category", ""), color=theme.DANGER, size=12,
                    visible=bool(errors.get("category"))),
        ]
    parts.append(ft.TextField(label=t("care_reason", lang), value=state.reason, width=360,
                              multiline=True, min_lines=2, max_lines=4,
                              error=errors.get("reason"), error_max_lines=2,
                              on_change=lambda e: setattr(state, "reason",
                                                          e.control.value or "")))
    if add:
        parts.append(ft.TextField(
            label=t("care_review_on", lang), value=state.review_text, width=240, dense=True,
            helper=t("care_review_help", lang, max=state.latest_review().isoformat()),
            error=errors.get("review_on"), error_max_lines=2,
            on_change=lambda e: setattr(state, "review_text", e.control.value or "")))
    parts += [
        notice_line(state.form_error, error=True),
        ft.FilledButton(t("care_ask_add" if add else "care_ask_remove", lang),
                        icon=ft.Icons.SEND, disabled=state.busy,
                        on_click=lambda _: run(state.submit())),
    ]
    if not add:
        parts.append(ft.TextButton(t("care_back_to_add", lang), icon=ft.Icons.ARROW_BACK,
                                   on_click=lambda _: state.start_add()))
    return ft.Column(parts, spacing=10)


@ft.component
def CareView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: CareState(octx, role=octx.shell.role))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    body: list[ft.Control] = [
        ft.Text(t("care_help", lang), size=13, color=theme.MUTED),
        notice_line(state.notice),
        notice_line(state.error, error=True),
        *_entries(state, lang),
        ft.Container(height=6),
        *_requests(state, lang, run),
    ]
    return frame(body, _form(state, lang, run))
