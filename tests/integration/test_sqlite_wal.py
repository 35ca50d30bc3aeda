"""A SQLite file is switched to WAL once, before it is shared (``server.db``,
``server.migrate``): two connections switching it at once can deadlock, and SQLite then
answers "database is locked" at once instead of waiting. A test's setup met it when the
change watcher's first connection and the test's own opened together."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import text

from server.db import make_database
from server.migrate import upgrade

#: Files opened; a round without the switch up front failed ~1 time in 10 here.
ROUNDS = 60


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_a_migrated_file_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    upgrade(f"sqlite:///{path}")
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
