"""What the office screens of one session share: the client, the frame's state, the
board's live change feed, and one way to call the server from a screen."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mobile.office.client import OfficeClient, Offline, SignedOut
from mobile.office.state.shell import OfficeShellState

T = TypeVar("T")


@dataclass(eq=False)
class OfficeContext:
    client: OfficeClient
    shell: OfficeShellState
    on_signed_out: Callable[[], Any] = lambda: None
    _live: weakref.WeakValueDictionary[int, Any] = field(
        default_factory=weakref.WeakValueDictionary)

    async def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run a client call away from the UI loop; the frame's connection state follows
        the outcome (a failure to reach the server shows the banner at once)."""
        try:
            result = await asyncio.to_thread(fn, *args, **kw)
        except Offline as exc:
            self.shell.connection_lost(exc.message)
            raise
        except SignedOut:
            self.on_signed_out()
            raise
        self.shell.connection_ok()
        return result

    # -- live updates -------------------------------------------------------------------
    def track(self, state: Any) -> Any:
        """``state.on_changes(change)`` is awaited for every change the feed brings (while a
        screen holds the state)."""
        self._live[id(state)] = state
        return state

    def listeners(self) -> list[Any]:
        return list(self._live.values())
