"""Counts of expected events of this process (a client gone mid-request, ...), for the
ops metrics to read: ``app.state.counters.snapshot()``. Thread-safe; made in
``create_app`` (never at import time)."""

from __future__ import annotations

import threading
from collections import Counter


class Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, n: int = 1) -> int:
        """Count ``n`` more ``name`` events; returns the new total."""
        with self._lock:
            self._counts[name] += n
            return self._counts[name]

    def get(self, name: str) -> int:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)
