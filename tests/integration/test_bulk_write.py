"""``server.db.BulkWrite`` on SQLite writes what SQLAlchemy's own ``executemany`` writes
(the text of every datetime, JSON and enum value), in the session's transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    insert,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server.db import AwareDateTime, BulkWrite, make_database
from shared.enums import WorkOrderStatus

META = MetaData()
THING = Table("thing", META, Column("id", String, primary_key=True),
              Column("n", Integer), Column("status", String),
              Column("at", AwareDateTime()), Column("data", JSON))
CST = timezone(timedelta(hours=8))
ROWS: list[dict[str, Any]] = [
    {"id": "a", "n": 1, "status": WorkOrderStatus.ACCEPTED,
     "at": datetime(2026, 3, 1, 8, 0, tzinfo=CST),
     "data": {"text": "换表 note", "k": [1, 2.5, None]}},
    {"id": "b", "n": None, "status": "resolved",
     "at": datetime(2026, 3, 1, 0, 0, 0, 7, tzinfo=UTC), "data": None},
    {"id": "c", "n": 3, "status": None, "at": None, "data": {}},
    {"id": "d", "n": 4, "status": "x", "at": datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "data": []},
]
UPDATE = update(THING).where(THING.c.id == bindparam("_id")).values(
    n=bindparam("n"), at=bindparam("at"), data=bindparam("data"))
CHANGES = [{"_id": "a", "n": 10, "at": datetime(2026, 3, 2, tzinfo=UTC), "data": {"v": 2}},
           {"_id": "c", "n": None, "at": None, "data": None}]


def _written(path: Path, how: str) -> list[tuple[Any, ...]]:
    db = make_database(f"sqlite:///{path}")
    META.create_all(db.writer)
    with Session(db.writer) as s:
        if how == "bulk":
            BulkWrite(insert(THING)).run(s, ROWS)
            BulkWrite(UPDATE).run(s, CHANGES)
        elif how == "values":  # tuples, the keys in another order than the table's
            keys = ("data", "id", "at", "status", "n")
            BulkWrite(insert(THING)).run_values(s, keys, [tuple(r[k] for k in keys)
                                                         for r in ROWS])
            BulkWrite(UPDATE).run_values(s, ("at", "_id", "data", "n"), [
                (c["at"], c["_id"], c["data"], c["n"]) for c in CHANGES])
        else:
            s.execute(insert(THING), ROWS)
            s.execute(UPDATE, CHANGES)
        s.commit()
    with db.reader.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text("SELECT * FROM thing ORDER BY id"))]
    db.dispose()
    return rows


@pytest.mark.parametrize("how", ["bulk", "values"])
def test_the_rows_on_disk_are_those_sqlalchemy_writes(tmp_path: Path, how: str) -> None:
    got = _written(tmp_path / f"{how}.db", how)
    assert got == _written(tmp_path / "sqlalchemy.db", "sqlalchemy")
    assert got[0][3] == "2026-03-02 00:00:00.000000" and got[1][3] == "2026-03-01 00:00:00.000007"


def test_a_naive_datetime_is_refused_and_the_transaction_keeps_nothing(tmp_path: Path) -> None:
    db = make_database(f"sqlite:///{tmp_path / 'naive.db'}")
    META.create_all(db.writer)
    with Session(db.writer) as s:
        BulkWrite(insert(THING)).run(s, ROWS[:1])
        with pytest.raises(ValueError, match="naive datetime"):
            BulkWrite(insert(THING)).run(s, [{**ROWS[1], "id": "z", "at": datetime(2026, 1, 1)}])
        s.rollback()
    with db.reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM thing")).scalar() == 0
    db.dispose()


def test_a_database_error_arrives_as_sqlalchemys_and_keeps_nothing(tmp_path: Path) -> None:
    """The push tells a conflict (replayed op by op) and a busy database (deferred, retry)
    apart by SQLAlchemy's error classes: a driver's error must not arrive raw."""
    db = make_database(f"sqlite:///{tmp_path / 'refused.db'}")
    META.create_all(db.writer)
    with db.writer.begin() as conn:
        conn.exec_driver_sql("CREATE TRIGGER refuse BEFORE INSERT ON thing WHEN NEW.id = 'c' "
                             "BEGIN SELECT RAISE(ABORT, 'refused'); END")
    with Session(db.writer) as s:
        with pytest.raises(IntegrityError, match="refused"):
            BulkWrite(insert(THING)).run(s, ROWS)
        s.rollback()
    with db.reader.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM thing")).scalar() == 0
    db.dispose()
