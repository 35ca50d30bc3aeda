"""An incremental pull reads the change log after its cursor by ``seq``, whatever the
role: the reason the log keeps no index by station, account or user (migration 0021).
The statements a real pull runs are captured and SQLite's plan of each is read."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from server.sync.pull import pull
from tests.conftest import actor_for, svc_act, svc_report
from tests.integration.sync_kit import change_log_plans

SECRET = "plan-test-secret-" + "p" * 32
USERS = ("crew1", "tech1", "agent1", "dispatcher1", "admin", "customer1")


@pytest.mark.parametrize("name", USERS)
def test_an_incremental_pull_reads_the_log_by_its_sequence(db, world, name):
    actor = actor_for(db, name, world)
    with Session(db.reader) as session:  # a fresh download: the cursor after it
        cursor = pull(session, actor=actor, cursor=None, limit=1000, secret=SECRET).next_cursor
    job = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", job, "dispatch", assignee_id=world.user("crew1").id)

    def incremental() -> Any:
        with Session(db.reader) as session:
            return pull(session, actor=actor, cursor=cursor, limit=1000, secret=SECRET)

    page, plans = change_log_plans(db, incremental)
    assert plans, "the incremental pull read no change-log entries"
    for plan in plans:
        assert "SEARCH change_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan, plan
        assert "SCAN change_log" not in plan, plan
    if name in ("crew1", "dispatcher1", "admin", "customer1"):  # the job is theirs to see
        assert job in {c["id"] for c in page.changes if c["entity"] == "work_order"}
