"""Database engines, the aware-datetime column type, and the unit of work.

Only the unit of work commits. A row, its audit entries and its change-log entries are
written in one transaction or not at all (``UnitOfWork.commit``).
"""

from __future__ import annotations

import functools
import logging
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    ARRAY,
    JSON,
    Boolean,
    Connection,
    Date,
    DateTime,
    Engine,
    Enum,
    Float,
    Numeric,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import NullType, TypeDecorator
from sqlmodel import Session

from server.background import BackgroundThread
from server.changes.notify import ChangeNotifier

log = logging.getLogger("gridone.db")


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


class HotRead:
    """A read run on SQLite's own connection, for the reads every request makes (the
    caller's login check, the change log's high-water mark): SQLAlchemy's machinery around
    one execution cost several times the primary-key read itself. The statement is
    compiled once; rows come back as named tuples with its column names. Other databases,
    and types that need converting on the way out, go through SQLAlchemy as usual (so
    only plain columns belong in one: text, integers, booleans as 0/1, NULL tests)."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._sqlite: tuple[SqliteStatement, Any] | None = None

    def _compiled(self, dialect: Dialect) -> tuple[SqliteStatement, Any]:
        if self._sqlite is None:
            names = tuple(c.key for c in self.statement.selected_columns)
            self._sqlite = (SqliteStatement.of(self.statement, dialect),
                            namedtuple("Row", names))  # type: ignore[misc]
        return self._sqlite

    def one_or_none(self, conn: Connection, params: dict[str, Any] | None = None) -> Any:
        if conn.dialect.name != "sqlite":
            return conn.execute(self.statement, params or {}).one_or_none()
        compiled, row_type = self._compiled(conn.dialect)
        raw = conn.connection.driver_connection
        assert raw is not None
        row = raw.execute(compiled.sql, compiled.values(params or {})).fetchone()
        return None if row is None else row_type(*row)


@dataclass(frozen=True)
class SqliteStatement:
    """A statement compiled once for SQLite: its text, the order of its parameters and the
    values it carries itself (literals, the lists of an ``IN`` rendered in place)."""

    sql: str
    order: tuple[str, ...]
    fixed: dict[str, Any]

    @classmethod
    def of(cls, statement: Any, dialect: Dialect) -> SqliteStatement:
        done = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        return cls(str(done), tuple(done.positiontup or ()), dict(done.params))

    def values(self, params: dict[str, Any]) -> tuple[Any, ...]:
        """The positional values for a run with ``params``."""
        merged = {**self.fixed, **params}
        return tuple(merged[name] for name in self.order)


class BulkRead:
    """Many rows of some columns as plain dicts (the set-wise push's reads before a chunk).
    On SQLite the columns are read as the driver gives them (``type_coerce`` to no type:
    no result processing by SQLAlchemy) and converted here by each column's type: aware
    datetimes from their stored UTC text with ``datetime.fromisoformat``, JSON with orjson,
    booleans from 0/1. SQLAlchemy's per-value processing (a regular expression per datetime,
    then ``AwareDateTime``) was most of the cost of reading a chunk's 200 jobs
    (``bench/profile_push.py``). Other databases give typed values: read as they are."""

    def __init__(self, columns: Sequence[Any]) -> None:
        self.names = tuple(c.name for c in columns)
        self._typed = select(*columns)
        self._raw = select(*(type_coerce(c, NullType()).label(c.name) for c in columns))
        self._convert = tuple((i, conv) for i, c in enumerate(columns)
                              if (conv := _from_sqlite(c)) is not None)
        self._compiled: dict[Any, SqliteStatement] = {}

    def select(self, dialect: str) -> Any:
        """``SELECT`` of the columns (add the ``WHERE``); read its result with ``dicts``,
        or build it once and run it with ``run``."""
        return self._raw if dialect == "sqlite" else self._typed

    def run(self, session: Session, statement: Any, params: dict[str, Any]
            ) -> list[dict[str, Any]]:
        """``statement`` (from ``select``, built once: on SQLite it is compiled once and
        its text run through ``exec_driver_sql``, without SQLAlchemy's compiled-cache
        lookup, which cost more than reading a chunk's 200 jobs) with ``params``."""
        conn = session.connection()
        dialect = conn.dialect
        if dialect.name != "sqlite":
            return self.dicts(conn.execute(statement, params), dialect.name)
        compiled = self._compiled.get(statement)
        if compiled is None:
            if len(self._compiled) >= _MAX_COMPILED:  # statements built per actor: bounded
                self._compiled.clear()
            compiled = self._compiled[statement] = SqliteStatement.of(statement, dialect)
        return self.dicts(conn.exec_driver_sql(compiled.sql, compiled.values(params)).all(),
                          "sqlite")

    def dicts(self, result: Any, dialect: str) -> list[dict[str, Any]]:
        names = self.names
        if dialect != "sqlite" or not self._convert:
            return [dict(zip(names, row, strict=True)) for row in result]
        # a time's text is read once per answer (a chunk's jobs share most of theirs: the
        # same push wrote them), JSON and the rest once per value
        return converted_rows(list(result), names, self._convert,
                              once=frozenset({_aware_from_sqlite}))


#: Compiled statements a ``BulkRead`` keeps (one per statement built, e.g. per actor).
_MAX_COMPILED = 4096


def _from_sqlite(column: Any) -> Any:
    """How a raw SQLite value of ``column`` becomes the value SQLAlchemy would give (None:
    as it is); a type without a known raw form is refused (read it typed)."""
    kind = column.type
    if isinstance(kind, AwareDateTime):
        return _aware_from_sqlite
    if isinstance(kind, JSON):
        return orjson.loads
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, DateTime | Date | Numeric | Enum) and not isinstance(kind, Float):
        raise TypeError(f"{column.name}: no raw SQLite form for {kind!r}")
    return None


