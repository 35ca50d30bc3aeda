"""Counting hits and failures in the database, each in one short transaction of its own.

``spend`` takes one unit of a budget (a fixed window per key) and refuses with
``RATE_LIMITED`` once it is used up; ``login_lock`` / ``login_failed`` / ``login_ok``
keep sign-in failures per user name and per address and lock a key out (doubling each
time, up to a maximum) when it fails too often. Refusals carry ``retry_after`` (seconds),
which the API sends as ``Retry-After``.

Each call is its own transaction on ``db.writer``: call them outside a unit of work (on
SQLite a second writer inside one would wait for the first).
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.config import Settings
from server.db import Database
from server.ratelimit.models import RateLimit
from shared.errors import DomainError, ErrorCode

TABLE: Table = RateLimit.__table__  # type: ignore[attr-defined]
MAX_KEY = 200


@dataclass(frozen=True)
class Hit:
    hits: int
    window_start: float
    lockouts: int


def _key(*parts: str) -> str:
    return ":".join(parts).replace("\x00", "?")[:MAX_KEY]


def _hit(conn: object, db: Database, key: str, window_s: float, now: float) -> Hit:
    """Count one hit on ``key`` in its current window (a new window if the last ended)."""
    row = conn.execute(_upsert(db.is_sqlite), {  # type: ignore[attr-defined]
        "key": key, "now": now, "cutoff": now - window_s}).one()
    return Hit(int(row.hits), float(row.window_start), int(row.lockouts))


@functools.lru_cache(maxsize=2)
def _upsert(sqlite: bool) -> Any:
    """The hit's upsert, built once per dialect (every sync request spends a budget:
    building the statement and its cache key anew cost more than running it)."""
    insert = sqlite_insert if sqlite else pg_insert
    now: Any = bindparam("now")
    expired = TABLE.c.window_start <= bindparam("cutoff")
    stmt = insert(TABLE).values(key=bindparam("key"), window_start=now, hits=1, lockouts=0)
    return stmt.on_conflict_do_update(index_elements=["key"], set_={
        "hits": case((expired, 1), else_=TABLE.c.hits + 1),
        "window_start": case((expired, now), else_=TABLE.c.window_start),
    }).returning(TABLE.c.hits, TABLE.c.window_start, TABLE.c.lockouts)


def spend(db: Database, *, kind: str, subject: str, limit: int, window_s: float = 60.0,
          now: float | None = None) -> None:
    """Take one unit of ``subject``'s ``kind`` budget; ``RATE_LIMITED`` when none is left."""
    now = time.time() if now is None else now
    with db.writer.begin() as conn:
        hit = _hit(conn, db, _key(kind, subject), window_s, now)
    _refuse_over(hit, limit=limit, window_s=window_s, now=now)


def _refuse_over(hit: Hit, *, limit: int, window_s: float, now: float) -> None:
    if hit.hits > limit:
        wait = max(1, math.ceil(hit.window_start + window_s - now))
        raise DomainError(ErrorCode.RATE_LIMITED, retry_after=wait, limit=limit,
                          window_s=int(window_s))


class MemoryBudgets:
    """``spend`` kept in this process's memory: the same fixed windows and refusals, no
    write. For budgets taken by cheap, frequent requests (a no-change pull is a read of a
    few microseconds' database work; a write transaction per pull would cost more than
    the pull and queue behind every other writer). With several API workers each counts
    its own share, so a device may get up to (workers x limit) per window: a guard
    against runaway loops, not an exact quota (the push budget is the exact one, in the
    database)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._hits: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._swept_at = 0.0

    def spend(self, *, kind: str, subject: str, limit: int, window_s: float = 60.0,
              now: float | None = None) -> None:
        now = time.time() if now is None else now
        key = _key(kind, subject)
        with self._lock:
            start, hits = self._hits.get(key, (now, 0))
            if start <= now - window_s:
                start, hits = now, 0
            hits += 1
            self._hits[key] = (start, hits)
            if len(self._hits) > self._max_keys or now - self._swept_at > 10 * window_s:
                self._forget(now - window_s)
                self._swept_at = now
        _refuse_over(Hit(hits, start, 0), limit=limit, window_s=window_s, now=now)

    def _forget(self, horizon: float) -> None:
        """Drop the windows that are over (the lock is held)."""
        self._hits = {k: v for k, v in self._hits.items() if v[0] > horizon}


# -- sign-in --------------------------------------------------------------------------------
def login_keys(username: str, address: str | None) -> list[str]:
    return [_key("login", "user", username), _key("login", "addr", address or "-")]


def login_lock(db: Database, *, keys: list[str], now: float | None = None) -> None:
    """Refuse with ``AUTH_RATE_LIMITED`` while any of ``keys`` is locked out."""
    now = time.time() if now is None else now
    with db.reader.connect() as conn:
        until = conn.execute(select(func.max(TABLE.c.locked_until)).where(
            TABLE.c.key.in_(keys), TABLE.c.locked_until > now)).scalar()
    if until is not None:
        raise DomainError(ErrorCode.AUTH_RATE_LIMITED, retry_after=max(1, math.ceil(until - now)))


def login_failed(db: Database, *, keys: list[str], settings: Settings,
                 now: float | None = None) -> None:
    """Count a failed sign-in against the user name and the address; lock out the ones
    that reached their limit within the window."""
    now = time.time() if now is None else now
    limits = (settings.login_user_max_failures, settings.login_address_max_failures)
    with db.writer.begin() as conn:
        for key, limit in zip(keys, limits, strict=True):
            hit = _hit(conn, db, key, settings.login_failure_window_s, now)
            if hit.hits >= limit:
                lock_s = min(settings.login_lockout_s * 2 ** min(hit.lockouts, 20),
                             settings.login_lockout_max_s)
                conn.execute(update(TABLE).where(TABLE.c.key == key).values(
                    locked_until=now + lock_s, lockouts=TABLE.c.lockouts + 1, hits=0,
                    window_start=now))


def login_ok(db: Database, *, username: str) -> None:
    """A successful sign-in forgets the user name's failures (not the address's)."""
    with db.writer.begin() as conn:
        conn.execute(delete(TABLE).where(TABLE.c.key == login_keys(username, None)[0],
                                         or_(TABLE.c.locked_until.is_(None),
                                             TABLE.c.locked_until <= time.time())))


def sweep(db: Database, *, settings: Settings, now: float | None = None) -> int:
    """Delete rows whose window and lock are over (a lock's doubling is remembered for
    ``login_lockout_max_s`` after it ended)."""
    now = time.time() if now is None else now
    horizon = (now - max(settings.login_failure_window_s, settings.sync_budget_window_s)
               - settings.login_lockout_max_s)
    with db.writer.begin() as conn:
        result = conn.execute(delete(TABLE).where(
            TABLE.c.window_start < horizon,
            or_(TABLE.c.locked_until.is_(None), TABLE.c.locked_until < horizon)))
    return int(result.rowcount or 0)


@contextmanager
def login_guard(db: Database, *, settings: Settings, username: str,
                address: str | None) -> Iterator[None]:
    """Around a sign-in: refuse while locked out, count a wrong password, forget the
    user name's failures after a success. A no-op when rate limits are off."""
    if not settings.rate_limits:
        yield
        return
    keys = login_keys(username, address)
    login_lock(db, keys=keys)
    try:
        yield
    except DomainError as exc:
        if exc.code == ErrorCode.AUTH_INVALID_CREDENTIALS:
            login_failed(db, keys=keys, settings=settings)
        raise
    login_ok(db, username=username)
