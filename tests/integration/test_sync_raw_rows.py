"""Pull pages on SQLite are read raw and converted to the wire form directly
(``server.sync.serialize.raw_rows``): every row of every synced entity must come out
exactly as the typed path (SQLAlchemy's conversion, then ``isoformat``) makes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import Session

from server.db import Database
from server.demo.generator import generate
from server.sync import serialize
from server.work_orders.models import WorkOrderEvent
from tests.factories import PEPPER

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)


def both_ways(session: Session, entity: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    order = serialize.primary_key(entity)
    typed = session.execute(serialize.select_rows(entity).order_by(order)).all()
    raw = session.execute(serialize.select_rows(entity, raw=True).order_by(order)).all()
    return (serialize.to_dicts(session, entity, typed),
            serialize.to_dicts(session, entity, raw, raw=True))


def test_every_entity_reads_the_same_raw_as_typed(db: Database) -> None:
    generate(db, seed=7, accounts=40, days=5, pepper=PEPPER, now=NOW)
    with Session(db.reader) as session:
        assert serialize.raw_rows(session)
        empty: list[str] = []
        for entity in serialize.MODELS:
            typed, raw = both_ways(session, entity)
            if not typed:
                empty.append(entity)
            assert raw == typed, entity
    # the demo world holds rows of nearly every entity, so the comparison means something
    assert len(empty) <= 4, empty


@pytest.mark.parametrize("stored", [
    datetime(2026, 12, 2, 4, 56, 31, 88700, tzinfo=UTC),
    datetime(2026, 12, 2, 0, 0, 0, tzinfo=UTC),  # no fraction: isoformat writes none
    datetime(1999, 1, 1, 23, 59, 59, 1, tzinfo=UTC),
])
def test_timestamps_in_every_stored_shape(db: Database, stored: datetime) -> None:
    generate(db, seed=8, accounts=40, days=1, pepper=PEPPER, now=NOW)
    with Session(db.writer) as session, session.begin():
        event_id = session.execute(WorkOrderEvent.__table__.select().limit(1)).first().id
        session.execute(update(WorkOrderEvent).where(WorkOrderEvent.id == event_id)
                        .values(occurred_at=stored))
    with db.writer.begin() as conn:  # text written by hand, as old rows or tools may have
        conn.exec_driver_sql("UPDATE work_order_event SET recorded_at = '2026-01-02 03:04:05' "
                             "WHERE id = ?", (event_id,))
    with Session(db.reader) as session:
        typed, raw = both_ways(session, "work_order_event")
    got = next(row for row in raw if row["id"] == event_id)
    assert got["occurred_at"] == stored.isoformat()
    assert got["recorded_at"] == "2026-01-02T03:04:05+00:00"
    assert raw == typed


def test_a_column_type_without_a_raw_form_is_refused_not_guessed() -> None:
    from sqlalchemy import Column, MetaData, Numeric, Table

    serialize.MODELS["_probe"] = type("Probe", (), {"__table__": Table(
        "_probe", MetaData(), Column("id", Numeric(10, 2), primary_key=True))})
    try:
        with pytest.raises(TypeError, match="no raw SQLite form"):
            serialize._raw_converter("_probe", "id")
    finally:
        del serialize.MODELS["_probe"]
