"""Requests running in a helper thread while the caller goes on with local work.

The pusher sends batch n+1 while it records the answers to batch n (``Ahead``: one
call); the puller fetches pages one after another while it writes them (``Chain``).
Python in the browser (Pyodide) has no threads: there ``THREADS`` is false and both work
one step at a time.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

#: Python in the browser (Pyodide) has no threads.
THREADS = sys.platform != "emscripten"

T = TypeVar("T")


class Ahead(Generic[T]):
    """``fn(*args)`` started in a helper thread; ``result()`` waits for it and returns its
    value or raises its exception."""

    def __init__(self, fn: Callable[..., T], *args: object) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(fn, *args),
                                        name="gridone-ahead", daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[..., T], *args: object) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc
        self._done = True

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done
        return self._value  # type: ignore[return-value]


class Chain(Generic[T]):
    """``fetch(first)``, then ``fetch(following(value))`` for each value that has a
    ``following`` (not None), one after another in a helper thread, at most one value
    waiting to be taken while the next call runs: the caller takes them in order with
    ``next()``. The puller's download: page n+2 is on its way while page n is written and
    n+1 waits, so the server is never idle waiting for the phone.

    A failed call ends the chain: ``next()`` raises its exception after the values before
    it. ``close()`` (always, in a ``finally``) stops the helper; a call in flight then
    finishes and its value is dropped."""

    def __init__(self, fetch: Callable[[object], T], first: object,
                 following: Callable[[T], object | None]) -> None:
        self._fetch, self._following = fetch, following
        self._ready: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(first,),
                                        name="gridone-chain", daemon=True)
        self._thread.start()

    def _run(self, arg: object) -> None:
        while not self._stop.is_set():
            try:
                value = self._fetch(arg)
                after = self._following(value)
            except BaseException as exc:  # handed to the caller by next()
                self._hand((False, exc))
                return
            if not self._hand((True, value)) or after is None:
                return
            arg = after

    def _hand(self, item: tuple[bool, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def next(self) -> T:
        ok, value = self._ready.get()
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    def close(self) -> None:
        self._stop.set()
