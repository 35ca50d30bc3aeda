"""Which days need their analytics computed again, and the lock that keeps an import and
a computation of the same data from interleaving.

An import marks the days it changed dirty; a computation clears the mark. On PostgreSQL
imports take a shared advisory lock and computations an exclusive one, so an import
either commits before a computation reads the data or marks the day dirty again after it
(SQLite serializes writers already).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from server.monitoring.models import MonitoringDay

_LOCK_KEY = 7_120_012  # "monitoring data"


def lock(session: Session, *, exclusive: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        session.execute(text(f"SELECT {fn}(:k)"), {"k": _LOCK_KEY})


def _upsert(session: Session, rows: list[dict[str, Any]], update: dict[str, Any]) -> None:
    table = MonitoringDay.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["day"], set_={k: getattr(stmt.excluded, k) for k in update}))


def mark_dirty(session: Session, days: Iterable[date], now: datetime) -> None:
    """The analytics of these days must be computed again."""
    rows = [{"day": d, "dirty": True, "changed_at": now, "computed_at": None}
            for d in sorted(set(days))]
    if rows:
        _upsert(session, rows, {"dirty": True, "changed_at": now})


def mark_computed(session: Session, day: date, now: datetime) -> None:
    _upsert(session, [{"day": day, "dirty": False, "changed_at": now, "computed_at": now}],
            {"dirty": False, "computed_at": now})


def dirty_days(session: Session) -> list[date]:
    return list(session.exec(select(col(MonitoringDay.day)).where(
        col(MonitoringDay.dirty).is_(True)).order_by(col(MonitoringDay.day))).all())
