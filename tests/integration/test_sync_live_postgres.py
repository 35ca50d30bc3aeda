"""Live delivery across API workers: ``gridone serve --workers 2`` on PostgreSQL, long
polls (pull with ``wait``) spread over both workers, and a change committed by a third
process (so no worker's in-process bell rings): every poll answers within 2 s, woken by
PostgreSQL's NOTIFY."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.launch import SECRET, Server, gridone, server_env
from server.auth.security import make_token
from server.db import make_database
from tests import pg
from tests.conftest import svc_act, svc_report
from tests.factories import build_world

pytestmark = pytest.mark.postgres
POLLS = 12


def _processes(log: Path, request_ids: set[str]) -> set[int]:
    out = set()
    for raw in log.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)
            if line.get("request_id") in request_ids:
                out.add(line["process"])
    return out


def test_long_polls_on_both_workers_wake_on_a_commit_elsewhere(tmp_path: Path) -> None:
    with pg.fresh_database() as url:
        env = server_env(url, tmp_path, env="dev", log_format="json")
        gridone(["migrate"], env)
        db = make_database(url)
        try:
            world = build_world(db)
            token, _ = make_token(secret=SECRET, sub=world.user("crew1").id, kind="access",
                                  ttl=timedelta(minutes=30))
            headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
            log = tmp_path / "serve.log"
            with Server(env, log, workers=2) as server:
                cursor = None
                with httpx.Client(base_url=server.url, timeout=30, headers=headers) as http:
                    while True:  # the fresh download, to an incremental cursor
                        params = {"cursor": cursor} if cursor else {}
                        page = http.get("/api/v1/sync/pull", params=params).json()
                        cursor = page["next_cursor"]
                        if not page["has_more"]:
                            break
                answers: dict[int, tuple[dict[str, Any], float]] = {}

                def poll(i: int) -> None:
                    with httpx.Client(base_url=server.url, timeout=30, headers={
                            **headers, "X-Request-ID": f"poll-{i}"}) as http:
                        r = http.get("/api/v1/sync/pull",
                                     params={"cursor": cursor, "wait": 20})
                        assert r.status_code == 200, r.text
                        answers[i] = (r.json(), time.monotonic())

                threads = [threading.Thread(target=poll, args=(i,), daemon=True)
                           for i in range(POLLS)]
                for t in threads:
                    t.start()
                time.sleep(2.5)  # every poll is waiting
                assert answers == {}
                order_id = svc_report(db, world, "dispatcher1",
                                      account_id=world.accounts["acc1"].id)
                svc_act(db, world, "dispatcher1", order_id, "dispatch",
                        assignee_id=world.user("crew1").id)
                committed = time.monotonic()
                for t in threads:
                    t.join(15)
                time.sleep(0.3)  # (a worker writes its log line after answering)
                served_by = _processes(log, {f"poll-{i}" for i in range(POLLS)})
        finally:
            db.dispose()
    assert len(answers) == POLLS
    late = {i: round(at - committed, 2) for i, (_, at) in answers.items()
            if at - committed > 2.0}
    assert not late, late
    for page, _ in answers.values():
        assert order_id in {c["id"] for c in page["changes"] if c["entity"] == "work_order"}
    assert len(served_by) == 2, "all polls went to one worker"
