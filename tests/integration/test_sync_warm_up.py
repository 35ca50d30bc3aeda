"""The sync download's statements are compiled at start-up (``server.sync.pull.warm_up``),
so the first phone to download after a restart does not wait for them."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine.default import CACHE_MISS

from server.app import create_app
from server.auth.security import make_token
from tests.conftest import SECRET, sqlite_settings, svc_act, svc_report
from tests.factories import build_world


def _first_download(tmp_path: Path, db_path: Path, *, warm: bool) -> tuple[int, int]:
    """(statements compiled during crew1's first download, rows it got)."""
    settings = sqlite_settings(tmp_path, db_path).model_copy(update={"warm_up": warm})
    app = create_app(settings, migrate=False)
    db = app.state.db
    world = build_world(db)
    for _ in range(3):
        order_id = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                              description="warm-up check")
        svc_act(db, world, "dispatcher1", order_id, "dispatch",
                assignee_id=world.user("crew1").id)
    compiled: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any,
             many: bool) -> None:
        if context is not None and context.cache_hit is CACHE_MISS:
            compiled.append(statement)

    token, _ = make_token(secret=SECRET, sub=world.user("crew1").id, kind="access",
                          ttl=timedelta(minutes=5))
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
