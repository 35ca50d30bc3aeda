"""The hotline report: find the caller on the left, describe the job on the right; the new
job can be dispatched on the board at once."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.board import PRIORITIES
from mobile.office.state.hotline import HotlineState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState
from shared.money import format_fen


def _result(a: dict[str, Any], hot: HotlineState, lang: str) -> ft.Control:
    chosen = hot.account is not None and hot.account["id"] == a["id"]
    extra = [t("balance_short", lang, b=format_fen(int(a.get("balance_fen") or 0)))]
    if a.get("care_flag"):
        extra.append(t("care_list", lang))
    return ft.Container(
        border_radius=8, padding=ft.Padding.all(10),
        bgcolor=ft.Colors.with_opacity(0.12, theme.PRIMARY) if chosen else ft.Colors.WHITE,
        border=ft.Border.all(1, theme.PRIMARY if chosen else ft.Colors.OUTLINE_VARIANT),
        on_click=lambda _: hot.pick(a),
        content=ft.Column([
            ft.Text(f"{a['account_no']}  {a['name']}", weight=ft.FontWeight.BOLD, size=15),
            ft.Text(f"{a.get('phone') or ''}  {a.get('address') or ''}", size=13),
            ft.Text(" · ".join(extra), size=12, color=theme.MUTED),
        ], spacing=2))


@ft.component
def HotlineView(app: AppState, octx: OfficeContext) -> ft.Control:
    hot, _ = ft.use_state(lambda: HotlineState(octx, kind="fault_repair"))
    lang = app.lang

    run = use_runner()

    def set_(name: str) -> Any:
        return lambda e: setattr(hot, name, e.control.value or "")

    left: list[ft.Control] = [
        ft.Text(t("find_caller", lang), size=18, weight=ft.FontWeight.BOLD),
        ft.Row([
            ft.TextField(label=t("search_accounts", lang), value=hot.q, expand=True,
                         prefix_icon=ft.Icons.SEARCH, on_change=set_("q"),
                         on_submit=lambda _: run(hot.search()),
                         error=hot.errors.get("q") or None),
            ft.FilledButton(t("search", lang), icon=ft.Icons.PERSON_SEARCH,
                            on_click=lambda _: run(hot.search()), disabled=hot.busy),
        ]),
    ]
    if hot.searched and not hot.results:
        left.append(ft.Text(t("no_accounts", lang), color=theme.MUTED))
    left += [_result(a, hot, lang) for a in hot.results]

    kinds = hot.kinds()
    right: list[ft.Control] = [
        ft.Text(t("new_job", lang) + " · " + t("report_channel_counter" if hot.counter
                                                else "report_channel_hotline", lang),
                size=18, weight=ft.FontWeight.BOLD)]
    if hot.created:
        job = hot.created
        right += [
            ft.Container(bgcolor=ft.Colors.GREEN_50, border_radius=8, padding=ft.Padding.all(12),
                         content=ft.Text(t("report_created", lang, code=job["code"]), size=16,
                                         weight=ft.FontWeight.BOLD, color=theme.OK)),
            ft.Row([
                *([ft.FilledButton(t("open_on_board", lang), icon=ft.Icons.DASHBOARD,
                                   on_click=lambda _: octx.shell.open_job(job["id"]))]
                  if not hot.counter else []),
                ft.OutlinedButton(t("next_call", lang), icon=ft.Icons.ADD_CALL,
                                  on_click=lambda _: hot.new_report()),
            ], wrap=True),
        ]
    else:
        acc = hot.account
        right += [
            ft.Text(f"{t('chosen_account', lang)}: "
                    f"{acc['account_no'] + '  ' + acc['name'] if acc else '—'}",
                    color=theme.DANGER if hot.errors.get("account") else None),
            ft.Text(hot.errors.get("account", ""), color=theme.DANGER,
                    visible=bool(hot.errors.get("account"))),
            ft.SegmentedButton(
                selected=[hot.kind], allow_empty_selection=False,
                allow_multiple_selection=False,
                segments=[ft.Segment(value=k, label=ft.Text(label(k, lang))) for k in kinds],
                on_change=lambda e: setattr(hot, "kind", next(iter(e.control.selected)))),
            ft.TextField(label=t("describe", lang), value=hot.description, multiline=True,
                         min_lines=3, max_lines=6, on_change=set_("description"),
                         error=hot.errors.get("description") or None),
            ft.Row([ft.Text(t("priority", lang), color=theme.MUTED),
                    ft.SegmentedButton(
                        selected=[hot.priority], allow_empty_selection=False,
                        allow_multiple_selection=False,
                        segments=[ft.Segment(value=p, label=ft.Text(label(p, lang)))
                                  for p in PRIORITIES],
                        on_change=lambda e: setattr(hot, "priority",
                                                    next(iter(e.control.selected))))],
                   wrap=True),
            ft.TextField(label=t("address_field", lang), value=hot.address,
                         on_change=set_("address"), error=hot.errors.get("address") or None),
            ft.Row([
                ft.TextField(label=t("contact_name", lang), value=hot.contact_name,
                             on_change=set_("contact_name"), expand=True),
                ft.TextField(label=t("contact_phone", lang), value=hot.contact_phone,
                             on_change=set_("contact_phone"), expand=True,
                             error=hot.errors.get("contact_phone") or None),
            ]),
            ft.Text(hot.errors.get("form", ""), color=theme.DANGER,
                    visible=bool(hot.errors.get("form"))),
            ft.FilledButton(t("submit_report", lang), icon=ft.Icons.SEND, height=48,
                            disabled=hot.busy, on_click=lambda _: run(hot.submit())),
        ]
    return ft.Row([
        ft.Container(expand=4, padding=ft.Padding.all(16),
                     content=ft.Column(left, spacing=10, scroll=ft.ScrollMode.AUTO)),
        ft.VerticalDivider(width=1),
        ft.Container(expand=5, padding=ft.Padding.all(16),
                     content=ft.Column(right, spacing=12, scroll=ft.ScrollMode.AUTO,
                                       horizontal_alignment=ft.CrossAxisAlignment.STRETCH)),
    ], expand=True, vertical_alignment=ft.CrossAxisAlignment.STRETCH)