def converted_rows(rows: Sequence[Sequence[Any]], names: tuple[str, ...],
                   convert: Sequence[tuple[int, Any]], *, once: frozenset[Any] = frozenset()
                   ) -> list[dict[str, Any]]:
    """``rows`` as dicts of ``names``, the ``i``-th value of each converted by ``conv``
    for every ``(i, conv)`` of ``convert`` (None stays None). Column by column: ``map``
    over a column, no Python loop per value. A converter in ``once`` (a pure one with an
    immutable answer, e.g. a time's text) runs once per distinct value, however many
    columns and rows hold it."""
    if not rows:
        return []
    columns: list[Any] = list(zip(*rows, strict=True))
    memos: dict[Any, _Memo] = {}
    for i, conv in convert:
        if conv in once:
            memo = memos.get(conv)
            if memo is None:
                memo = memos[conv] = _Memo(conv)
            columns[i] = list(map(memo.__getitem__, columns[i]))
        else:
            columns[i] = [None if v is None else conv(v) for v in columns[i]]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


class _Memo(dict[Any, Any]):
    """``conv``'s answers by argument (None stays None), each computed once: looked up
    by ``__getitem__`` (C), the conversion only on a miss."""

    def __init__(self, conv: Any) -> None:
        super().__init__()
        self.conv = conv

    def __missing__(self, value: Any) -> Any:
        done = self[value] = None if value is None else self.conv(value)
        return done


class DatetimeTexts(_Memo):
    """Aware datetimes as SQLite's text, each formatted once (``BulkWrite.run``'s
    ``formatted``, shared by one caller's statements)."""

    def __init__(self) -> None:
        super().__init__(_sqlite_datetime)

    def __missing__(self, value: Any) -> Any:
        # ``_sqlite_datetime`` called directly (``_Memo``'s generic miss is one call
        # more): a pushed note's record and event hold two times no other row has
        done = self[value] = _sqlite_datetime(value)
        return done


