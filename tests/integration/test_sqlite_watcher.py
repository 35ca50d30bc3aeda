"""``SqliteWatcher``: a worker's long polls hear of commits made by another process on the
same SQLite file, and not twice of their own (``server.changes.notify``).

Two ``Database`` objects on one file stand for two API workers: each has its own bell,
as each worker process does."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from server.changes.notify import SqliteWatcher
from server.db import Database, make_database
from tests.conftest import svc_report
from tests.factories import World


@pytest.fixture
def other(db: Database) -> Iterator[Database]:
    """A second worker on the same file, its watcher looking every 20 ms."""
    second = make_database(db.url)
    watcher = SqliteWatcher(second.reader, second.notifier, every_s=0.02)
    watcher.start()
    time.sleep(0.1)  # it has read where it starts
    yield second
    watcher.stop()
    second.dispose()


def _counter(db: Database) -> int:
    with db.reader.connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT value FROM counter WHERE name = 'change_seq'").scalar_one())


def _rings_within(db: Database, mark: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if db.notifier.mark() != mark:
            return True
        time.sleep(0.01)
    return False


def test_a_commit_by_another_worker_rings_this_one(db: Database, other: Database,
                                                   world: World) -> None:
    mark = other.notifier.mark()
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    assert _rings_within(other, mark, 1.0)
    assert other.notifier.seq == _counter(db)


def test_its_own_commit_rings_once_not_again_from_the_watcher(db: Database, other: Database,
                                                              world: World) -> None:
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    assert _rings_within(other, other.notifier.mark() - 1, 1.0)
    time.sleep(0.1)  # the watcher has seen that commit
    mark = other.notifier.mark()
    svc_report(other, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    assert other.notifier.mark() == mark + 1  # the unit of work's own ring
    time.sleep(0.2)  # ten looks of the watcher
    assert other.notifier.mark() == mark + 1
    assert other.notifier.seq == _counter(db)


def test_nothing_committed_nothing_rung(db: Database, other: Database) -> None:
    mark = other.notifier.mark()
    assert not _rings_within(other, mark, 0.3)
