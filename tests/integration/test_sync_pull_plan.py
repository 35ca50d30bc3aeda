"""An incremental pull reads the change log after its cursor by ``seq``, whatever the
role: the reason the log keeps no index by station, account or user (migration 0021).
The statements a real pull runs are captured and SQLite's plan of each is read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session

from server.sync.pull import pull
from tests.conftest import actor_for, svc_act, svc_report

SECRET = "plan-test-secret-" + "p" * 32
USERS = ("crew1", "tech1", "agent1", "dispatcher1", "admin", "customer1")


def _plans(db: Any, statements: list[tuple[str, Any]]) -> list[str]:
    raw = db.reader.raw_connection()
    try:
        return [" / ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
                for sql, params in statements]
    finally:
        raw.close()


@pytest.mark.parametrize("name", USERS)
def test_an_incremental_pull_reads_the_log_by_its_sequence(db, world, name):
    actor = actor_for(db, name, world)
    with Session(db.reader) as session:  # a fresh download: the cursor after it
        cursor = pull(session, actor=actor, cursor=None, limit=1000, secret=SECRET).next_cursor
    job = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id)

    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM change_log" in statement:
            seen.append((statement, parameters))

    event.listen(db.reader, "before_cursor_execute", capture)
    try:
        with Session(db.reader) as session:
            page = pull(session, actor=actor, cursor=cursor, limit=1000, secret=SECRET)
    finally:
        event.remove(db.reader, "before_cursor_execute", capture)
    assert seen, "the incremental pull read no change-log entries"
    for plan in _plans(db, seen):
        assert "SEARCH change_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
        assert "SCAN change_log" not in plan, plan
    if name in ("crew1", "dispatcher1", "admin", "customer1"):  # the job is theirs to see
        assert job in {c["id"] for c in page.changes if c["entity"] == "work_order"}
