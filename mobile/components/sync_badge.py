"""The sync indicator, always in the app bar: online/offline and how much is pending."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.state.sync import SyncState


@ft.component
def SyncBadge(sync: SyncState, lang: str, on_open: Callable[[], Any]) -> ft.Control:
    status = sync.status
    if sync.busy or status.syncing:
        icon, color = ft.Icons.SYNC, ft.Colors.WHITE
    elif status.online is False:
        icon, color = ft.Icons.CLOUD_OFF, ft.Colors.AMBER_200
    elif status.problems:
        icon, color = ft.Icons.ERROR, ft.Colors.AMBER_200
    else:
        icon, color = ft.Icons.CLOUD_DONE, ft.Colors.WHITE
    text = sync.indicator(lang)
    return ft.Container(
        content=ft.Row([ft.Icon(icon, color=color, size=20),
                        ft.Text(text, color=color, size=13, weight=ft.FontWeight.W_600)],
                       spacing=6, tight=True),
        padding=ft.Padding.symmetric(horizontal=10, vertical=6),
        margin=ft.Margin.only(right=8),
        border=ft.Border.all(1, color), border_radius=16,
        bgcolor=theme.PRIMARY,
        tooltip=text,
        on_click=lambda _: on_open(),
    )
