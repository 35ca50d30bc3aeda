"""Sign in: server URL (remembered on the device), user name, password."""

from __future__ import annotations

import flet as ft

from mobile import theme
from mobile.context import AppContext
from mobile.state.app import AppState
from mobile.state.login import LoginState


@ft.component
def LoginView(app: AppState, ctx: AppContext) -> ft.Control:
    state, _ = ft.use_state(lambda: LoginState(ctx.backend, server_url=app.server_url,
                                                         server_fixed=app.server_fixed))
    lang = app.lang

    async def submit(_: ft.Event[ft.FilledButton]) -> None:
        session = await state.submit(lang)
        if session is not None:
            await app_signed_in(session)

    async def app_signed_in(session) -> None:  # type: ignore[no-untyped-def]
        app.signed_in(session)
        ctx.kick_sync()

    def set_field(name: str):  # type: ignore[no-untyped-def]
        def handler(e: ft.Event[ft.TextField]) -> None:
            setattr(state, name, e.control.value or "")
        return handler

    return ft.SafeArea(expand=True, content=ft.Container(
        padding=ft.Padding.symmetric(horizontal=24, vertical=32),
        content=ft.Column([
            ft.Row([ft.Image(src="icons/icon-192.png", width=72, height=72)],
                   alignment=ft.MainAxisAlignment.CENTER),
            ft.Text(app.tr("app_name"), size=28, weight=ft.FontWeight.BOLD,
                    color=theme.PRIMARY, text_align=ft.TextAlign.CENTER),
            ft.Text(app.tr("tagline"), size=15, color=theme.MUTED,
                    text_align=ft.TextAlign.CENTER),
            ft.Container(height=12),
            *([] if app.server_fixed else [ft.TextField(
                label=app.tr("server_url"), value=state.server_url,
                on_change=set_field("server_url"), keyboard_type=ft.KeyboardType.URL,
                prefix_icon=ft.Icons.DNS)]),
            ft.TextField(label=app.tr("username"), value=state.username,
                         on_change=set_field("username"), prefix_icon=ft.Icons.PERSON),
            ft.TextField(label=app.tr("password"), value=state.password, password=True,
                         can_reveal_password=True, on_change=set_field("password"),
                         prefix_icon=ft.Icons.LOCK, on_submit=submit),
            ft.Text(state.error, color=theme.DANGER, size=15, visible=bool(state.error)),
            ft.FilledButton(app.tr("signing_in") if state.busy else app.tr("sign_in"),
                            icon=ft.Icons.LOGIN, on_click=submit, disabled=state.busy,
                            height=52),
            ft.ProgressBar(visible=state.busy, color=theme.PRIMARY),
        ], spacing=14, horizontal_alignment=ft.CrossAxisAlignment.STRETCH,
            scroll=ft.ScrollMode.AUTO),
    ))
