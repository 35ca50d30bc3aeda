"""A cursor never skips a slower transaction's change (sync.md guarantee 7).

Writers commit change-log entries from several threads, each transaction lingering a
random while *after* taking its sequence number; a reader follows the log with a
cursor exactly as a pull does (``seq > cursor``). Every entry must be seen, on
PostgreSQL and on SQLite."""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlmodel import Session

from server.changes.models import ChangeLog
from server.db import Database, make_database
from server.migrate import upgrade
from server.stations.models import Station
from server.sync.pull import pull
from server.uow import UnitOfWork
from shared.enums import Role
from shared.workorders.state_machine import Actor
from tests import pg

WRITERS = 4
COMMITS_PER_WRITER = 25


def _seed_stations(db: Database, n: int) -> list[str]:
    with Session(db.writer, expire_on_commit=False) as s:
        rows = [Station(code=f"C{i:03d}", name=f"Station {i}", county="Race") for i in range(n)]
        s.add_all(rows)
        s.commit()
        return [r.id for r in rows]


def _writer(db: Database, ids: list[str], seed: int, errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(COMMITS_PER_WRITER):
            with UnitOfWork(db) as uow:
                delay = rng.choice([0, 0, 0.002, 0.01, 0.03])
                event.listen(uow.session, "before_commit",
                             lambda _s, d=delay: time.sleep(d))
                station = uow.session.get(Station, rng.choice(ids))
                assert station is not None
                station.version += 1
                uow.changed(station)
                uow.commit()
    except BaseException as exc:
        errors.append(exc)


def _race(db: Database) -> tuple[set[int], set[int], dict[str, int]]:
    ids = _seed_stations(db, 6)
    errors: list[BaseException] = []
    seen: set[int] = set()
    pulled_versions: dict[str, int] = {}
    admin = Actor("reader", Role.ADMIN)
    threads = [threading.Thread(target=_writer, args=(db, ids, i, errors))
               for i in range(WRITERS)]
    for t in threads:
        t.start()
    cursor = 0
    pull_cursor: str | None = None

    def read_once() -> None:
        nonlocal cursor, pull_cursor
        with Session(db.reader) as s:
            seqs = s.execute(select(ChangeLog.seq).where(ChangeLog.seq > cursor)
                             .order_by(ChangeLog.seq)).scalars().all()
            seen.update(seqs)
            if seqs:
                cursor = seqs[-1]
            while True:  # the real pull, as a device would follow it
                page = pull(s, actor=admin, cursor=pull_cursor, limit=7, secret="k" * 32)
                for ch in page.changes:
                    if ch["entity"] == "station":
                        pulled_versions[ch["id"]] = ch["version"]
                pull_cursor = page.next_cursor
                if not page.has_more:
                    break

    while any(t.is_alive() for t in threads):
        read_once()
    for t in threads:
        t.join()
    read_once()
    assert not errors, errors
    with Session(db.reader) as s:
        committed = set(s.execute(select(ChangeLog.seq)).scalars())
        truth = {sid: v for sid, v in s.execute(select(Station.id, Station.version))}
    assert pulled_versions == truth
    return seen, committed, truth


@pytest.mark.postgres
def test_cursor_never_skips_on_postgres() -> None:
    with pg.fresh_database() as url:
        upgrade(url)
        db = make_database(url)
        try:
            seen, committed, _ = _race(db)
        finally:
            db.dispose()
    assert len(committed) >= WRITERS * COMMITS_PER_WRITER
    assert seen == committed


def test_cursor_never_skips_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.db'}"
    upgrade(url)
    db = make_database(url)
    try:
        seen, committed, _ = _race(db)
    finally:
        db.dispose()
    assert seen == committed
    assert max(committed) == len(committed)  # numbers are dense: no gaps either


@pytest.mark.postgres
def test_sequence_numbers_follow_commit_order_on_postgres() -> None:
    """The property the cursor relies on, shown directly: while a transaction holds a
    number uncommitted, no later number can commit."""
    with pg.fresh_database() as url:
        upgrade(url)
        db = make_database(url)
        try:
            ids = _seed_stations(db, 1)
            slow = UnitOfWork(db).__enter__()
            st = slow.session.get(Station, ids[0])
            assert st is not None
            st.version += 1
            slow.changed(st)
            slow.session.flush()
            from server.db import bump_counter
            first = bump_counter(slow.session, "change_seq")
            done = threading.Event()

            def fast() -> None:
                with UnitOfWork(db) as uow:
                    s2 = uow.session.get(Station, ids[0])
                    assert s2 is not None
                    uow.changed(s2)
                    uow.commit()
                done.set()

            t = threading.Thread(target=fast)
            t.start()
            assert not done.wait(0.5), "a later number committed before an earlier one"
            slow.session.commit()
            slow.__exit__(None, None, None)
            t.join(10)
            assert done.is_set()
            with Session(db.reader) as s:
                later = s.execute(select(ChangeLog.seq).order_by(ChangeLog.seq.desc())
                                  ).scalars().first()
            assert later is not None and later > first
        finally:
            db.dispose()
