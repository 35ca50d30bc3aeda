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


def photo_strip(items: Sequence[PhotoItem], thumbs: dict[str, bytes], lang: str,
                on_open: Callable[[str], Awaitable[Any]] | None = None) -> ft.Control:
    """The job's photos as thumbnails; ``on_open(sha256)``: tapping one opens it in full."""
    def one(p: PhotoItem) -> ft.Control:
        shown = thumb(thumbs.get(p.sha256), uploaded=p.upload == "done" or (
            p.upload is None and p.synced), lang=lang)
        if on_open is None:
            return shown

        async def open_it(_: Any) -> None:
            await on_open(p.sha256)

        return ft.Container(content=shown, on_click=open_it, tooltip=t("full_photo", lang))

    return ft.Row([one(p) for p in items], wrap=True, spacing=8, run_spacing=8)


def full_photo(data: bytes | None, status: str, lang: str,
               on_close: Callable[[], Any]) -> list[ft.Control]:
    """The photo opened in full under the strip (or why it cannot be shown)."""
    if status == "loading":
        return [ft.Text(t("loading_photo", lang), color=theme.MUTED)]
    if status == "unavailable":
        return [ft.Text(t("photo_unavailable", lang), color=theme.WARNING)]
    if not data:
        return []
    return [ft.Image(src=data, fit=ft.BoxFit.CONTAIN, border_radius=8),
            ft.TextButton(t("close", lang), icon=ft.Icons.CLOSE, on_click=lambda _: on_close())]


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
