"""Small pieces the supervision pages share: a wide table, a pager, a figure card, a
section title, a page frame with a help line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from mobile import theme
from mobile.office.i18n import t


def table(heads: list[str], rows: list[list[ft.Control]], *,
          on_tap: list[Callable[[], Any]] | None = None,
          picked: list[bool] | None = None) -> ft.Control:
    data_rows = []
    for i, cells in enumerate(rows):
        tap = on_tap[i] if on_tap else None
        data_rows.append(ft.DataRow(
            cells=[ft.DataCell(c, on_tap=(lambda _, f=tap: f()) if tap else None)
                   for c in cells],
            color=ft.Colors.with_opacity(0.08, theme.PRIMARY)
            if picked and picked[i] else None))
    return ft.Row([ft.DataTable(
        columns=[ft.DataColumn(ft.Text(h, weight=ft.FontWeight.BOLD, size=13)) for h in heads],
        rows=data_rows, column_spacing=16, horizontal_margin=10, data_row_min_height=44,
        data_row_max_height=72, heading_row_height=40, bgcolor=ft.Colors.WHITE,
        border_radius=8, border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT))],
        scroll=ft.ScrollMode.AUTO)


def cell(text: Any, *, width: int | None = None, bold: bool = False,
         color: str | None = None, size: int = 13) -> ft.Control:
    return ft.Text("" if text is None else str(text), size=size, width=width, color=color,
                   max_lines=3, overflow=ft.TextOverflow.ELLIPSIS,
                   weight=ft.FontWeight.W_600 if bold else None)


def pager(text: str, lang: str, on_move: Callable[[int], Any]) -> ft.Control:
    return ft.Row([
        ft.Text(text, size=13, color=theme.MUTED),
        ft.IconButton(ft.Icons.CHEVRON_LEFT, tooltip=t("prev_page", lang),
                      on_click=lambda _: on_move(-1)),
        ft.IconButton(ft.Icons.CHEVRON_RIGHT, tooltip=t("next_page", lang),
                      on_click=lambda _: on_move(1)),
    ], spacing=4)


def figure(title: str, value: Any, *, color: str | None = None, size: int = 26
           ) -> ft.Control:
    """A card of one figure; the value stays on one line (the cards of a row keep one
    height): pass a smaller ``size`` for a long value such as a meter number."""
    return ft.Container(
        width=170, padding=ft.Padding.all(12), bgcolor=ft.Colors.WHITE, border_radius=8,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        content=ft.Column([ft.Text(title, size=13, color=theme.MUTED),
                           ft.Text(str(value), size=size, weight=ft.FontWeight.BOLD,
                                   color=color, max_lines=1,
                                   overflow=ft.TextOverflow.ELLIPSIS)], spacing=2))


def heading(text: str, size: int = 18) -> ft.Control:
    return ft.Text(text, size=size, weight=ft.FontWeight.BOLD)


def frame(body: list[ft.Control], side: ft.Control | None = None) -> ft.Control:
    main = ft.Container(padding=ft.Padding.all(16), expand=True,
                        content=ft.Column(body, spacing=10, scroll=ft.ScrollMode.AUTO))
    row: list[ft.Control] = [main]
    if side is not None:
        row.append(ft.Container(
            width=400, bgcolor=ft.Colors.WHITE, padding=ft.Padding.all(14),
            border=ft.Border.only(left=ft.BorderSide(1, ft.Colors.OUTLINE_VARIANT)),
            content=ft.Column([side], scroll=ft.ScrollMode.AUTO)))
    return ft.Row(row, spacing=0, expand=True,
                  vertical_alignment=ft.CrossAxisAlignment.STRETCH)


def notice_line(text: str, *, error: bool = False) -> ft.Control:
    return ft.Text(text, color=theme.DANGER if error else theme.OK, size=14,
                   visible=bool(text), weight=ft.FontWeight.W_600)
