"""The scheduler inside the server: APScheduler fires each job on every worker; the
database decides which worker runs each tick (``server.scheduler.locks``), and the
outcome of every run is stored in ``scheduler_job`` for the admin.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from server.config import Settings
from server.db import Database
from server.scheduler.locks import TickLock, lock_for
from server.scheduler.models import SchedulerJob
from server.scheduler.registry import Job, JobContext
from shared.timeutil import utcnow

log = logging.getLogger("gridone.scheduler")

Outcome = Literal["ok", "error", "skipped"]
MAX_ERROR_CHARS = 4000


class RunObserver(Protocol):
    """Told about every tick (the metrics)."""

    def job_tick(self, job: str, outcome: Outcome, seconds: float) -> None: ...


class Scheduler:
    """``register`` jobs, then ``start`` (in the app's lifespan) and ``shutdown``."""

    def __init__(self, db: Database, settings: Settings, *, services: dict[str, Any]
                 | None = None, observer: RunObserver | None = None,
                 jobs: Iterable[Job] = ()) -> None:
        self.db = db
        self.settings = settings
        self.context = JobContext(db, settings, dict(services or {}))
        self.observer = observer
        self.lock: TickLock = lock_for(db)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10_000:04d}"
        self._jobs: dict[str, Job] = {}
        self._aps: BackgroundScheduler | None = None
        self._guard = threading.Lock()
        #: This process's ticks per (job, outcome): how often it ran, failed or skipped.
        self.stats: Counter[tuple[str, str]] = Counter()
        for job in jobs:
            self.register(job)

    # -- the registry -----------------------------------------------------------------
    def register(self, job: Job) -> None:
        if self._aps is not None:
            raise RuntimeError("register jobs before the scheduler starts")
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} is already registered")
        self._jobs[job.name] = job.with_interval(
            self.settings.scheduler_intervals.get(job.name))

    @property
    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        self.ensure_rows()
        aps = BackgroundScheduler(
            timezone=UTC, executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
        for job in self._jobs.values():
            aps.add_job(self.tick, IntervalTrigger(seconds=job.every.total_seconds(),
                                                   start_date=job.start, timezone=UTC),
                        args=[job.name], id=job.name, name=job.name)
        aps.start()
        self._aps = aps
        log.info("scheduler started: %s", ", ".join(
            f"{j.name} every {j.every.total_seconds():g}s" for j in self._jobs.values()))

    def shutdown(self, wait: bool = True) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=wait)
            self._aps = None

    def ensure_rows(self) -> None:
        """One state row per registered job (several workers may do this at once)."""
        insert = sqlite_insert if self.db.is_sqlite else pg_insert
        with self.db.writer.begin() as conn:
            for job in self._jobs.values():
                conn.execute(insert(SchedulerJob.__table__).values(  # type: ignore[attr-defined]
                    name=job.name, interval_s=job.every.total_seconds(), run_count=0,
                    error_count=0).on_conflict_do_nothing(index_elements=["name"]))
                conn.execute(update(SchedulerJob.__table__).where(  # type: ignore[attr-defined]
                    SchedulerJob.__table__.c.name == job.name).values(  # type: ignore[attr-defined]
                    interval_s=job.every.total_seconds()))

    # -- one tick -----------------------------------------------------------------------
    def tick(self, name: str, *, now: datetime | None = None) -> Outcome:
        """Run ``name``'s current tick here, unless another worker has (or is running it)."""
        job = self._jobs[name]
        now = now or utcnow()
        slot = job.slot(now)
        started = time.perf_counter()
        with self.lock.claim(job, slot, now, self.owner) as claimed:
            if not claimed:
                return self._observe(name, "skipped", 0.0)
            result: str | None = None
            error: str | None = None
            try:
                result = job.run(job.context(self.context, now))
            except Exception as exc:
                log.exception("scheduled job %s failed", name)
                error = "".join(traceback.format_exception(exc))[-MAX_ERROR_CHARS:]
            seconds = time.perf_counter() - started
            self._record(job, slot, seconds, result, error)
        return self._observe(name, "error" if error else "ok", seconds)

    def _observe(self, name: str, outcome: Outcome, seconds: float) -> Outcome:
        with self._guard:
            self.stats[(name, outcome)] += 1
        if self.observer is not None:
            self.observer.job_tick(name, outcome, seconds)
        return outcome

    def _record(self, job: Job, slot: int, seconds: float, result: str | None,
                error: str | None) -> None:
        table = SchedulerJob.__table__  # type: ignore[attr-defined]
        finished = utcnow()
        values: dict[str, Any] = {
            "last_finished_at": finished, "last_duration_ms": round(seconds * 1000),
            "last_status": "error" if error else "ok",
            "last_result": (result or "")[:500] or None,
            "next_run_at": job.slot_time(slot + 1),
            "run_count": table.c.run_count + 1,
        }
        if error:
            values.update(last_error=error, last_error_at=finished,
                          error_count=table.c.error_count + 1)
        with self.db.writer.begin() as conn:
            conn.execute(update(table).where(table.c.name == job.name).values(**values))

    # -- what the admin sees ------------------------------------------------------------
    def rows(self) -> dict[str, SchedulerJob]:
        with Session(self.db.reader) as session:
            return {r.name: r for r in session.exec(select(SchedulerJob)).all()}
