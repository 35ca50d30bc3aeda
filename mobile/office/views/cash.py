"""The counter's cash sheet: per agent, the day's receipts, count and total as recorded;
the counter enters what it counted (receipts, cash) and confirms — equal to the records,
or different with a note ("confirmed with a discrepancy", recorded vs counted shown)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.cash import CashSheetState
from mobile.office.state.said import words
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from shared.billing.handover import NOTE_MAX, NOTE_MIN, signed_fen
from shared.errors import ErrorCode
from shared.money import format_fen

Runner = Callable[[Awaitable[Any]], None]


def _tally(n: int, fen: int, lang: str) -> str:
    return t("handover_tally_1" if n == 1 else "handover_tally", lang, n=n,
             total=format_fen(fen))


def _confirmed(r: dict[str, Any], lang: str) -> list[ft.Control]:
    """How the counter confirmed the day; a discrepancy with both figures and the note."""
    out: list[ft.Control] = [ft.Row([
        ft.Icon(ft.Icons.WARNING_AMBER if r.get("discrepancy") else ft.Icons.TASK_ALT,
                color=theme.WARNING if r.get("discrepancy") else theme.OK),
        ft.Text(t("handover_confirmed_discrepancy" if r.get("discrepancy")
                  else "handover_confirmed", lang, by=r["confirmed_by_name"]),
                color=theme.WARNING if r.get("discrepancy") else theme.OK,
                weight=ft.FontWeight.W_600)])]
    if r.get("discrepancy"):
        out.append(ft.Text(t("handover_recorded_counted", lang,
                             recorded=_tally(r["recorded_count"], r["recorded_fen"], lang),
                             counted=_tally(r["counted_count"], r["counted_fen"], lang),
                             difference=signed_fen(r["difference_fen"])), size=14))
        out.append(ft.Text(t("handover_note_was", lang, note=r.get("note") or "—"),
                           size=14, color=theme.MUTED))
    return out


def _count_form(state: CashSheetState, r: dict[str, Any], lang: str, run: Runner
                ) -> list[ft.Control]:
    """What the counter counted, compared with the records as it is typed."""
    agent = r["agent_id"]
    typed = state.entry(agent)
    err = state.row_errors.get(agent)
    # "a note must explain it" (said by the rule here or by the server) goes on the note
    note_missing = err is not None and err.key == ErrorCode.HANDOVER_NOTE_REQUIRED.value
    counted = state.tally(agent)
    differs = state.differs(agent)
    if counted is None:
        verdict = ft.Text(t("handover_enter_count", lang), size=14, color=theme.MUTED)
    elif differs:
        verdict = ft.Text(t("handover_differs", lang,
                            recorded=_tally(r["count"], r["total_fen"], lang),
                            counted=_tally(counted.receipts, counted.total_fen, lang),
                            difference=signed_fen(counted.total_fen - r["total_fen"])),
                          size=14, color=theme.WARNING, weight=ft.FontWeight.W_600)
    else:
        verdict = ft.Text(t("handover_matches", lang), size=14, color=theme.OK,
                          weight=ft.FontWeight.W_600)
    return [
        ft.Row([
            ft.TextField(label=t("handover_counted_receipts", lang), value=typed.receipts,
                         width=190, keyboard_type=ft.KeyboardType.NUMBER,
                         on_change=lambda e: state.enter(agent, receipts=e.control.value or "")),
            ft.TextField(label=t("handover_counted_cash", lang), value=typed.cash, width=190,
                         prefix="¥", keyboard_type=ft.KeyboardType.NUMBER,
                         on_change=lambda e: state.enter(agent, cash=e.control.value or "")),
        ], wrap=True, spacing=10),
        verdict,
        ft.TextField(label=t("handover_note_required" if differs else "handover_note", lang),
                     value=typed.note, multiline=True, max_lines=3, max_length=NOTE_MAX,
                     width=520, error_max_lines=2,
                     visible=differs or bool(typed.note) or note_missing,
                     error=t("handover_note_needed", lang, min=NOTE_MIN, max=NOTE_MAX)
                     if note_missing else None,
                     on_change=lambda e: state.enter(agent, note=e.control.value or "")),
        ft.Text(words(err, lang), color=theme.DANGER,
                visible=err is not None and not note_missing),
        ft.FilledButton(t("confirm_with_discrepancy" if differs else "confirm_handover", lang),
                        icon=ft.Icons.WARNING_AMBER if differs else ft.Icons.TASK_ALT,
                        disabled=state.busy,
                        style=ft.ButtonStyle(bgcolor=theme.WARNING) if differs else None,
                        on_click=lambda _: run(state.confirm(agent))),
    ]


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
                *(_confirmed(r, lang) if done else _count_form(state, r, lang, run)),
            ], spacing=8)))
    return ft.Container(padding=ft.Padding.all(14), expand=True, content=ft.Column([
        ft.Row([ft.IconButton(ft.Icons.CHEVRON_LEFT, on_click=lambda _: run(state.step(-1))),
                ft.Text(str(state.day or ""), size=18, weight=ft.FontWeight.BOLD),
                ft.IconButton(ft.Icons.CHEVRON_RIGHT, on_click=lambda _: run(state.step(1)))]),
        ft.Text(t("handover_how", lang), size=14, color=theme.MUTED),
        ft.Text(words(state.error, lang), color=theme.DANGER, visible=bool(state.error)),
        ft.Text(words(state.message, lang), color=theme.OK, visible=bool(state.message)),
        *(cards or [ft.Text(t("no_entries", lang), color=theme.MUTED)]),
    ], spacing=10, scroll=ft.ScrollMode.AUTO))
