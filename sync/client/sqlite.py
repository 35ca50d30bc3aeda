"""The device database's connections: the standard library's ``sqlite3``, pooled per
store, with the few things the device code asks of a connection.

The device runs plain SQL (``Connection.exec_driver_sql`` with ``?`` parameters) and reads
rows by position or by column name (``row.op_id``, ``row._mapping``). SQLAlchemy's engine
did that before; its import alone was ~0.43 s of the installed app's ~1.2 s of imports in
the browser (measured in Pyodide under Node), and its statement machinery sat on every
write of the phone's queue. The names here are the ones it used, so the code reading the
store did not change.

A ``Pool`` opens connections lazily and keeps the idle ones (several threads use a store
at once on a phone: the screen, the sync engine, the long poll); every connection is in
autocommit mode, and transactions are begun explicitly: ``BEGIN IMMEDIATE`` for writes
(take the write lock at once instead of failing to upgrade a read lock later), ``BEGIN``
for reads (one consistent snapshot, always rolled back).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar


class Row(tuple):  # type: ignore[type-arg]
    """A result row: a tuple whose values can also be read by column name."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._index, self, strict=True))


_ROW_CLASSES: dict[tuple[str, ...], type[Row]] = {}


def _row_class(description: Sequence[Sequence[Any]]) -> type[Row]:
    names = tuple(d[0] for d in description)
    cls = _ROW_CLASSES.get(names)
    if cls is None:
        cls = type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in
                                                                 enumerate(names)}})
        _ROW_CLASSES[names] = cls
    return cls


def _row_factory() -> Callable[[sqlite3.Cursor, tuple[Any, ...]], Row]:
    last: list[Any] = [None, Row]  # the statement's description, its row class

    def make(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
        description = cursor.description
        if description is not last[0]:
            last[0], last[1] = description, _row_class(description)
        return last[1](values)  # type: ignore[no-any-return]

    return make


class NoResultFound(LookupError):
    """``Result.one`` found no row."""


class MultipleResultsFound(LookupError):
    """``Result.one`` found more than one row."""


class Result:
    """What a statement returned (read it once)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def __iter__(self) -> Iterator[Row]:
        return iter(self._cursor)

    def all(self) -> list[Row]:
        return self._cursor.fetchall()

    def first(self) -> Row | None:
        row = self._cursor.fetchone()
        self._cursor.close()
        return row  # type: ignore[no-any-return]

    def scalar(self) -> Any:
        row = self.first()
        return None if row is None else row[0]

    def one(self) -> Row:
        rows = self._cursor.fetchmany(2)
        if not rows:
            raise NoResultFound("no row")
        if len(rows) > 1:
            raise MultipleResultsFound("more than one row")
        return rows[0]  # type: ignore[no-any-return]


class Connection:
    """One pooled connection, inside a transaction the store began."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def exec_driver_sql(self, sql: str, params: Any = ()) -> Result:
        """Run ``sql`` with ``params`` (a sequence or a mapping; a list of them runs the
        statement once per item)."""
        if isinstance(params, list) and params and isinstance(params[0], tuple | list | dict):
            return Result(self.raw.executemany(sql, params))
        return Result(self.raw.execute(sql, params))


class Pool:
    """The connections to one database file (made when first needed, kept when idle)."""

    def __init__(self, path: Path, *, on_connect: Callable[[sqlite3.Connection], None]) -> None:
        self.path = path
        self._on_connect = on_connect
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        raw = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                              check_same_thread=False)
        raw.row_factory = _row_factory()
        try:
            self._on_connect(raw)
        except BaseException:  # e.g. the file is locked past busy_timeout: nothing kept open
            raw.close()
            raise
        return raw

    def _give_back(self, raw: sqlite3.Connection) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(raw)
                return
        raw.close()

    @contextmanager
    def transaction(self, begin: str, *, commit: bool,
                    committed: Callable[[], object] | None = None) -> Iterator[Connection]:
        """``begin`` a transaction; at the end commit it (``commit``) or roll it back. An
        error rolls back in any case; a connection that cannot even roll back is closed."""
        raw = self._take()
        try:
            raw.execute(begin)
            try:
                yield Connection(raw)
            except BaseException:
                raw.execute("ROLLBACK")
                raise
            raw.execute("COMMIT" if commit else "ROLLBACK")
        except BaseException:
            if raw.in_transaction:  # COMMIT failed (e.g. the disk is full): not reusable
                raw.close()
                raise
            self._give_back(raw)
            raise
        self._give_back(raw)
        if committed is not None:
            committed()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for raw in idle:
            raw.close()
