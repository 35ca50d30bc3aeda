"""The sync download's statements are compiled at start-up (``server.sync.pull.warm_up``),
so the first phone to download after a restart does not wait for them."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.engine.default import CACHE_MISS
from sqlmodel import Session

from server.app import create_app
from server.auth.security import make_token
from server.work_orders.models import WorkOrder
from tests.conftest import SECRET, sqlite_settings, svc_act, svc_report
from tests.factories import build_world


def _started(tmp_path: Path, db_path: Path, *, warm: bool, jobs: int) -> tuple[Any, Any, str]:
    """An app (its lifespan not run yet) on a world with ``jobs`` of crew1's; its
    database, crew1's access token."""
    settings = sqlite_settings(tmp_path, db_path).model_copy(update={"warm_up": warm})
    app = create_app(settings, migrate=False)
    db = app.state.db
    world = build_world(db)
    for _ in range(jobs):
        order_id = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                              description="warm-up check")
        svc_act(db, world, "dispatcher1", order_id, "dispatch",
                assignee_id=world.user("crew1").id)
    token, _ = make_token(secret=SECRET, sub=world.user("crew1").id, kind="access",
                          ttl=timedelta(minutes=5))
    return app, db, token


def _compiled() -> tuple[list[str], Any]:
    """A list of the statements an engine compiles (misses SQLAlchemy's cache) while the
    listener given with it listens."""
    compiled: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
             many: bool) -> None:
        if context is not None and context.cache_hit is CACHE_MISS:
            compiled.append(statement)

    return compiled, note


def _first_download(tmp_path: Path, db_path: Path, *, warm: bool) -> tuple[int, int]:
    """(statements compiled during crew1's first download, rows it got)."""
    app, db, token = _started(tmp_path, db_path, warm=warm, jobs=3)
    compiled, note = _compiled()
    rows = 0
    try:
        with TestClient(app) as client:  # the lifespan runs (and warms up) here
            event.listen(db.reader, "after_cursor_execute", note)
            cursor = None
            while True:
                params: dict[str, Any] = {"limit": 1000, "protocol": 1}
                if cursor:
                    params["cursor"] = cursor
                page = client.get("/api/v1/sync/pull", params=params,
                                  headers={"Authorization": f"Bearer {token}"}).json()
                rows += len(page["changes"])
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
    finally:
        event.remove(db.reader, "after_cursor_execute", note)
        db.dispose()
    return len(compiled), rows


def test_the_first_download_after_start_up_compiles_next_to_nothing(
        tmp_path: Path, db_path: Path, template_db: Path) -> None:
    cold_db = tmp_path / "cold" / "gridone.db"
    cold_db.parent.mkdir()
    shutil.copy(template_db, cold_db)
    cold, cold_rows = _first_download(cold_db.parent, cold_db, warm=False)
    warm, warm_rows = _first_download(tmp_path, db_path, warm=True)
    assert warm_rows == cold_rows > 3  # the same download: the jobs and more
    # without it, every entity's read is compiled while the phone waits; with it, only the
    # few lookups a download makes when it holds rows (the jobs' names)
    assert cold >= 10, cold
    assert warm <= 3, warm


def test_the_push_warm_up_keeps_nothing(db, world) -> None:
    """The push's warm-up decides a crew's backlog of notes on a job of nobody's, all
    applied, and rolls everything back: every table as it was, the change log's and the
    audit chain's counters included, and nobody's long poll woken."""
    from server.sync import bulk
    from tests.conftest import db_snapshot

    before = db_snapshot(db)
    rung = db.notifier.seq
    assert bulk.warm_up(db, notes=300) == 300
    assert db_snapshot(db) == before
    assert db.notifier.seq == rung


def _first_push(tmp_path: Path, db_path: Path, *, warm: bool) -> tuple[list[str], list[str]]:
    """(statements compiled during crew1's first push of 250 notes, its answers)."""
    from shared.ids import new_id
    from shared.timeutil import utcnow

    app, db, token = _started(tmp_path, db_path, warm=warm, jobs=1)
    with Session(db.reader) as session:
        (order_id,) = session.execute(select(WorkOrder.id)).scalars().all()
    compiled, note = _compiled()
    now, last, ops = utcnow(), None, []
    for i in range(250):
        op_id = new_id()
        ops.append({"op_id": op_id, "device_id": "warm-check-1", "device_seq": i + 1,
                    "lane": f"work_order:{order_id}", "lane_prev": last,
                    "type": "work_order.add_note@1", "entity_id": order_id,
                    "payload": {"text": f"note {i}"}, "photos": [],
                    "created_at": now.isoformat()})
        last = op_id
    try:
        with TestClient(app) as client:  # the lifespan runs (and warms up) here
            event.listen(db.writer, "after_cursor_execute", note)
            answer = client.post("/api/v1/sync/push", json={
                "protocol": 1, "device_id": "warm-check-1", "sent_at": now.isoformat(),
                "ops": ops}, headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        event.remove(db.writer, "after_cursor_execute", note)
        db.dispose()
    return compiled, [r["status"] for r in answer["results"]]


def test_the_first_push_after_start_up_compiles_next_to_nothing(
        tmp_path: Path, db_path: Path, template_db: Path) -> None:
    cold_db = tmp_path / "cold" / "gridone.db"
    cold_db.parent.mkdir()
    shutil.copy(template_db, cold_db)
    cold, cold_answers = _first_push(cold_db.parent, cold_db, warm=False)
    warm, warm_answers = _first_push(tmp_path, db_path, warm=True)
    assert warm_answers == cold_answers == ["applied"] * 250
    # the request's own bookkeeping, each in a transaction of its own (the device's push
    # budget, its last push), is compiled either way; nothing of the push itself
    bookkeeping = ("INSERT INTO rate_limit", "UPDATE device SET last_app")
    assert len(cold) >= 5, cold
    assert [s for s in warm if not s.startswith(bookkeeping)] == [], warm