def _aware_from_sqlite(text: str) -> datetime:
    """SQLite's stored UTC text (``2026-12-04 07:01:02.123456``) as an aware datetime.
    The text as written, without an offset, is read with UTC's appended: one parse
    (0.14 µs) where a parse and ``replace`` took 0.8; a text with an offset of its own
    is refused that way and read as it says."""
    try:
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:
        value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class BulkWrite:
    """One INSERT or UPDATE run for many rows at once (the set-wise push's writes, the change
    log). On SQLite the statement is compiled once per set of keys and its rows handed to
    the driver's ``executemany`` (``exec_driver_sql`` on the session's connection: its
    transaction, its events, its error classes), each value converted as its column's type
    converts it: SQLAlchemy's per-row parameter processing cost ~3x the ``executemany``
    itself (``bench/profile_push.py``). Aware datetimes take a direct path to the text
    SQLAlchemy writes; other types use their own bind processor. Other databases go
    through SQLAlchemy as usual."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._plans: dict[tuple[str, ...], tuple[str, list[tuple[str, Any]]]] = {}

    def _plan(self, keys: tuple[str, ...], dialect: Dialect
              ) -> tuple[str, list[tuple[str, Any]]]:
        plan = self._plans.get(keys)
        if plan is None:
            # an INSERT of just these columns; an UPDATE names its parameters itself
            compiled = self.statement.compile(
                dialect=dialect,
                column_keys=list(keys) if self.statement.is_insert else None)
            order: list[tuple[str, Any]] = []
            for name in compiled.positiontup or ():
                type_ = compiled.binds[name].type
                if isinstance(type_, AwareDateTime):
                    order.append((name, _sqlite_datetime))
                elif _json_as_text(type_, dialect):
                    order.append((name, _dump_json))
                else:
                    order.append((name, type_.dialect_impl(dialect).bind_processor(dialect)))
            plan = self._plans[keys] = (str(compiled), order)
        return plan

    def run_values(self, session: Session, keys: tuple[str, ...],
                   values: list[tuple[Any, ...]], *,
                   formatted: DatetimeTexts | None = None) -> None:
        """``run`` with each row given as the tuple of its ``keys``' values (no dict a
        row: the change log's entries, a pushed note's event and record)."""
        if not values:
            return
        conn = session.connection()
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, [dict(zip(keys, v, strict=True)) for v in values])
            return
        sql, order = self._plan(keys, conn.dialect)
        names = [name for name, _ in order]
        if names != list(keys):
            pick = itemgetter(*(keys.index(name) for name in names))
            values = [pick(v) for v in values] if len(names) > 1 else [
                (pick(v),) for v in values]
        conn.exec_driver_sql(sql, self._converted(
            values, order, DatetimeTexts() if formatted is None else formatted))

    def _converted(self, values: list[tuple[Any, ...]], order: list[tuple[str, Any]],
                   texts: DatetimeTexts) -> list[tuple[Any, ...]]:
        """``values`` (in ``order``) each converted as its column's type converts it."""
        convs = [(i, texts.__getitem__ if conv is _sqlite_datetime else conv)
                 for i, (_, conv) in enumerate(order) if conv is not None]
        if convs:  # column by column (``map``: no Python loop of its own)
            columns: list[Any] = list(zip(*values, strict=True))
            for i, conv in convs:
                columns[i] = (tuple(map(bytes.decode, map(_DUMP_JSON_BYTES, columns[i])))
                              if conv is _dump_json else tuple(map(conv, columns[i])))
            values = list(zip(*columns, strict=True))
        return values

    def run(self, session: Session, rows: list[dict[str, Any]], *,
            formatted: DatetimeTexts | None = None) -> None:
        """Write ``rows`` (dicts with the same keys) in the session's transaction.
        ``formatted``: datetimes already turned into SQLite's text, shared by the caller's
        statements (one op's time is in its event, its record and its job's row)."""
        if not rows:
            return
        conn = session.connection()
        if conn.dialect.name != "sqlite":
            conn.execute(self.statement, rows)
            return
        sql, order = self._plan(tuple(rows[0]), conn.dialect)
        pick = itemgetter(*(name for name, _ in order))
        values: list[tuple[Any, ...]] = (list(map(pick, rows)) if len(order) > 1
                                         else [(v,) for v in map(pick, rows)])
        values = self._converted(values, order,
                                 DatetimeTexts() if formatted is None else formatted)
        # the driver's executemany, through the connection: its errors arrive as
        # SQLAlchemy's (IntegrityError, OperationalError), as every caller expects
        conn.exec_driver_sql(sql, values)


def _json_as_text(type_: Any, dialect: Dialect) -> bool:
    """Whether ``type_``'s bind processor is ``_dump_json`` and nothing more: a JSON
    column (None written as JSON ``null``, as SQLAlchemy writes it) on an engine of
    ``make_database``'s. Bound directly, one Python call a value less (three a pushed
    note)."""
    text = getattr(type_, "_str_impl", None)  # SQLAlchemy's own: else its processor
    return (isinstance(type_, JSON) and not type_.none_as_null and text is not None
            and getattr(dialect, "_json_serializer", None) is _dump_json
            and text.bind_processor(dialect) is None)


