"""The station overview: figures for today, open jobs by state, the crews' load."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.i18n import fmt_time
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.overview import OverviewState
from mobile.office.views.common import use_runner
from mobile.office.views.sup_widgets import cell, figure, frame, heading, notice_line, table
from mobile.state.app import AppState
from mobile.state.common import parse_dt

STATES = ("reported", "dispatched", "accepted", "en_route", "on_site", "resolved",
          "confirmed", "closed", "cancelled")


def _by_state(counts: dict[str, int], lang: str) -> ft.Control:
    most = max(counts.values(), default=0) or 1
    rows = []
    for s in STATES:
        n = counts.get(s, 0)
        if not n:
            continue
        rows.append(ft.Row([
            ft.Text(label(s, lang), width=110, size=14),
            ft.Container(width=max(4, 320 * n / most), height=16, border_radius=4,
                         bgcolor=theme.PRIMARY),
            ft.Text(str(n), size=14, weight=ft.FontWeight.W_600),
        ], spacing=10))
    return ft.Column(rows or [ft.Text(t("nothing_here", lang), color=theme.MUTED)],
                     spacing=6)


@ft.component
def OverviewView(app: AppState, octx: OfficeContext) -> ft.Control:
    state, _ = ft.use_state(lambda: OverviewState(octx))
    lang = app.lang
    run = use_runner()
    ft.on_mounted(state.load)
    d = state.data
    body: list[ft.Control] = [notice_line(state.error, error=True)]
    settings = octx.shell.settings
    if settings.get("county_wide"):
        body.append(ft.Dropdown(
            label=t("station", lang), value=state.station_id or "", width=220, dense=True,
            options=[ft.DropdownOption(key="", text=t("all", lang)),
                     *[ft.DropdownOption(key=s["id"], text=s["name"])
                       for s in settings.get("stations", [])]],
            on_select=lambda e: run(state.set_station(e.control.value or None))))
    if d is None:
        body.append(ft.ProgressBar())
        return frame(body)
    open_n = sum(d["open_by_status"].values())
    body += [
        ft.Row([
            figure(t("ov_today_reported", lang), sum(d["today_reported"].values())),
            figure(t("ov_open", lang), open_n),
            figure(t("ov_resolved_today", lang), d["resolved_today"]),
            figure(t("ov_overdue", lang), d["overdue"],
                   color=theme.DANGER if d["overdue"] else None),
            figure(t("ov_stalled", lang), d["stalled"],
                   color=theme.DANGER if d["stalled"] else None),
            figure(t("ov_to_review", lang), d["to_review"]),
            figure(t("ov_approvals", lang), d["pending_approvals"]),
        ], wrap=True, spacing=10, run_spacing=10),
        ft.Row([
            ft.Column([heading(t("ov_by_state", lang), 16), _by_state(d["open_by_status"],
                                                                      lang)], width=480),
            ft.Column([heading(t("ov_today_by_state", lang), 16),
                       _by_state(d["today_reported"], lang)], width=480),
        ], wrap=True, spacing=24, vertical_alignment=ft.CrossAxisAlignment.START),
        heading(t("ov_crews", lang), 16),
    ]
    crews = state.crews()
    rows = [[cell(c["display_name"], bold=True), cell(label(c["role"], lang)),
             cell(t("on_duty" if c["on_duty"] else "off_duty", lang),
                  color=theme.OK if c["on_duty"] else theme.MUTED),
             ft.Row([ft.Container(width=max(4, 24 * c["open_count"]), height=14,
                                  border_radius=4, bgcolor=theme.ACCENT),
                     ft.Text(t("open_jobs_n", lang, n=c["open_count"]), size=13)],
                    spacing=8),
             cell(fmt_time(parse_dt(c.get("last_seen_at")), lang))] for c in crews]
    heads = [t(h, lang) for h in ("who", "role_label", "status", "ov_open", "last_seen")]
    body.append(table(heads, rows) if rows else ft.Text(t("nothing_here", lang),
                                                        color=theme.MUTED))
    return frame(body)
