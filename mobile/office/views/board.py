"""The board screen (being built: issue 10)."""

from __future__ import annotations

from typing import Any

import flet as ft

from mobile.office.i18n import t


@ft.component
def BoardView(app: Any, octx: Any) -> ft.Control:
    return ft.Container(padding=24, content=ft.Text(t("page_board", app.lang), size=22))
