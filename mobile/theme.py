"""GridOne's look: Material 3 seeded from the GridOne green, with an amber accent.

Large touch targets and strong contrast: the app is used with one thumb, in sunlight.
"""

from __future__ import annotations

import flet as ft

PRIMARY = "#007A5E"  # GridOne green
ACCENT = "#F2A900"  # high-voltage amber
DANGER = "#B3261E"
WARNING = "#A15C00"
OK = "#1B7F3B"
MUTED = "#5F6B66"
SURFACE = "#F6FBF8"


def build_theme(*, font_family: str | None = None) -> ft.Theme:
    return ft.Theme(
        color_scheme_seed=PRIMARY,
        font_family=font_family,
        use_material3=True,
        visual_density=ft.VisualDensity.STANDARD,
    )
