"""Settings: language (follow the device, or choose), who is signed in, sign out."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.components.common import kv, section
from mobile.context import AppContext
from mobile.i18n import label, t
from mobile.state.app import AppState
from mobile.state.sync import SyncState
from shared.enums import FIELD_ROLES


@ft.component
def SettingsView(app: AppState, ctx: AppContext, sync: SyncState) -> ft.Control:
    lang = app.lang
    confirming, set_confirming = ft.use_state(False)
    session = app.session

    def choose(e: ft.Event[ft.RadioGroup]) -> None:
        app.set_lang_pref(str(e.control.value))
        ctx.reload_all()

    def sign_out(_: ft.Event[ft.Button]) -> None:
        if sync.pending and not confirming:
            set_confirming(True)
            return
        ctx.backend.sign_out()
        set_confirming(False)
        app.signed_out()

    who = (t("signed_in_as", lang, name=session.display_name, role=label(session.role, lang))
           if session else "")
    return ft.Column([
        section(t("language", lang), ft.RadioGroup(
            value=app.lang_pref, on_change=choose,
            content=ft.Column([
                ft.Radio(value="auto", label=t("lang_auto", lang)),
                ft.Radio(value="zh", label="简体中文"),
                ft.Radio(value="en", label="English"),
            ]))),
        *([section(None, ft.OutlinedButton(
            t("my_summary_open", lang), icon=ft.Icons.INSIGHTS, height=48,
            on_click=lambda _: app.open("summary")))]
          if session and session.role in FIELD_ROLES else []),
        section(None,
                kv(t("signed_in_label", lang), who),
                kv(t("server", lang), app.server_url),
                kv(t("device_id", lang), ctx.device_key[:8]),
                *([kv(t("app_version", lang), app.app_version[:24])] if app.app_version
                  else [])),
        section(None,
                ft.Text(t("sign_out_pending", lang, n=sync.pending), color=theme.WARNING,
                        visible=bool(confirming and sync.pending), size=15),
                ft.OutlinedButton(t("sign_out", lang), icon=ft.Icons.LOGOUT, on_click=sign_out,
                                  height=48)),
    ], scroll=ft.ScrollMode.AUTO, expand=True, spacing=4,
                     horizontal_alignment=ft.CrossAxisAlignment.STRETCH)