def _sqlite_datetime(value: datetime | None) -> str | None:
    """``AwareDateTime`` then SQLite's ``DATETIME`` bind processor, in one step."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime refused: timestamps must be timezone-aware")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _dump_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: ``_dump_json`` before its ``decode``, as one C callable: a column of values is written
#: as ``map(bytes.decode, map(_DUMP_JSON_BYTES, column))``, with no Python call a value
#: (three a pushed note).
_DUMP_JSON_BYTES = functools.partial(orjson.dumps, option=orjson.OPT_NON_STR_KEYS)


#: JSON columns written and read with orjson: several times faster than the json module
#: (a pushed op writes three JSON values), compact, UTF-8 rather than \u escapes.
_JSON: dict[str, Any] = {"json_serializer": _dump_json, "json_deserializer": orjson.loads}


#: Pages read through a memory map instead of a read() call each (SQLite's mmap I/O), up to
#: this much of the file. With the pool's LIFO order (below), a pushed note's server time
#: fell ~7 % (in process, best of five alternating rounds each: 114.6 -> 106.7 µs).
MMAP_BYTES = 256 * 1024 * 1024


#: The page size of a new SQLite file (SQLite's default: 4,096). A pushed note writes a
#: ~450-byte record and a ~250-byte event with their index entries; on pages of 8 KB
#: SQLite allocates, splits and logs half as many pages for them: records inserted by
#: plain ``sqlite3`` 6.1 -> 4.6 µs each, a push of 10,000 notes through the whole app
#: +11 % in process, +3 % against a running server (``bench/README.md``). Set before
#: the file's first table (``set_page_size``); a file made before keeps the size it has.
PAGE_BYTES = 8192


def set_page_size(dbapi_conn: Any) -> None:
    """``PAGE_BYTES`` for the SQLite file of ``dbapi_conn`` if it is still empty (SQLite
    ignores the pragma on a file that holds a page already)."""
    dbapi_conn.execute(f"PRAGMA page_size={PAGE_BYTES}")


#: SQLite checkpoints the WAL into the database file itself at the commit that takes the
#: WAL past this many pages (its default: 1,000). The server checkpoints from a thread of
#: its own instead (``WalCheckpointer``), so this is only the backstop for processes
#: without one (scripts, tests): 10,000 pages, 40 MB.
AUTOCHECKPOINT_PAGES = 10_000


class WalCheckpointer(BackgroundThread):
    """Checkpoints a SQLite database's WAL every ``every_s`` seconds from a daemon thread.

    SQLite's automatic checkpoint runs inside the commit that crosses its threshold:
    whichever request commits then copies every page written since into the database
    file and syncs it (in a push bench, the next push's small rate-limit commit took
    ~2 ms, two-thirds of it such a checkpoint). Here the copying happens beside the
    requests (the driver lets go of Python's lock meanwhile, so on a second core it costs
    them nothing). ``PASSIVE``: it never waits for or blocks a reader or a writer; what it
    cannot copy yet it copies next time."""

    thread_name = "gridone-wal-checkpoint"

    def __init__(self, engine: Engine, every_s: float = 0.5) -> None:
        super().__init__()
        self.engine = engine
        self.every_s = every_s

    def checkpoint(self) -> tuple[int, int, int]:
        """One passive checkpoint: (busy, WAL frames, frames copied), as SQLite says."""
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(row[0]), int(row[1]), int(row[2])

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.checkpoint()
            except Exception as exc:  # never let the thread die; SQLite's backstop remains
                log.warning("WAL checkpoint failed: %s", exc)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # No bound on connections (max_overflow=-1; five are kept): a SQLite connection is a
    # file handle, and a bounded pool could run dry under load with every thread-pool
    # thread waiting for a connection held by a request that waits for a thread (the
    # server stopped answering at 400 simulated devices: bench/load_county.py).
    # The most recently returned connection is handed out first (LIFO): SQLite keeps its
    # page cache across transactions while no other connection wrote meanwhile, so a
    # connection used again at once reads from its cache; in FIFO order each request took
    # the connection idle longest, whose cache the others' commits had made stale.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=5, max_overflow=-1, pool_use_lifo=True, **_JSON)
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        set_page_size(dbapi_conn)  # before WAL: a WAL file's page size is fixed
        cur = dbapi_conn.cursor()
        # Switching to WAL takes an exclusive lock, and two connections switching at once
        # can deadlock, which SQLite answers "database is locked" without waiting: a file
        # is switched once, before it is shared (``make_database``, ``migrate.upgrade``);
        # here it is only checked.
        if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
        cur.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_database(url: str) -> Database:
    if url.startswith("sqlite"):
        db = Database(url, _sqlite_engine(url, immediate=True),
                      _sqlite_engine(url, immediate=False))
        # The file in WAL mode before any thread shares it (``_on_connect``): a first
        # request, the change watcher and the checkpoint thread connect at once.
        with db.writer.connect():
            pass
        return db
    # as many connections as the thread pool has threads (anyio's 40 a worker): a thread
    # never waits for a connection that only a thread can give back
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=30, **_JSON)
    return Database(url, engine, engine)


def among(column: Any, values: list[Any], dialect: str) -> Any:
    """``column IN (values)`` with the values bound as one parameter: on SQLite a JSON
    array read by ``json_each``, elsewhere an array (``= ANY``). A literal IN list of a
    push's 500 ids cost SQLAlchemy rendering and binding each value at every execution
    (``server.sync.bulk``'s reads before a chunk: ~15 % of its time)."""
    return among_param(column, None, dialect, among_value(values, dialect))


def among_param(column: Any, name: str | None, dialect: str, value: Any = None) -> Any:
    """``among`` with the values in the parameter ``name``, for a statement built once
    and run with ``{name: among_value(values, dialect)}``."""
    if dialect == "sqlite":
        ids: Any = select(literal_column("value")).select_from(
            func.json_each(bindparam(name, value, type_=String)))
        return column.in_(ids)
    return column == any_(bindparam(name, value, type_=ARRAY(column.type)))


def among_value(values: list[Any], dialect: str) -> Any:
    """The parameter's value for ``among_param``."""
    return orjson.dumps(values).decode() if dialect == "sqlite" else list(values)


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
