"""Photo thumbnails with their upload state, and the add-photo buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import flet as ft

from mobile import theme
from mobile.i18n import t
from sync.client.readmodel import PhotoItem


def thumb(data: bytes | None, *, uploaded: bool, lang: str, size: int = 96) -> ft.Control:
    image: ft.Control
    if data:
        image = ft.Image(src=data, width=size, height=size, fit=ft.BoxFit.COVER,
                         border_radius=8)
    else:
        image = ft.Container(width=size, height=size, bgcolor=ft.Colors.GREY_300,
                             border_radius=8, alignment=ft.Alignment.CENTER,
                             content=ft.Icon(ft.Icons.IMAGE, color=ft.Colors.GREY_600))
    mark = ft.Icon(ft.Icons.CLOUD_DONE if uploaded else ft.Icons.CLOUD_UPLOAD, size=18,
                   color=theme.OK if uploaded else theme.WARNING,
                   tooltip=t("photo_uploaded" if uploaded else "photo_pending", lang))
    return ft.Stack([image, ft.Container(content=mark, right=4, bottom=4,
                                         bgcolor=ft.Colors.WHITE, border_radius=10,
                                         padding=1)],
                    width=size, height=size)


def photo_strip(items: Sequence[PhotoItem], thumbs: dict[str, bytes], lang: str
                ) -> ft.Control:
    return ft.Row([thumb(thumbs.get(p.sha256), uploaded=p.upload == "done" or (
        p.upload is None and p.synced), lang=lang) for p in items], wrap=True, spacing=8,
        run_spacing=8)


def _handler(fn: Callable[[], Awaitable[Any]]) -> Callable[[Any], Awaitable[None]]:
    async def handler(_: Any) -> None:
        await fn()
    return handler


def add_photo_buttons(lang: str, on_pick: Callable[[], Awaitable[Any]],
                      on_camera: Callable[[], Awaitable[Any]] | None = None) -> ft.Control:
    buttons: list[ft.Control] = []
    if on_camera is not None:
        buttons.append(ft.OutlinedButton(t("take_photo", lang), icon=ft.Icons.PHOTO_CAMERA,
                                         on_click=_handler(on_camera)))
    buttons.append(ft.OutlinedButton(t("pick_photo", lang), icon=ft.Icons.PHOTO_LIBRARY,
                                     on_click=_handler(on_pick)))
    return ft.Row(buttons, wrap=True, spacing=8)
