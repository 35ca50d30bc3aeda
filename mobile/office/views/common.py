"""Small helpers the office screens share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import flet as ft


def use_runner() -> Callable[[Awaitable[Any]], None]:
    """``run(state.method(...))`` from a click handler: the coroutine runs as a task of the
    page (the handler returns at once; the state's changes redraw the screen)."""
    page = ft.context.page

    def run(coro: Awaitable[Any]) -> None:
        async def go() -> None:
            await coro

        page.run_task(go)

    return run
