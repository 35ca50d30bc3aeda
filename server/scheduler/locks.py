"""Who runs a tick: the claim that lets one worker of many run each job's tick.

A worker claims tick ``slot`` of a job by moving the job's ``last_slot`` up to it with a
conditional UPDATE: of several workers firing the same tick, one moves it and the others
find it already there and skip. While the job runs it is also held against overlap with a
later tick that another worker fires:

* PostgreSQL: a session advisory lock on a connection kept for the run (released by the
  server if the worker dies with it);
* SQLite: a lease on the job's row (``lease_owner``/``lease_until``), released when the
  run ends or, if the worker died, when it expires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import or_, text, update
from sqlmodel import col

from server.db import Database
from server.scheduler.models import SchedulerJob
from server.scheduler.registry import Job

#: The shortest lease on SQLite (a run longer than this could overlap the next tick's).
LEASE_MIN = timedelta(minutes=10)


class TickLock(Protocol):
    def claim(self, job: Job, slot: int, now: datetime, owner: str
              ) -> AbstractContextManager[bool]: ...


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a job name."""
    digest = hashlib.blake2b(f"gridone.scheduler.{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _take_slot(slot: int, now: datetime, owner: str, name: str) -> object:
    table = SchedulerJob.__table__  # type: ignore[attr-defined]
    return (update(table)
            .where(table.c.name == name,
                   or_(table.c.last_slot.is_(None), table.c.last_slot < slot))
            .values(last_slot=slot, last_started_at=now, last_worker=owner))


class AdvisoryLock:
    """PostgreSQL: ``pg_try_advisory_lock`` held for the run, then the slot check."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def claim(self, job: Job, slot: int, now: datetime, owner: str) -> Iterator[bool]:
        key = advisory_key(job.name)
        with self.db.writer.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": key}).scalar())
            conn.commit()
            if not got:
                yield False
                return
            try:
                claimed = conn.execute(_take_slot(slot, now, owner, job.name))  # type: ignore[call-overload]
                conn.commit()
                yield claimed.rowcount == 1
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()


class LeaseLock:
    """SQLite (or any database): the slot check and a lease on the job's row, in one
    conditional UPDATE."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @contextmanager
    def claim(self, job: Job, slot: int, now: datetime, owner: str) -> Iterator[bool]:
        table = SchedulerJob.__table__  # type: ignore[attr-defined]
        until = now + max(job.every, LEASE_MIN)
        stmt = _take_slot(slot, now, owner, job.name).where(  # type: ignore[attr-defined]
            or_(table.c.lease_until.is_(None), table.c.lease_until < now)
        ).values(lease_owner=owner, lease_until=until)
        with self.db.writer.begin() as conn:
            claimed = conn.execute(stmt).rowcount == 1
        try:
            yield claimed
        finally:
            if claimed:
                with self.db.writer.begin() as conn:
                    conn.execute(update(table).where(
                        table.c.name == job.name, col(SchedulerJob.lease_owner) == owner)
                        .values(lease_owner=None, lease_until=None))


def lock_for(db: Database) -> TickLock:
    return LeaseLock(db) if db.is_sqlite else AdvisoryLock(db)
