"""A SQLite file is switched to WAL once, before it is shared (``server.db``,
``server.migrate``): two connections switching it at once can deadlock, and SQLite then
answers "database is locked" at once instead of waiting. A test's setup met it when the
change watcher's first connection and the test's own opened together."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import text

from server.db import PAGE_BYTES, make_database
from server.migrate import upgrade

#: Files opened; a round without the switch up front failed ~1 time in 10 here.
ROUNDS = 60


def _pragma(path: Path, name: str) -> Any:
    """The value of ``PRAGMA name`` for the SQLite file at ``path``."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def _journal_mode(path: Path) -> str:
    return str(_pragma(path, "journal_mode"))


def _page_size(path: Path) -> int:
    return int(_pragma(path, "page_size"))


def test_a_migrated_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    upgrade(f"sqlite:///{path}")
    assert _journal_mode(path) == "wal"


def test_a_new_file_gets_the_servers_page_size_before_its_first_table(tmp_path: Path
                                                                      ) -> None:
    migrated, made = tmp_path / "migrated.db", tmp_path / "made.db"
    upgrade(f"sqlite:///{migrated}")
    db = make_database(f"sqlite:///{made}")
    try:
        with db.writer.begin() as c:
            c.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        db.dispose()
    assert PAGE_BYTES != 4096  # SQLite's own default, which the files would have else
    assert (_page_size(migrated), _page_size(made)) == (PAGE_BYTES, PAGE_BYTES)


def test_a_file_made_before_keeps_its_page_size_and_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA page_size=4096")
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(1000)])
    conn.commit()
    conn.close()
    db = make_database(f"sqlite:///{path}")
    try:
        with db.writer.begin() as c:
            c.execute(text("INSERT INTO t VALUES (1000)"))
        with db.reader.connect() as c:
            assert c.execute(text("SELECT count(*), sum(x) FROM t")).one() == (1001, 500500)
    finally:
        db.dispose()
    assert _page_size(path) == 4096
    assert _journal_mode(path) == "wal"


def test_connections_opened_at_once_on_a_rollback_journal_file_all_work(tmp_path: Path
                                                                        ) -> None:
    source = tmp_path / "source.db"
    conn = sqlite3.connect(source)
    conn.execute("CREATE TABLE t (x INTEGER)")
    conn.commit()
    conn.close()
    assert _journal_mode(source) == "delete"
    failures: list[str] = []

    def write(db: object) -> None:
        try:
            with db.writer.begin() as c:  # type: ignore[attr-defined]
                c.execute(text("INSERT INTO t VALUES (1)"))
        except Exception as exc:  # what a request would have answered
            failures.append(str(exc).splitlines()[0])

    def read(db: object) -> None:
        try:
            with db.reader.connect() as c:  # type: ignore[attr-defined]
                c.execute(text("SELECT count(*) FROM t")).scalar_one()
        except Exception as exc:
            failures.append(str(exc).splitlines()[0])

    for i in range(ROUNDS):
        path = tmp_path / f"copy{i}.db"
        shutil.copy(source, path)
        db = make_database(f"sqlite:///{path}")
        try:
            threads = [threading.Thread(target=f, args=(db,)) for f in (read, write, read)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            db.dispose()
        assert _journal_mode(path) == "wal"
    assert failures == []
