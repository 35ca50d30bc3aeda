"""The scheduler (issue 10): each tick of a job runs once however many workers fire it
(PostgreSQL advisory lock, SQLite lease), a failing job records its error and keeps
running, the billing tick runs on it, and the admin sees every job's state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from server.app import create_app
from server.config import Settings
from server.db import Database, make_database
from server.migrate import upgrade
from server.notifications.models import OutboxMessage
from server.scheduler.models import SchedulerJob
from server.scheduler.registry import Job, JobContext
from server.scheduler.service import Scheduler
from shared.timeutil import utcnow
from tests import pg
from tests.conftest import SECRET, sqlite_settings
from tests.factories import PEPPER, build_world


class Recorder:
    """A job that notes which scheduler ran which tick."""

    def __init__(self, fail_first: int = 0) -> None:
        self.runs: list[tuple[int, str]] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()

    def job(self, name: str, every_s: float, owner: str) -> Job:
        def run(ctx: JobContext) -> str:
            with self._lock:
                self.runs.append((Job(name, timedelta(seconds=every_s), run).slot(ctx.now),
                                  owner))
                if len(self.runs) <= self.fail_first:
                    raise ValueError(f"boom {len(self.runs)}")
            return f"run {len(self.runs)}"
        return Job(name, timedelta(seconds=every_s), run, description="test job")


def state(db: Database, name: str) -> SchedulerJob:
    with Session(db.reader) as s:
        row = s.get(SchedulerJob, name)
        assert row is not None
        return row


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "postgres":
        with pg.fresh_database() as url:
            upgrade(url)
            yield url
    else:
        url = f"sqlite:///{tmp_path / 'sched.db'}"
        upgrade(url)
        yield url


def settings_for(url: str, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(env="test", data_dir=tmp_path, database_url=url, secret_key=SECRET,
                    lookup_pepper=PEPPER, **kw)


KINDS = [pytest.param("sqlite", id="sqlite-lease"),
         pytest.param("postgres", id="postgres-advisory", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
def test_two_workers_firing_the_same_tick_run_it_once(kind: str, tmp_path: Path) -> None:
    """Deterministic: both schedulers fire the same ticks at the same instant (threads
    released together); every tick is run by exactly one of them."""
    with database(kind, tmp_path) as url:
        dbs = [make_database(url) for _ in range(2)]
        rec = Recorder()
        scheds = [Scheduler(db, settings_for(url, tmp_path), jobs=[rec.job("t", 60, f"w{i}")])
                  for i, db in enumerate(dbs)]
        try:
            for s in scheds:
                s.ensure_rows()
            # 10 s into a tick's slot: the late firing (+1 s) is always the same tick (from
            # a start in its slot's last second, +1 s was the next tick: a 1-in-60 failure)
            probe = rec.job("t", 60, "probe")
            start = probe.slot_time(probe.slot(utcnow())) + timedelta(seconds=10)
            outcomes: list[str] = []
            for tick in range(5):
                at = start + timedelta(seconds=60 * tick)
                barrier = threading.Barrier(2)

                def fire(s: Scheduler, at: Any = at, barrier: Any = barrier) -> None:
                    barrier.wait()
                    outcomes.append(s.tick("t", now=at))

                threads = [threading.Thread(target=fire, args=(s,)) for s in scheds]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                # the same tick fired again later (a worker whose timer ran late)
                assert scheds[1].tick("t", now=at + timedelta(seconds=1)) == "skipped"
            assert sorted(outcomes) == ["ok"] * 5 + ["skipped"] * 5
            slots = [slot for slot, _ in rec.runs]
            assert len(slots) == 5 and len(set(slots)) == 5
            row = state(dbs[0], "t")
            assert row.run_count == 5 and row.error_count == 0
            assert row.lease_owner is None and row.lease_until is None  # released
        finally:
            for db in dbs:
                db.dispose()


@pytest.mark.parametrize("kind", KINDS)
def test_two_app_instances_on_one_database_run_each_tick_exactly_once(
        kind: str, tmp_path: Path) -> None:
    """Real timers: two apps (two schedulers started by their lifespans) on one database,
    a job every 0.4 s. Every tick either app fired was run, by exactly one of them."""
    with database(kind, tmp_path) as url:
        rec = Recorder()
        fired: list[tuple[int, str]] = []
        apps = []
        for i in range(2):
            app = create_app(settings_for(url, tmp_path, scheduler_enabled=True),
                             migrate=False)
            sched: Scheduler = app.state.scheduler
            job = rec.job("fast", 0.4, f"app{i}")
            sched.register(job)

            def tick(name: str, *, now: Any = None, _orig: Any = sched.tick, _job: Job = job,
                     _app: str = f"app{i}") -> Any:
                now = now or utcnow()
                if name == _job.name:
                    fired.append((_job.slot(now), _app))
                return _orig(name, now=now)

            # the timers call this wrapper, which notes the tick it fired
            sched.tick = tick  # type: ignore[method-assign]
            apps.append(app)
        with TestClient(apps[0]), TestClient(apps[1]):
            assert all(a.state.scheduler.running for a in apps)
            deadline = time.monotonic() + 15
            while len(rec.runs) < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
        for app in apps:
            assert not app.state.scheduler.running  # stopped with the app
        ran = sorted(slot for slot, _ in rec.runs)
        assert len(ran) >= 8, rec.runs
        assert len(set(ran)) == len(ran), f"a tick ran twice: {rec.runs}"
        assert set(ran) == {slot for slot, _ in fired}, "a fired tick was not run"
        both = {slot for slot, a in fired if a == "app0"} & {slot for slot, a in fired
                                                             if a == "app1"}
        assert len(both) >= len(ran) // 2, f"the apps did not race for the ticks: {fired}"
        stats = [a.state.scheduler.stats for a in apps]
        assert sum(s[("fast", "skipped")] for s in stats) >= len(both)
        db = make_database(url)
        try:
            assert state(db, "fast").run_count == len(rec.runs)
        finally:
            db.dispose()


def test_a_failing_job_records_its_error_and_keeps_running(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        db = make_database(url)
        rec, steady = Recorder(fail_first=2), Recorder()
        sched = Scheduler(db, settings_for(url, tmp_path),
                          jobs=[rec.job("flaky", 0.3, "w"), steady.job("steady", 0.3, "w")])
        sched.start()
        try:
            deadline = time.monotonic() + 10
            while len(rec.runs) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            sched.shutdown()
        try:
            row = state(db, "flaky")
            assert row.run_count >= 4 and row.error_count == 2
            assert row.last_status == "ok"  # it recovered...
            assert row.last_error and "ValueError: boom 2" in row.last_error  # ...the error stays
            assert row.last_error_at is not None and row.last_error_at < row.last_finished_at
            assert row.last_result == f"run {row.run_count}"
            assert state(db, "steady").error_count == 0
            assert state(db, "steady").run_count >= 3  # the other job was not held up
        finally:
            db.dispose()


def test_the_admin_sees_each_jobs_last_and_next_run(tmp_path: Path, template_db: Path,
                                                    as_user: Callable[..., Any],
                                                    app: Any) -> None:
    sched: Scheduler = app.state.scheduler
    names = {j.name for j in sched.jobs}
    assert {"billing-tick", "charge-daily", "rate-limit-sweep"} <= names
    sched.ensure_rows()
    assert sched.tick("rate-limit-sweep") == "ok"
    r = as_user("admin").get("/api/v1/admin/scheduler")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["running"] is False  # env=test: the scheduler is off unless asked for
    jobs = {j["name"]: j for j in body["jobs"]}
    sweep = jobs["rate-limit-sweep"]
    assert sweep["run_count"] == 1 and sweep["last_status"] == "ok"
    assert sweep["last_run_at"] and sweep["last_duration_ms"] is not None
    assert sweep["next_run_at"] > sweep["last_run_at"]
    assert sweep["last_result"] == "0 expired rate-limit rows removed"
    assert jobs["charge-daily"]["interval_s"] == 86400
    assert jobs["charge-daily"]["next_run_at"].endswith("18:30:00Z")
    assert jobs["billing-tick"]["run_count"] == 0 and jobs["billing-tick"]["last_run_at"] is None
    for name in ("dispatcher1", "manager1", "crew1", "customer1"):
        assert as_user(name).get("/api/v1/admin/scheduler").status_code == 403
    assert as_user(None).get("/api/v1/admin/scheduler").status_code == 401


def test_the_billing_tick_runs_on_the_scheduler(app: Any, world: Any) -> None:
    """The tick that needed cron (``gridone billing-tick``) is a scheduler job now: a
    queued text message goes out when the scheduler runs it."""
    db: Database = app.state.db
    with Session(db.writer) as s:
        msg = OutboxMessage(recipient="13800000000", body="余额不足", lang="zh")
        s.add(msg)
        s.commit()
        msg_id = msg.id
    sched: Scheduler = app.state.scheduler
    sched.ensure_rows()
    assert sched.tick("billing-tick") == "ok"
    with Session(db.reader) as s:
        sent = s.get(OutboxMessage, msg_id)
        assert sent is not None and sent.status != "queued"
    row = state(db, "billing-tick")
    assert row.run_count == 1 and row.last_result and "messages" in row.last_result


def test_intervals_can_be_set_per_job_and_registration_is_checked(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as url:
        db = make_database(url)
        try:
            settings = settings_for(url, tmp_path,
                                    scheduler_intervals={"billing-tick": 15})
            app_sched = create_app(settings, migrate=False).state.scheduler
            by_name = {j.name: j for j in app_sched.jobs}
            assert by_name["billing-tick"].every == timedelta(seconds=15)
            assert by_name["rate-limit-sweep"].every == timedelta(minutes=10)
            with pytest.raises(ValueError, match="already registered"):
                app_sched.register(Job("billing-tick", timedelta(seconds=1), lambda c: None))
            with pytest.raises(ValueError, match="positive"):
                Job("x", timedelta(0), lambda c: None)
            app_sched.context.db.dispose()
        finally:
            db.dispose()


def test_the_scheduler_is_on_by_default_outside_tests(tmp_path: Path, db_path: Path) -> None:
    base = sqlite_settings(tmp_path, db_path)
    assert not base.runs_scheduler  # env=test
    assert Settings(data_dir=tmp_path).runs_scheduler  # dev
    assert base.model_copy(update={"scheduler_enabled": True}).runs_scheduler
    world_db = make_database(f"sqlite:///{db_path}")
    try:
        build_world(world_db)
    finally:
        world_db.dispose()
