"""Database engines, the aware-datetime column type, and the unit of work.

Only the unit of work commits. A row, its audit entries and its change-log entries are
written in one transaction or not at all (``UnitOfWork.commit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from server.changes.notify import ChangeNotifier


class AwareDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class Database:
    """The engines of one database: ``writer`` takes the write lock at BEGIN on SQLite."""

    url: str
    writer: Engine
    reader: Engine
    #: Rung after each commit that wrote change-log entries (long polls wait on it).
    notifier: ChangeNotifier = field(default_factory=ChangeNotifier)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    def dispose(self) -> None:
        self.writer.dispose()
        self.reader.dispose()


def _dump_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: JSON columns written and read with orjson: several times faster than the json module
#: (a pushed op writes three JSON values), compact, UTF-8 rather than \u escapes.
_JSON: dict[str, Any] = {"json_serializer": _dump_json, "json_deserializer": orjson.loads}


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # No bound on connections (max_overflow=-1; five are kept): a SQLite connection is a
    # file handle, and a bounded pool could run dry under load with every thread-pool
    # thread waiting for a connection held by a request that waits for a thread (the
    # server stopped answering at 400 simulated devices: bench/load_county.py).
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=5, max_overflow=-1, **_JSON)
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_database(url: str) -> Database:
    if url.startswith("sqlite"):
        return Database(url, _sqlite_engine(url, immediate=True),
                        _sqlite_engine(url, immediate=False))
    # as many connections as the thread pool has threads (anyio's 40 a worker): a thread
    # never waits for a connection that only a thread can give back
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, **_JSON)
    return Database(url, engine, engine)


def bump_counter(session: Session, name: str, by: int = 1) -> int:
    """Increment a named counter row and return its new value.

    The row stays locked until the transaction ends, so transactions that take numbers
    from the same counter commit in the order of their numbers.
    """
    value = session.execute(
        text("UPDATE counter SET value = value + :by WHERE name = :name RETURNING value"),
        {"by": by, "name": name},
    ).scalar_one_or_none()
    if value is None:
        session.execute(text("INSERT INTO counter (name, value) VALUES (:name, :by)"),
                        {"name": name, "by": by})
        value = by
    return int(value)
