"""A set-wise push logs a job's events by one timeline entry (``TIMELINE``), and every
device whose scope holds the job still gets each event by an incremental pull, in pages
no bigger than asked but for one entry's events, and nobody else gets them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from server.app import create_app
from server.auth.security import make_token
from server.changes.models import TIMELINE, timeline_key, timeline_of
from server.config import Settings
from tests import pg
from tests.conftest import SECRET, Api
from tests.factories import PEPPER, build_world
from tests.integration.test_sync_server import _dispatched_job, _op, _pull_all, _push

NOTE = "work_order.add_note@1"


def _cursor(api: Any) -> str:
    """The cursor at the end of a fresh download."""
    return str(_pull_all(api)[1])


def _pages(api: Any, cursor: str, limit: int) -> list[list[dict[str, Any]]]:
    pages = []
    while True:
        r = api.get("/api/v1/sync/pull", params={"limit": limit, "cursor": cursor})
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body["changes"])
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return pages


def _events(pages: list[list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c["row"] for page in pages for c in page
            if c["entity"] == "work_order_event" and not c["deleted"]}


def _notes(jobs: list[str], per_job: int) -> list[dict[str, Any]]:
    """``per_job`` notes on each job, taking turns, each lane chained."""
    ops: list[dict[str, Any]] = []
    last: dict[str, str | None] = dict.fromkeys(jobs)
    for i in range(per_job * len(jobs)):
        job = jobs[i % len(jobs)]
        ops.append(_op(i + 1, NOTE, job, {"text": f"note {i}"}, lane_prev=last[job]))
        last[job] = ops[-1]["op_id"]
    return ops


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any, Any]]:
    """``(as_user, world, db)`` of a server on SQLite (the suite's app) or PostgreSQL
    (where the events' times are matched as ``timestamptz``)."""
    if request.param == "sqlite":
        yield (request.getfixturevalue("as_user"), request.getfixturevalue("world"),
               request.getfixturevalue("db"))
        return
    with pg.fresh_database() as url:
        app = create_app(Settings(env="test", database_url=url, data_dir=tmp_path,
                                  secret_key=SECRET, lookup_pepper=PEPPER))
        try:
            world = build_world(app.state.db)
            with TestClient(app, raise_server_exceptions=False) as client:
                def as_user(name: str) -> Api:
                    token, _ = make_token(secret=SECRET, sub=world.user(name).id,
                                          kind="access", ttl=timedelta(minutes=15))
                    return Api(client, token)

                yield as_user, world, app.state.db
        finally:
            app.state.db.dispose()


def test_a_pushed_chunks_events_reach_each_device_in_scope_by_one_entry_a_job(server):
    as_user, world, db = server
    jobs = [_dispatched_job(as_user, world), _dispatched_job(as_user, world)]
    crew, desk = as_user("crew1"), as_user("dispatcher1")
    other_crew, other_station = as_user("crew1b"), as_user("dispatcher2")
    cursors = {name: _cursor(api) for name, api in (
        ("crew1", crew), ("dispatcher1", desk), ("crew1b", other_crew),
        ("dispatcher2", other_station))}
    ops = _notes(jobs, 6)
    assert {r["status"] for r in _push(crew, ops)} == {"applied"}

    with db.reader.connect() as conn:
        logged = conn.execute(text(
            "SELECT entity, entity_id, version FROM change_log WHERE entity IN "
            "('work_order_event', :t) ORDER BY seq DESC LIMIT 2"), {"t": TIMELINE}).all()
    assert sorted((r.entity, timeline_of(r.entity_id)[0], r.version) for r in logged) == (
        sorted((TIMELINE, job, 6) for job in jobs))

    texts = {op["op_id"]: op["payload"]["text"] for op in ops}
    for name, api in (("crew1", crew), ("dispatcher1", desk)):
        got = _events(_pages(api, cursors[name], limit=100))
        assert {i: row["data"]["text"] for i, row in got.items()} == texts, name
        assert {row["work_order_id"] for row in got.values()} == set(jobs)
    for name, api in (("crew1b", other_crew), ("dispatcher2", other_station)):
        assert _events(_pages(api, cursors[name], limit=100)) == {}, name


def test_a_page_holds_as_many_rows_as_asked_but_for_one_entrys_events(as_user, world):
    """Pages of 4: the jobs' rows first, then each job's six events in a page of their
    own (one entry is never split), the last saying nothing more is waiting."""
    jobs = [_dispatched_job(as_user, world), _dispatched_job(as_user, world)]
    crew = as_user("crew1")
    cursor = _cursor(crew)
    ops = _notes(jobs, 6)
    assert {r["status"] for r in _push(crew, ops)} == {"applied"}

    pages = _pages(crew, cursor, limit=4)
    shapes = [sorted({(c["entity"], c["row"]["work_order_id"] if c["entity"] ==
                       "work_order_event" else c["id"]) for c in page}) for page in pages]
    assert [len(page) for page in pages] == [2, 6, 6], shapes
    assert {c["entity"] for c in pages[0]} == {"work_order"}
    for page in pages[1:]:  # one job's events each
        assert len({(c["entity"], c["row"]["work_order_id"]) for c in page}) == 1
    assert set(_events(pages)) == {op["op_id"] for op in ops}


def test_a_page_bigger_than_the_entries_holds_them_all(as_user, world):
    jobs = [_dispatched_job(as_user, world), _dispatched_job(as_user, world)]
    crew = as_user("crew1")
    cursor = _cursor(crew)
    ops = _notes(jobs, 6)
    assert {r["status"] for r in _push(crew, ops)} == {"applied"}
    (page,) = _pages(crew, cursor, limit=14)
    assert len(page) == 14  # two jobs, twelve events
    (page,) = _pages(crew, cursor, limit=1000)
    assert len(page) == 14


def test_a_timeline_key_names_the_job_and_the_time_to_the_microsecond():
    job = "01a245fa-c9c8-79de-b739-4de477e6f2c1"
    for at in (datetime(2026, 12, 5, 11, 27, 49, 123456, tzinfo=UTC),
               datetime(2026, 12, 5, 19, 27, 49, 0, tzinfo=timezone(timedelta(hours=8))),
               datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
               datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)):
        key = timeline_key(job, at)
        assert len(key) <= 64  # the change log's entity_id
        assert timeline_of(key) == (job, at)
        assert timeline_of(key)[1].tzinfo is UTC
