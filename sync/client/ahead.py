"""One request running in a helper thread while the caller goes on with local work.

The puller fetches page n+1 while it writes page n; the pusher sends batch n+1 while it
records the answers to batch n. Python in the browser (Pyodide) has no threads: there
``THREADS`` is false and both work one step at a time.
"""

from __future__ import annotations

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
