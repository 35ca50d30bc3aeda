"""Daemon threads the server starts and stops with its lifespan (``server.app``): the
PostgreSQL change listener (``server.changes.notify.PgListener``) and SQLite's WAL
checkpointer (``server.db.WalCheckpointer``)."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod


class BackgroundThread(ABC):
    """A daemon thread running ``_run`` from ``start`` until ``stop`` (which waits up to
    five seconds for it). ``_run`` returns once ``self._stop`` is set."""

    thread_name = "gridone-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    @abstractmethod
    def _run(self) -> None:
        """The thread's work, until ``self._stop`` is set."""
