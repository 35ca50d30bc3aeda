"""The device's data folder in persistent browser storage (Emscripten's IDBFS).

Python's files in the browser live in memory; ``BrowserStorage`` mounts IndexedDB at
``/data`` and copies it in once at start (``open``). After that, a change is durable only
once it is written back (``FS.syncfs(false)``), so ``changed()`` is called after every
local commit (the store's SQLAlchemy ``commit`` event: an op and its row, a pulled page,
a push's results) and writes back at once; writes that arrive while one is running are
folded into the next. A slow timer (``tick_s``) also writes back files changed outside the
database (drafts, ``device.json``). IDBFS writes only files changed since its last write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
DATA = Path("/data")


def _fs() -> Any:
    import pyodide_js  # type: ignore[import-not-found]

    return pyodide_js.FS


def _syncfs(populate: bool) -> asyncio.Future[None]:
    from pyodide.ffi import create_once_callable, jsnull  # type: ignore[import-not-found]

    fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(err: Any = None) -> None:
        if fut.done():
            return
        if err is not None and err is not jsnull:
            fut.set_exception(OSError(f"IndexedDB sync failed: {err}"))
        else:
            fut.set_result(None)

    _fs().syncfs(populate, create_once_callable(done))
    return fut


class BrowserStorage:
    def __init__(self, mount: Path = DATA, *, tick_s: float = 2.0) -> None:
        self.mount = mount
        self.tick_s = tick_s
        self._opened = False
        self._dirty = False
        self._running: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        #: how many write-backs finished, and when the last one did (monotonic)
        self.writes = 0
        self.last_write_at: float | None = None

    async def open(self) -> None:
        """Mount IndexedDB at ``mount`` and load what it holds (once per worker)."""
        if self._opened:
            return
        fs = _fs()
        self.mount.mkdir(parents=True, exist_ok=True)
        fs.mount(fs.filesystems.IDBFS, {}, str(self.mount))
        await _syncfs(True)
        self._opened = True
        self._ticker = asyncio.get_running_loop().create_task(self._tick())

    def changed(self, *_: Any) -> None:
        """Something under ``mount`` changed: write it back now (or right after the write
        in progress)."""
        self._dirty = True
        if self._opened and (self._running is None or self._running.done()):
            self._running = asyncio.get_running_loop().create_task(self._write_back())

    async def flush(self) -> None:
        """Write back everything changed so far, and wait for it."""
        self.changed()
        while self._running is not None and not self._running.done():
            await asyncio.shield(self._running)

    async def _write_back(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await _syncfs(False)
            except OSError:
                log.exception("could not write the device's data to IndexedDB")
                await asyncio.sleep(self.tick_s)
                self._dirty = True
                continue
            self.writes += 1
            self.last_write_at = time.monotonic()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            self.changed()
