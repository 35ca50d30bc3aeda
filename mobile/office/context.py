"""What the office screens of one session share: the client, the frame's state, the
board's live change feed, one way to call the server from a screen, and the landing
screen's state when the frame started loading it before it was first drawn."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
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
    _handed: dict[str, Any] = field(default_factory=dict)

    async def call(self, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        """Run a client call away from the UI loop; the frame's connection state follows
        the outcome (a failure to reach the server shows the banner at once)."""
        return await self.outcome(self.send(fn, *args, **kw))

    def send(self, fn: Callable[..., T], *args: Any, **kw: Any) -> asyncio.Future[T]:
        """Start a client call now, on a worker thread, even from a synchronous place (a
        first render): the request leaves at once; ``await outcome(...)`` it later."""
        return asyncio.get_running_loop().run_in_executor(None, partial(fn, *args, **kw))

    def send_long(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``send`` for a call that may wait long (the board's long poll, up to ~25 s): on
        a thread of its own that does not hold the process at exit (the event loop's
        shared executor is waited for when the app stops, and a long poll in it held
        every stop of the app ~10-25 s)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if future.done():  # cancelled meanwhile: the answer is not wanted
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

        def work() -> None:
            result, error = None, None
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the awaiting coroutine
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits
                loop.call_soon_threadsafe(settle, result, error)

        threading.Thread(target=work, name="gridone-office-long-call", daemon=True).start()
        return future

    async def outcome(self, sent: Awaitable[T]) -> T:
        """The answer of a call ``send`` started, with the connection state following it."""
        try:
            result = await sent
        except Offline as exc:
            self.shell.connection_lost(exc.message)
            raise
        except SignedOut:
            self.on_signed_out()
            raise
        self.shell.connection_ok()
        return result

    # -- the landing screen, loading before it is drawn ---------------------------------
    def hand_over(self, page: str, state: Any) -> None:
        """The frame made ``page``'s state and started its first load already."""
        self._handed[page] = state

    def take_over(self, page: str) -> Any | None:
        """The state the frame made for ``page`` (once; None: make your own)."""
        return self._handed.pop(page, None)

    # -- live updates -------------------------------------------------------------------
    def track(self, state: Any) -> Any:
        """``state.on_changes(change)`` is awaited for every change the feed brings (while a
        screen holds the state)."""
        self._live[id(state)] = state
        return state

    def listeners(self) -> list[Any]:
        return list(self._live.values())
