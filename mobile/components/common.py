"""Small pieces the screens share: section cards, key/value lines, status chips."""

from __future__ import annotations

import flet as ft

from mobile import theme


def section(title: str | None, *controls: ft.Control, key: str | None = None) -> ft.Control:
    items: list[ft.Control] = []
    if title:
        items.append(ft.Text(title, size=15, weight=ft.FontWeight.BOLD, color=theme.PRIMARY))
    items.extend(controls)
    return ft.Card(
        key=key,
        content=ft.Container(padding=ft.Padding.all(14), content=ft.Column(
            items, spacing=8, horizontal_alignment=ft.CrossAxisAlignment.STRETCH)))


def kv(label_text: str, value: str, *, value_color: str | None = None) -> ft.Control:
    return ft.Row(
        [ft.Text(label_text, size=14, color=theme.MUTED, width=130),
         ft.Text(value, size=15, color=value_color, expand=True)],
        vertical_alignment=ft.CrossAxisAlignment.START)


def chip(text: str, color: str, *, icon: ft.IconData | None = None) -> ft.Control:
    row: list[ft.Control] = []
    if icon is not None:
        row.append(ft.Icon(icon, size=16, color=color))
    row.append(ft.Text(text, size=13, color=color, weight=ft.FontWeight.W_600))
    return ft.Container(
        content=ft.Row(row, spacing=4, tight=True),
        padding=ft.Padding.symmetric(horizontal=8, vertical=3),
        border=ft.Border.all(1, color), border_radius=12)


SYNC_COLORS = {"synced": theme.OK, "pending": theme.WARNING, "conflict": theme.DANGER,
               "held": theme.DANGER, "rejected": theme.DANGER}
SYNC_ICONS = {"synced": ft.Icons.CLOUD_DONE, "pending": ft.Icons.CLOUD_UPLOAD,
              "conflict": ft.Icons.ERROR, "held": ft.Icons.PAUSE_CIRCLE,
              "rejected": ft.Icons.ERROR}


def sync_chip(mark: str, text: str) -> ft.Control:
    return chip(text, SYNC_COLORS.get(mark, theme.MUTED), icon=SYNC_ICONS.get(mark))


def error_text(message: str | None) -> ft.Control:
    return ft.Text(message or "", color=theme.DANGER, size=14, visible=bool(message))


def notice_box(text: str, icon: ft.IconData = ft.Icons.INFO_OUTLINE, *,
               color: str = theme.WARNING) -> ft.Control:
    """An amber box that says something before the user goes on (outages, care list)."""
    return ft.Container(
        bgcolor=ft.Colors.AMBER_50, border_radius=8, padding=ft.Padding.all(10),
        margin=ft.Margin.symmetric(horizontal=4, vertical=2),
        content=ft.Row([ft.Icon(icon, color=color),
                        ft.Text(text, size=14, expand=True)],
                       vertical_alignment=ft.CrossAxisAlignment.START))
