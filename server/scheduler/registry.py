"""Jobs as data: a name, how often, and the function to call.

Adding a periodic job is one call, before the app starts::

    app.state.scheduler.register(Job("stall-check", timedelta(minutes=1), check_stalls))

or one line in ``server.scheduler.jobs.DEFAULT_JOBS``. The function gets a ``JobContext``
and returns a short summary (shown to the admin as the last result) or None; an exception
is recorded as the job's last error and the job runs again at its next tick.

Ticks are numbered from a fixed anchor (``ANCHOR + offset + n * every``), the same on
every worker and every machine, so workers agree on which tick is due: a daily job with
``offset=timedelta(hours=18, minutes=30)`` runs at 18:30 UTC (02:30 in China).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from server.config import Settings
from server.db import Database

ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class JobContext:
    """What a job may use: the database, the settings, the app's services, and the time
    of the tick being run."""

    db: Database
    settings: Settings
    services: dict[str, Any] = field(default_factory=dict)
    now: datetime = ANCHOR


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    run: Callable[[JobContext], str | None]
    offset: timedelta = timedelta(0)
    description: str = ""

    def __post_init__(self) -> None:
        if self.every.total_seconds() <= 0:
            raise ValueError(f"job {self.name}: the interval must be positive")
        if not 0 < len(self.name) <= 64:
            raise ValueError("a job name has 1-64 characters")

    def context(self, base: JobContext, now: datetime) -> JobContext:
        return replace(base, now=now)

    def with_interval(self, seconds: float | None) -> Job:
        if seconds is None:
            return self
        return Job(self.name, timedelta(seconds=seconds), self.run, self.offset,
                   self.description)

    # -- tick arithmetic (the same on every worker) ---------------------------------------
    @property
    def start(self) -> datetime:
        return ANCHOR + self.offset

    def slot(self, at: datetime) -> int:
        """The number of the latest tick at or before ``at``."""
        return math.floor((at - self.start) / self.every)

    def slot_time(self, slot: int) -> datetime:
        return self.start + slot * self.every
