"""The device database's connections (``sync.client.sqlite``): transactions that keep all
or nothing, writers that queue, readers that see one snapshot, rows by name, and a device
whose code runs without SQLAlchemy."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.client.sqlite import MultipleResultsFound, NoResultFound, Pool
from sync.client.store import Store

ROOT = Path(__file__).resolve().parents[4]


def _wal(raw: object) -> None:
    raw.execute("PRAGMA journal_mode=WAL")  # type: ignore[attr-defined]


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[Pool]:
    p = Pool(tmp_path / "t.db", on_connect=_wal)
    with p.transaction("BEGIN IMMEDIATE", commit=True) as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    yield p
    p.close()


def _names(pool: Pool) -> list[str]:
    with pool.transaction("BEGIN", commit=False) as conn:
        return [r.name for r in conn.exec_driver_sql("SELECT name FROM t ORDER BY id")]


def test_a_write_that_fails_half_way_leaves_nothing_and_the_next_one_works(pool: Pool) -> None:
    with pytest.raises(RuntimeError), pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
        conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", ("first",))
        raise RuntimeError("the app died between the change and its op")
    assert _names(pool) == []
    with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
        conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", ("second",))
    assert _names(pool) == ["second"]


def test_rows_read_by_position_and_by_column_name(pool: Pool) -> None:
    with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
        done = conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", [("a",), ("b",)])
        assert done.rowcount == 2
    with pool.transaction("BEGIN", commit=False) as conn:
        row = conn.exec_driver_sql("SELECT id, name FROM t WHERE name = ?", ("b",)).one()
        assert (row[1], row.name, row._mapping) == ("b", "b", {"id": 2, "name": "b"})
        ident, name = row
        assert (ident, name) == (2, "b")
        with pytest.raises(AttributeError):
            _ = row.nope
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
        assert conn.exec_driver_sql("SELECT name FROM t WHERE id = 9").first() is None
        with pytest.raises(NoResultFound):
            conn.exec_driver_sql("SELECT id FROM t WHERE id = 9").one()
        with pytest.raises(MultipleResultsFound):
            conn.exec_driver_sql("SELECT id FROM t").one()


def test_writers_on_several_threads_queue_instead_of_failing(pool: Pool) -> None:
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            for j in range(20):
                with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
                    n = conn.exec_driver_sql("SELECT count(*) FROM t").scalar()
                    conn.exec_driver_sql("INSERT INTO t (name) VALUES (?)", (f"{i}-{j}-{n}",))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    names = _names(pool)
    assert len(names) == 80
    # each writer saw every commit before its own: the counts it read are 0..79, once each
    assert sorted(int(n.rsplit("-", 1)[1]) for n in names) == list(range(80))


def test_a_reader_sees_one_snapshot_while_a_writer_commits(pool: Pool) -> None:
    with pool.transaction("BEGIN", commit=False) as reader:
        assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        with pool.transaction("BEGIN IMMEDIATE", commit=True) as writer:
            writer.exec_driver_sql("INSERT INTO t (name) VALUES ('new')")
        assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    assert _names(pool) == ["new"]


def test_the_store_tells_of_commits_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "device.db")
    heard: list[str] = []
    store.on_commit(lambda: heard.append("stored"))
    try:
        with store.write() as conn:
            Store.put(conn, "k", 1)
        with pytest.raises(ValueError), store.write() as conn:
            Store.put(conn, "k", 2)
            raise ValueError("undone")
        with store.read() as conn:
            assert Store.get(conn, "k") == 1
        assert heard == ["stored"]
    finally:
        store.close()


def test_the_device_code_runs_without_sqlalchemy() -> None:
    """The installed app's Python imports none of it (it was ~0.43 s of its start)."""
    code = ("import sys\n"
            "import mobile.main, mobile.web.storage, mobile.services.engine_backend\n"
            "import sync.client.engine, sync.client.store, sync.client.readmodel\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout.strip()
    assert out == "[]"


def test_a_connection_that_fails_to_set_up_is_not_kept(tmp_path: Path) -> None:
    calls: list[int] = []

    def flaky(raw: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")

    pool = Pool(tmp_path / "t.db", on_connect=flaky)
    try:
        with pytest.raises(sqlite3.OperationalError), pool.transaction(
                "BEGIN IMMEDIATE", commit=True):
            pass
        with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
            conn.exec_driver_sql("CREATE TABLE t (x)")
        assert len(calls) == 2  # a fresh connection, set up again
    finally:
        pool.close()
