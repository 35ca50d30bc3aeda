"""The meter-swap form: field-level messages from the same rules the server runs."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile import theme
from mobile.components.camera import CameraPanel
from mobile.components.common import error_text, section
from mobile.components.photos import thumb
from mobile.context import AppContext
from mobile.i18n import t
from mobile.state.app import AppState
from mobile.state.swap_form import SwapFormState

KEYBOARDS = {"old_final_kwh": ft.KeyboardType.NUMBER, "old_remaining": ft.KeyboardType.NUMBER,
             "new_start_kwh": ft.KeyboardType.NUMBER, "new_card_no": ft.KeyboardType.NUMBER}


@ft.component
def SwapFormView(app: AppState, ctx: AppContext, order_id: str) -> ft.Control:
    def make() -> SwapFormState:
        s = SwapFormState(ctx.backend, ctx.drafts, order_id, on_change=ctx.kick_sync)
        s.load(app.lang)
        return s

    form, _ = ft.use_state(make)
    camera_for, set_camera_for = ft.use_state("")
    lang = app.lang

    def field(name: str, helper: str | None = None) -> ft.Control:
        def on_change(e: ft.Event[ft.TextField]) -> None:
            form.set(name, e.control.value or "", lang)

        return ft.TextField(label=t(name, lang), value=getattr(form.values, name),
                            on_change=on_change, keyboard_type=KEYBOARDS.get(name),
                            error=form.errors.get(name) or None, helper=helper,
                            error_max_lines=3, helper_max_lines=2)

    def photo(which: str) -> ft.Control:
        sha = getattr(form.values, which)

        async def pick(_: Any) -> None:
            for data in await ctx.hardware.pick_photos():
                await form.set_photo(which, data, lang)

        async def took(data: bytes) -> None:
            await form.set_photo(which, data, lang)

        return ft.Column([
            ft.Text(t(which, lang), size=14, weight=ft.FontWeight.W_600),
            thumb(form.thumbs.get(sha), uploaded=False, lang=lang, size=110) if sha else
            ft.Text(t("photo_missing", lang), color=theme.MUTED),
            ft.OutlinedButton(t("take_photo", lang), icon=ft.Icons.PHOTO_CAMERA,
                              on_click=lambda _: set_camera_for(which)),
            ft.OutlinedButton(t("pick_photo", lang), icon=ft.Icons.PHOTO_LIBRARY,
                              on_click=pick, tooltip=t(which, lang)),
            *([CameraPanel(lang, took, lambda: set_camera_for(""))]
              if camera_for == which else []),
        ], spacing=4, width=180)

    def submit(_: Any) -> None:
        if form.submit(lang):
            app.notify_user(t("done_offline", lang))
            app.back()
        else:
            app.notify_user(t("fix_errors", lang))

    last = form.last_reading_text(lang)
    return ft.Column([
        section(t("old_meter_no", lang),
                field("old_meter_no"),
                field("old_final_kwh", helper=last or None),
                field("old_remaining")),
        section(t("new_meter_no", lang),
                *new_meter_picker(form, lang, field),
                field("new_start_kwh"),
                field("new_card_no"),
                field("seal_numbers")),
        section(t("photos", lang),
                ft.Row([photo("old_face_photo"), photo("new_face_photo")], wrap=True,
                       spacing=16),
                error_text(form.errors.get("photos"))),
        section(None,
                ft.Text(t("draft_saved", lang, time=form.saved_at), color=theme.MUTED,
                        size=13, visible=bool(form.saved_at)),
                ft.FilledButton(t("save_swap", lang), icon=ft.Icons.SAVE, on_click=submit,
                                height=52)),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=2,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)


def new_meter_picker(form: SwapFormState, lang: str, field: Any) -> list[ft.Control]:
    """The new meter, picked from the station's stock on the phone (search by number);
    typing the number is the fallback."""
    chosen = form.values.new_meter_no.strip()
    out: list[ft.Control] = []
    if chosen:
        out.append(ft.Row([ft.Icon(ft.Icons.CHECK_CIRCLE, color=theme.OK),
                           ft.Text(chosen, size=18, weight=ft.FontWeight.BOLD, expand=True)]))
        out.append(ft.Text(form.register_hint(lang), size=13, color=theme.MUTED))
    if form.manual:
        out.append(field("new_meter_no", helper=form.register_hint(lang)))
        return out
    out.append(ft.TextField(label=t("stock_search", lang), value=form.stock_query,
                            prefix_icon=ft.Icons.SEARCH,
                            on_change=lambda e: form.search_stock(e.control.value or ""),
                            error=form.errors.get("new_meter_no") or None,
                            helper=form.register_size(lang)))
    matches = [n for n in form.stock() if n != chosen]
    out.extend(ft.OutlinedButton(t("stock_pick", lang, no=n), icon=ft.Icons.SPEED,
                                 on_click=lambda _, n=n: form.pick_new_meter(n, lang))
               for n in matches)
    if not matches:
        out.append(ft.Text(t("stock_none", lang), color=theme.MUTED))
    out.append(ft.TextButton(t("type_meter_no", lang), icon=ft.Icons.KEYBOARD,
                             on_click=lambda _: form.type_new_meter()))
    return out
