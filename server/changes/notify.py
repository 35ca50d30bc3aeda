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
notifier when one arrives. SQLite has no such channel: with several workers on one file
(``gridone serve --workers N``), or a command writing beside the server, each worker's
``SqliteWatcher`` reads the change log's counter every 50 ms and rings its notifier when
another process's commit moved it past what this process announced itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import TYPE_CHECKING, Any

from server.background import BackgroundThread

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("gridone.changes.notify")
#: The PostgreSQL channel change-log commits are announced on.
CHANNEL = "gridone_changes"


class ChangeNotifier:
    """Thread-safe: ``notify`` from any thread; ``wait`` from coroutines on any loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        #: the highest change-log number announced here (``SqliteWatcher`` rings only
        #: for numbers past it: another process's commits)
        self.seq = 0

    def mark(self) -> int:
        """Take before looking; pass to ``wait``."""
        return self._count

    def reached(self, seq: int) -> None:
        """Note that the change log stands at ``seq`` without ringing (where a watcher
        starts: nothing changed for the polls)."""
        with self._lock:
            self.seq = max(self.seq, seq)

    def notify(self, seq: int | None = None) -> None:
        """Ring; ``seq``: the change-log number the commit reached, if known."""
        with self._lock:
            self._count += 1
            if seq is not None and seq > self.seq:
                self.seq = seq
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


#: The change log's high-water mark, as ``UnitOfWork.commit`` takes numbers from it.
_CHANGE_SEQ = "SELECT value FROM counter WHERE name = 'change_seq'"


class SqliteWatcher(BackgroundThread):
    """A daemon thread that rings ``notifier`` when the change log's counter in a SQLite
    database moves past what this process announced (a commit by another worker process,
    or by a command run beside the server): long polls then wake within ``every_s``
    instead of at their next re-look. One primary-key read on its own connection per
    ``every_s`` (a WAL reader never waits for the writer)."""

    thread_name = "gridone-sqlite-watch"

    def __init__(self, engine: Engine, notifier: ChangeNotifier, every_s: float = 0.05
                 ) -> None:
        super().__init__()
        self.engine = engine
        self.notifier = notifier
        self.every_s = every_s

    def look(self, conn: Any) -> None:
        """One look: ring if another process's commit moved the counter."""
        row = conn.execute(_CHANGE_SEQ).fetchone()
        seq = int(row[0]) if row else 0
        if seq > self.notifier.seq:
            self.notifier.notify(seq)

    def _run(self) -> None:
        conn = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    conn = self.engine.raw_connection()
                    row = conn.execute(_CHANGE_SEQ).fetchone()  # where this process starts
                    self.notifier.reached(int(row[0]) if row else 0)
                while not self._stop.wait(self.every_s):
                    self.look(conn)
            except Exception as exc:  # never let the thread die: long polls still re-look
                log.warning("change watcher failed (%s); again in 1 s", exc)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                    conn = None
                self._stop.wait(1.0)
        if conn is not None:
            conn.close()
