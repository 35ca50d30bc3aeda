"""``server.db.BulkRead`` on SQLite gives the values SQLAlchemy's typed read gives (aware
UTC datetimes, JSON, booleans, NULLs), for the set-wise push's reads of jobs and records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    insert,
    select,
)
from sqlmodel import Session

from server.db import AwareDateTime, BulkRead, among, among_param, among_value, make_database

META = MetaData()
THING = Table("thing", META, Column("id", String, primary_key=True),
              Column("n", Integer), Column("x", Float), Column("flag", Boolean),
              Column("at", AwareDateTime()), Column("data", JSON))
ROWS: list[dict[str, Any]] = [
    {"id": "a", "n": 1, "x": 2.5, "flag": True,
     "at": datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
     "data": {"text": "换表 note", "k": [1, 2.5, None]}},
    {"id": "b", "n": None, "x": None, "flag": False,
     "at": datetime(2026, 3, 1, 0, 0, 0, 7, tzinfo=UTC), "data": []},
    {"id": "c", "n": 3, "x": 0.0, "flag": None, "at": None, "data": {}},
    {"id": "d", "n": 4, "x": -1e300, "flag": True,
     "at": datetime(2026, 12, 4, 7, 0, tzinfo=UTC), "data": "text"},
]
READ = BulkRead(list(THING.c))


@pytest.fixture
def session(tmp_path: Path) -> Any:
    db = make_database(f"sqlite:///{tmp_path / 'read.db'}")
    META.create_all(db.writer)
    with Session(db.writer) as s:
        s.execute(insert(THING), ROWS)
        s.commit()
        yield s
    db.dispose()


def _typed(s: Session, ids: list[str]) -> list[dict[str, Any]]:
    rows = s.execute(select(THING).where(among(THING.c.id, ids, "sqlite")).order_by(THING.c.id))
    return [dict(r._mapping) for r in rows]


def test_raw_rows_equal_sqlalchemys_typed_rows(session: Session) -> None:
    ids = ["d", "a", "b", "c", "zz"]
    built_once = READ.select("sqlite").where(
        among_param(THING.c.id, "ids", "sqlite")).order_by(THING.c.id)
    got = READ.run(session, built_once, {"ids": among_value(ids, "sqlite")})
    typed = _typed(session, ids)
    assert got == typed and [r["id"] for r in got] == ["a", "b", "c", "d"]
    assert got[0]["at"] == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert got[0]["at"].tzinfo is UTC and got[0]["flag"] is True
    assert got[1]["flag"] is False and got[2]["flag"] is None and got[2]["at"] is None
    # dicts() reads an ad hoc statement's result the same way
    again = READ.dicts(session.execute(READ.select("sqlite").where(
        THING.c.id.in_(ids)).order_by(THING.c.id)), "sqlite")
    assert again == typed


def test_the_same_statement_runs_again_with_other_values(session: Session) -> None:
    stmt = READ.select("sqlite").where(among_param(THING.c.id, "ids", "sqlite"))
    assert [r["id"] for r in READ.run(session, stmt, {"ids": among_value(["b"], "sqlite")})
            ] == ["b"]
    assert READ.run(session, stmt, {"ids": among_value([], "sqlite")}) == []


def test_a_type_without_a_raw_form_is_refused_when_built() -> None:
    money = Table("money", MetaData(), Column("id", String, primary_key=True),
                  Column("amount", Numeric(12, 2)))
    with pytest.raises(TypeError, match="amount"):
        BulkRead(list(money.c))


@pytest.mark.parametrize(("stored", "instant"), [
    ("2026-12-04 07:01:02.123456", datetime(2026, 12, 4, 7, 1, 2, 123456, tzinfo=UTC)),
    ("2026-12-04 07:01:02", datetime(2026, 12, 4, 7, 1, 2, tzinfo=UTC)),
    ("2026-12-04T07:01:02.5", datetime(2026, 12, 4, 7, 1, 2, 500000, tzinfo=UTC)),
    ("2026-12-04 15:01:02.123456+08:00", datetime(2026, 12, 4, 7, 1, 2, 123456, tzinfo=UTC)),
    ("2026-12-04T07:01:02Z", datetime(2026, 12, 4, 7, 1, 2, tzinfo=UTC)),
    ("2026-12-03 23:01:02-08:00", datetime(2026, 12, 4, 7, 1, 2, tzinfo=UTC)),
])
def test_a_time_stored_as_any_iso_text_is_read_as_its_instant_in_utc(
        session: Session, stored: str, instant: datetime) -> None:
    """Our writes store UTC without an offset; a text written otherwise (by hand, by an
    older tool) is read as the instant it names, never shifted by an offset read twice."""
    session.connection().exec_driver_sql("UPDATE thing SET at = ? WHERE id = 'c'", (stored,))
    got = READ.run(session, READ.select("sqlite").where(
        among_param(THING.c.id, "ids", "sqlite")), {"ids": among_value(["c"], "sqlite")})
    assert got[0]["at"] == instant and got[0]["at"].tzinfo is UTC
    assert got[0]["at"].utcoffset() == timedelta(0)
