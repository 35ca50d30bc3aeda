"""Report a fault: which account, what is wrong, photos, where."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.camera import CameraPanel
from mobile.components.common import error_text, notice_box, section
from mobile.components.photos import add_photo_buttons, thumb
from mobile.context import AppContext
from mobile.i18n import t
from mobile.state.app import AppState
from mobile.state.fault_report import FaultReportState
from mobile.state.job_detail import gps_why


@ft.component
def FaultReportView(app: AppState, ctx: AppContext) -> ft.Control:
    def make() -> FaultReportState:
        s = FaultReportState(ctx.backend, on_change=ctx.kick_sync)
        s.start()
        return s

    form, _ = ft.use_state(make)
    camera_open, set_camera_open = ft.use_state(False)
    lang = app.lang

    async def open_camera() -> None:
        set_camera_open(True)

    async def pick() -> None:
        for data in await ctx.hardware.pick_photos():
            await form.add_photo(data)

    async def locate(_: Any) -> None:
        form.gps_status = "locating"
        fix, why = await ctx.hardware.gps_fix()
        form.set_location(fix)
        form.gps_why = why

    def submit(_: Any) -> None:
        order_id = form.submit(lang)
        if order_id:
            app.notify_user(t("report_saved", lang))
            app.back()
            app.open("job", order_id=order_id, title=t("my_faults", lang))

    def on_desc(e: ft.Event[ft.TextField]) -> None:
        form.set_description(e.control.value or "")

    def on_account(e: ft.Event[ft.Dropdown]) -> None:
        form.account_id = e.control.value or ""

    loc = form.location
    loc_text = (t("location_added", lang, lat=f"{loc.lat:.5f}", lon=f"{loc.lon:.5f}",
                  acc=f"{loc.accuracy_m:.0f}") if loc else
                t("locating", lang) if form.gps_status == "locating" else
                t("gps_unavailable", lang, why=gps_why(form.gps_why, lang))
                if form.gps_status == "unavailable" else "")
    warning = form.outage_warning(lang)
    return ft.Column([
        *([notice_box(warning, ft.Icons.POWER_OFF)] if warning else []),
        section(None,
                ft.Dropdown(label=t("choose_account", lang), value=form.account_id or None,
                            options=[ft.DropdownOption(key=i, text=text)
                                     for i, text in form.accounts()],
                            on_select=on_account, expand=True,
                            error_text=form.errors.get("account_id") or None),
                ft.TextField(label=t("fault_description", lang), value=form.description,
                             on_change=on_desc, multiline=True, min_lines=3, max_lines=6,
                             error=form.errors.get("description") or None)),
        section(t("photos", lang),
                ft.Row([thumb(form.thumbs.get(s), uploaded=False, lang=lang)
                        for s in form.photos], wrap=True, spacing=8),
                *([CameraPanel(lang, form.add_photo, lambda: set_camera_open(False))]
                  if camera_open else []),
                add_photo_buttons(lang, pick, open_camera)),
        section(None,
                ft.OutlinedButton(t("use_location", lang), icon=ft.Icons.MY_LOCATION,
                                  on_click=locate),
                ft.Text(loc_text, size=14, color=theme.MUTED, visible=bool(loc_text))),
        section(None,
                error_text(form.errors.get("form")),
                ft.FilledButton(t("submit_report", lang), icon=ft.Icons.SEND, height=52,
                                on_click=submit)),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
