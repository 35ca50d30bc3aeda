"""The desk's change feed (``GET /api/v1/dispatch/changes``): ``since=-1`` is where the feed
stands now, at once, however long the log; a later call names the jobs of the station that
changed after it; the log is read by its sequence (it keeps no index by station:
migration 0021)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from server.dispatch.service import FEED_LIMIT
from tests.conftest import svc_act, svc_report
from tests.integration.office.board_kit import D, ok
from tests.integration.sync_kit import change_log_plans


def _old_entries(db: Any, station_id: str, n: int) -> int:
    """``n`` change-log entries of the station's jobs from long ago; the log's top."""
    with db.writer.begin() as conn:
        top = conn.execute(text("SELECT value FROM counter WHERE name = 'change_seq'")).scalar()
        conn.execute(text(
            "INSERT INTO change_log (seq, entity, entity_id, version, deleted, station_id) "
            "VALUES (:seq, 'work_order', :id, 1, 0, :station)"),
            [{"seq": top + i + 1, "id": f"old-{i}", "station": station_id} for i in range(n)])
        conn.execute(text("UPDATE counter SET value = :v WHERE name = 'change_seq'"),
                     {"v": top + n})
        return int(top + n)


def test_since_minus_one_is_the_feeds_position_now_however_long_the_log(as_user, world, db):
    top = _old_entries(db, world.stations["s1"].id, FEED_LIMIT + 20)
    desk = as_user("dispatcher1")
    now = ok(desk.get(f"{D}/changes", params={"since": -1}))
    assert now == {"seq": top, "order_ids": [], "crews": False, "more": False}


def test_a_later_call_names_the_stations_jobs_changed_after_it(as_user, world, db):
    desk = as_user("dispatcher1")
    since = ok(desk.get(f"{D}/changes", params={"since": -1}))["seq"]
    mine = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    svc_report(db, world, "dispatcher2", account_id=world.accounts["acc3"].id)  # station 2
    got, plans = change_log_plans(
        db, lambda: ok(desk.get(f"{D}/changes", params={"since": since})))
    assert got["order_ids"] == [mine] and got["seq"] > since and not got["more"]
    assert plans
    for plan in plans:
        assert "SEARCH change_log USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)" in plan
    svc_act(db, world, "dispatcher1", mine, "dispatch", assignee_id=world.user("crew1").id)
    again = ok(desk.get(f"{D}/changes", params={"since": got["seq"]}))
    assert again["order_ids"] == [mine]
