"""The production shape (issue 14) end to end, through the ``gridone`` command as an
operator runs it: PostgreSQL chosen by GRIDONE_DATABASE_URL, ``gridone migrate`` and
``gridone seed`` on it, then ``gridone serve --workers 2`` -- and what must hold across
the two worker processes: sign-in limits, one scheduler run per tick, metrics added up
over both, and JSON log lines carrying each request's id."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bench.launch import Server, gridone, server_env
from server.demo.generator import DEMO_PASSWORD
from server.migrate import head as migration_head
from tests import pg

pytestmark = pytest.mark.postgres

TICK_S = 1  # the rate-limit sweep runs every second here


def fresh(url: str) -> httpx.Client:
    """A client on a new connection per request: the kernel spreads connections over the
    workers' shared socket."""
    return httpx.Client(base_url=url, timeout=10, headers={"Connection": "close"})


def access_lines(log: Path) -> list[dict[str, Any]]:
    lines = []
    for raw in log.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            line = json.loads(raw)  # every structured line is valid JSON
            if line.get("logger") == "gridone.access":
                lines.append(line)
    return lines


def test_postgres_with_two_workers(tmp_path: Path) -> None:
    with pg.fresh_database() as url:
        env = server_env(url, tmp_path, env="dev", log_format="json",
                         login_user_max_failures="3", login_address_max_failures="1000",
                         scheduler_intervals=json.dumps({"rate-limit-sweep": TICK_S}))
        out = gridone(["migrate"], env).stdout
        assert f"empty -> {migration_head()}" in out  # the chain's head
        out = gridone(["seed", "--accounts", "40", "--days", "3"], env).stdout
        assert "accounts" in out

        log = tmp_path / "serve.log"
        with Server(env, log, workers=2) as server:
            assert len(server.pids()) >= 3  # the supervisor and two workers
            with fresh(server.url) as http:
                r = http.post("/api/v1/auth/token", data={
                    "username": "admin", "password": DEMO_PASSWORD})
                assert r.status_code == 200, r.text
                admin = {"Authorization": f"Bearer {r.json()['access_token']}"}

                # both workers answer (each names itself), and each runs a scheduler
                workers: Counter[str] = Counter()
                started = time.monotonic()
                while len(workers) < 2 and time.monotonic() - started < 30:
                    body = http.get("/api/v1/admin/scheduler", headers=admin).json()
                    assert body["running"] is True
                    workers[body["worker"]] += 1
                assert len(workers) == 2, workers

                # -- sign-in limits hold across the workers
                for i in range(3):
                    r = http.post("/api/v1/auth/token", headers={"X-Request-ID": f"bad-{i}"},
                                  data={"username": "crew.s1a", "password": "wrong"})
                    assert r.status_code == 401
                # ... until both workers have refused the right password (each worker
                # writes its pid on the request's log line)
                refused_by: set[int] = set()
                attempts = 0
                while len(refused_by) < 2 and attempts < 100:
                    rid = f"lock-{attempts}"
                    r = http.post("/api/v1/auth/token", headers={"X-Request-ID": rid},
                                  data={"username": "crew.s1a", "password": DEMO_PASSWORD})
                    assert r.status_code == 429, r.text
                    assert r.json()["code"] == "AUTH_RATE_LIMITED"
                    assert int(r.headers["Retry-After"]) > 0
                    attempts += 1
                    time.sleep(0.05)  # (the worker writes its log line after answering)
                    refused_by |= {line["process"] for line in access_lines(log)
                                   if line["request_id"] == rid}
                assert len(refused_by) == 2, f"{attempts} attempts all went to one worker"
                assert http.post("/api/v1/auth/token", data={
                    "username": "crew.s3a", "password": DEMO_PASSWORD}).status_code == 200

                # -- the scheduler: one run per tick, whichever worker runs it
                def sweep() -> dict[str, Any]:
                    jobs = http.get("/api/v1/admin/scheduler", headers=admin).json()["jobs"]
                    return next(j for j in jobs if j["name"] == "rate-limit-sweep")

                first, t0 = sweep(), time.monotonic()
                time.sleep(5 * TICK_S)
                last, elapsed = sweep(), time.monotonic() - t0
                ran = last["run_count"] - first["run_count"]
                assert elapsed / TICK_S - 2 <= ran <= elapsed / TICK_S + 1, (ran, elapsed)
                assert last["error_count"] == 0 and last["last_status"] == "ok"

                # -- metrics are the sum over both workers
                for _ in range(20):
                    assert http.get("/api/v1/health").status_code == 200
                metrics = http.get("/metrics").text
            families = {f.name: f for f in text_string_to_metric_families(metrics)}
            health = [s.value for s in families["gridone_http_requests"].samples
                      if s.name == "gridone_http_requests_total"
                      and s.labels["route"] == "/api/v1/health"]
            assert health == [20.0]
            runs = sum(s.value for s in families["gridone_scheduler_runs"].samples
                       if s.name == "gridone_scheduler_runs_total"
                       and s.labels["job"] == "rate-limit-sweep"
                       and s.labels["outcome"] == "ok")
            assert runs >= last["run_count"] - 1

        # -- JSON logs: one line per request, with its id and the worker that served it
        lines = access_lines(log)
        by_id = {line["request_id"]: line for line in lines}
        assert all(by_id[f"bad-{i}"]["status"] == 401 for i in range(3))
        assert all(by_id[f"lock-{i}"]["status"] == 429 for i in range(attempts))
        assert len({line["process"] for line in lines}) == 2
        assert all(line["route"] for line in lines) and all(line["duration_ms"] >= 0
                                                            for line in lines)


def test_production_refuses_to_start_with_demo_secrets_or_demo_logins(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'gridone.db'}"
    env = server_env(db, tmp_path, env="production")
    env["GRIDONE_SECRET_KEY"] = "test-secret-" + "s" * 40
    with pytest.raises(RuntimeError, match="GRIDONE_SECRET_KEY looks like a demo"):
        gridone(["serve", "--port", "9"], env, timeout=60)
    env = server_env(db, tmp_path)
    gridone(["seed", "--accounts", "40", "--days", "1"], env)
    env["GRIDONE_ENV"] = "production"
    with pytest.raises(RuntimeError, match="'admin' still has the demo password"):
        gridone(["serve", "--port", "9"], env, timeout=120)
