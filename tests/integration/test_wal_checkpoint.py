"""SQLite's WAL is copied into the database file by the server's own thread
(``server.db.WalCheckpointer``), not inside whichever request's commit crosses SQLite's
threshold; processes without the thread keep SQLite's automatic checkpoint as a backstop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, text

from server.db import AUTOCHECKPOINT_PAGES, WalCheckpointer, make_database

NOTES = Table("wal_note", MetaData(), Column("id", Integer, primary_key=True),
              Column("text", String))


def _write(engine: object, n: int) -> None:
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(insert(NOTES), [{"text": "换表 " * 40} for _ in range(n)])


def test_a_checkpoint_copies_the_wal_into_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    db = make_database(f"sqlite:///{path}")
    try:
        NOTES.metadata.create_all(db.writer)
        with db.reader.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == \
                AUTOCHECKPOINT_PAGES
            page = conn.exec_driver_sql("PRAGMA page_size").scalar()
        before = path.stat().st_size
        _write(db.writer, 2_000)  # ~560 KB: under the backstop, so nothing copied yet
        assert path.stat().st_size == before
        busy, frames, copied = WalCheckpointer(db.reader).checkpoint()
        assert (busy, copied) == (0, frames) and frames * page > 400_000
        assert path.stat().st_size > before + 400_000
        with db.reader.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM wal_note")).scalar() == 2_000
    finally:
        db.dispose()


def _checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gridone-wal-checkpoint"]


def test_the_server_checkpoints_from_its_own_thread_while_it_runs(app: FastAPI,
                                                                 db_path: Path) -> None:
    db = app.state.db
    assert not _checkpointers()
    with TestClient(app):
        assert [t.is_alive() for t in _checkpointers()] == [True]
        NOTES.metadata.create_all(db.writer)
        size = db_path.stat().st_size
        _write(db.writer, 2_000)
        deadline = time.monotonic() + 10
        while db_path.stat().st_size <= size + 100 * 4096 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db_path.stat().st_size > size + 100 * 4096  # copied without a commit's help
    assert not _checkpointers()  # stopped with the app
