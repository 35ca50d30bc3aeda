"""The crew roster: a table of the station's field users with duty (and why), open jobs and
last known position; managers switch duty for today."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.roster import ROLES, RosterState
from mobile.office.views.common import use_runner
from mobile.state.app import AppState


@ft.component
def RosterView(app: AppState, octx: OfficeContext) -> ft.Control:
    roster, _ = ft.use_state(lambda: octx.track(RosterState(octx)))
    lang = app.lang

    run = use_runner()

    ft.on_mounted(roster.load)
    heads = ["col_assignee", "role", "phone", "duty", "duty_why", "open_jobs",
             "last_position"]
    rows = []
    for ln in roster.lines():
        duty: ft.Control = ft.Text(t("duty_yes" if ln.on_duty else "duty_no", lang),
                                   color=theme.OK if ln.on_duty else theme.MUTED,
                                   weight=ft.FontWeight.W_600)
        if roster.can_mark:
            duty = ft.Row([duty, ft.TextButton(
                t("mark_off" if ln.on_duty else "mark_on", lang),
                on_click=lambda _, i=ln.id, on=not ln.on_duty: run(roster.set_duty(i, on)))],
                spacing=4, tight=True)
        cells = [ft.Text(ln.name, weight=ft.FontWeight.W_600), ft.Text(ln.role),
                 ft.Text(ln.phone), duty, ft.Text(ln.duty, size=12, color=theme.MUTED),
                 ft.Text(ln.jobs, size=13, width=260, max_lines=3,
                         overflow=ft.TextOverflow.ELLIPSIS),
                 ft.Text(ln.position, size=13, width=220)]
        rows.append(ft.DataRow(cells=[ft.DataCell(c) for c in cells]))
    table = ft.DataTable(
        columns=[ft.DataColumn(ft.Text(t(h, lang), weight=ft.FontWeight.BOLD, size=13))
                 for h in heads],
        rows=rows, column_spacing=16, data_row_min_height=48, data_row_max_height=72,
        bgcolor=ft.Colors.WHITE, border_radius=8,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))
    filters = ft.Row([
        ft.Chip(label=ft.Text(t("all", lang)), selected=roster.role is None,
                show_checkmark=False, on_select=lambda _: run(roster.set_role(None))),
        *[ft.Chip(label=ft.Text(label(r, lang)), selected=roster.role == r,
                  show_checkmark=False, on_select=lambda _, r=r: run(roster.set_role(r)))
          for r in ROLES]], wrap=True, spacing=6)
    body: list[ft.Control] = [
        filters,
        ft.Container(bgcolor=ft.Colors.BLUE_50, border_radius=8, padding=ft.Padding.all(10),
                     content=ft.Row([ft.Icon(ft.Icons.INFO_OUTLINE, color=theme.PRIMARY),
                                     ft.Text(roster.rule, size=13, expand=True)])),
    ]
    if roster.error:
        body.append(ft.Text(roster.error, color=theme.DANGER))
    if not roster.loaded and not roster.error:
        body.append(ft.ProgressBar())
    body.append(ft.Row([table], scroll=ft.ScrollMode.AUTO))
    return ft.Container(padding=ft.Padding.all(14), expand=True,
                        content=ft.Column(body, spacing=10, scroll=ft.ScrollMode.AUTO))
