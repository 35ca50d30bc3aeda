"""Live delivery across API workers: ``gridone serve --workers 2``, long polls (pull with
``wait``) spread over both workers, and a change committed by a third process (so no
worker's in-process bell rings): every poll answers within 2 s, woken by PostgreSQL's
NOTIFY, or on SQLite by each worker's watch on the change log's counter
(``server.changes.notify.SqliteWatcher``; without it a poll waited for its next re-look,
up to 5 s)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
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

POLLS = 12
ROUNDS = 6


def _processes(log: Path, request_ids: set[str]) -> set[int]:
    out = set()
    for raw in log.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)
            if line.get("request_id") in request_ids:
                out.add(line["process"])
    return out


@contextmanager
def _database(kind: str, folder: Path) -> Iterator[str]:
    if kind == "postgres":
        with pg.fresh_database() as url:
            yield url
    else:
        yield f"sqlite:///{folder / 'shared.db'}"


@pytest.mark.parametrize("kind", [pytest.param("postgres", marks=pytest.mark.postgres),
                                  "sqlite"])
def test_long_polls_on_both_workers_wake_on_a_commit_elsewhere(kind: str, tmp_path: Path
                                                               ) -> None:
    with _database(kind, tmp_path) as url:
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
                cursor = _drain(server.url, headers, None)  # the fresh download
                # The kernel hands each connection to whichever worker accepts first,
                # so a round may land on one worker only; rounds go on (a new change
                # each) until both workers have held polls, and every round is checked.
                served_by: set[int] = set()
                for round_ in range(ROUNDS):
                    order_id, answers, committed = _round(db, world, server.url, headers,
                                                          cursor, round_)
                    _check(answers, committed, order_id)
                    time.sleep(0.3)  # (a worker writes its log line after answering)
                    served_by |= _processes(log, {f"poll-{round_}-{i}"
                                                  for i in range(POLLS)})
                    cursor = _drain(server.url, headers, cursor)
                    if len(served_by) == 2:
                        break
        finally:
            db.dispose()
    assert len(served_by) == 2, f"all polls of {ROUNDS} rounds went to one worker"


def _drain(url: str, headers: dict[str, str], cursor: str | None) -> str:
    """Pull from ``cursor`` until nothing more: the cursor a long poll waits from."""
    with httpx.Client(base_url=url, timeout=30, headers=headers) as http:
        while True:
            params = {"cursor": cursor} if cursor else {}
            page = http.get("/api/v1/sync/pull", params=params).json()
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return cursor


def _round(db: Any, world: Any, url: str, headers: dict[str, str], cursor: str,
           round_: int) -> tuple[str, dict[int, tuple[dict[str, Any], float]], float]:
    """POLLS long polls from ``cursor``, then a job reported and dispatched by this
    process: the new job's id, each poll's page and when it came, and when it committed."""
    answers: dict[int, tuple[dict[str, Any], float]] = {}

    def poll(i: int) -> None:
        with httpx.Client(base_url=url, timeout=30, headers={
                **headers, "X-Request-ID": f"poll-{round_}-{i}"}) as http:
            r = http.get("/api/v1/sync/pull", params={"cursor": cursor, "wait": 20})
            assert r.status_code == 200, r.text
            answers[i] = (r.json(), time.monotonic())

    threads = [threading.Thread(target=poll, args=(i,), daemon=True) for i in range(POLLS)]
    for t in threads:  # one at a time: a worker's loop takes every connection waiting at once
        t.start()
        time.sleep(0.1)
    time.sleep(2.5)  # every poll is waiting
    assert answers == {}
    order_id = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", order_id, "dispatch",
            assignee_id=world.user("crew1").id)
    committed = time.monotonic()
    for t in threads:
        t.join(15)
    return order_id, answers, committed


def _check(answers: dict[int, tuple[dict[str, Any], float]], committed: float,
           order_id: str) -> None:
    """Every poll answered within 2 s of the commit, with the new job in its page."""
    assert len(answers) == POLLS
    late = {i: round(at - committed, 2) for i, (_, at) in answers.items()
            if at - committed > 2.0}
    assert not late, late
    for page, _ in answers.values():
        assert order_id in {c["id"] for c in page["changes"] if c["entity"] == "work_order"}
