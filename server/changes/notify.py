"""Live delivery: long polls wake when a change commits.

``ChangeNotifier`` is one process's doorbell. The unit of work rings it after a commit
that wrote change-log entries (``server.uow.UnitOfWork.commit``); long polls (a sync pull
with ``wait``, the dispatch desk's change feed) take a ``mark`` *before* they look, and
``wait`` returns at once if it rang since, so no commit between the look and the wait is
missed. A wake-up says only "something committed": the waiter looks again, in its own
scope, and waits on if nothing there changed.

With PostgreSQL several API workers (processes) serve the same database: the committing
transaction also sends ``NOTIFY gridone_changes`` (delivered by PostgreSQL at commit, never
for a rolled-back transaction), and each worker's ``PgListener`` thread rings its own
notifier when one arrives. SQLite is served by one worker: the in-process bell suffices.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from server.background import BackgroundThread

log = logging.getLogger("gridone.changes.notify")
#: The PostgreSQL channel change-log commits are announced on.
CHANNEL = "gridone_changes"


class ChangeNotifier:
    """Thread-safe: ``notify`` from any thread; ``wait`` from coroutines on any loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def mark(self) -> int:
        """Take before looking; pass to ``wait``."""
        return self._count

    def notify(self) -> None:
        with self._lock:
            self._count += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed: waiter gone
                loop.call_soon_threadsafe(event.set)

    async def wait(self, mark: int, timeout: float) -> bool:
        """True as soon as a commit rang after ``mark``; False after ``timeout`` seconds."""
        if self._count != mark:
            return True
        item = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            if self._count != mark:
                return True
            self._waiters.add(item)
        try:
            await asyncio.wait_for(item[1].wait(), max(timeout, 0.0))
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(item)


class PgListener(BackgroundThread):
    """A daemon thread holding one PostgreSQL connection that ``LISTEN``s on ``CHANNEL``
    and rings ``notifier`` for each notification (and once after each (re)connect, since
    a notification may have been missed while it was away)."""

    thread_name = "gridone-pg-listen"

    def __init__(self, conninfo: str, notifier: ChangeNotifier) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.notifier = notifier
        self.listening = threading.Event()

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self.notifier.notify()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.notifier.notify()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("change listener lost its connection (%s); again in 1 s", exc)
                self._stop.wait(1.0)


def conninfo_of(url: str) -> str:
    """A psycopg connection string from the SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
