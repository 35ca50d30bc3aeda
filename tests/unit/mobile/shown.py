"""What a built screen shows, read from its controls."""

from __future__ import annotations

from typing import Any

import flet as ft


def texts(control: Any) -> list[str]:
    """The words a control shows (its texts, depth first), as the user reads them."""
    if isinstance(control, list):
        return [w for c in control for w in texts(c)]
    out = [control.value] if isinstance(control, ft.Text) and control.value else []
    for name in ("content", "controls"):
        child = getattr(control, name, None)
        if child is not None:
            out += texts(child)
    return out
