"""Sync benchmark (not part of the test run): ``.venv/bin/python bench/sync_bench.py``.

Loopback, SQLite server (the real app under uvicorn in a child process), the real device
engine. Prints one line per figure and ends with exactly one line::

    push_ops_per_s=… pull_rows_per_s=… empty_pull_ms=… ceiling_ops_per_s=…

(a) ``--ops`` (10,000) small ops (``add_note`` across 200 jobs) queued on one phone and
    pushed by the engine (``Pusher.run``: batches of 500, results recorded);
(b) a fresh phone of the same crew pulling its whole scope (~10,600 rows);
(c) a pull with nothing new: the median of ``--empty`` (200) round trips;
(d) the same run's bare ceiling: ``--ops`` applied_op-like rows inserted with plain
    ``sqlite3`` ``executemany`` in one transaction, on a file set up like the server's
    (WAL, synchronous=NORMAL);
(e) a fresh phone pulling ``--big`` (100,000) rows in its own process: rows/s and that
    process's peak RSS (``resource.getrusage(...).ru_maxrss``).

Targets on a 2-core machine: push ≥ 15,000 ops/s, pull ≥ 25,000 rows/s, empty pull
≤ 5 ms, peak RSS ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-" + "s" * 40
JOBS = 200


# -- the server (child process) -------------------------------------------------------
def serve(db_path: Path, port: int) -> None:
    import uvicorn

    from server.app import create_app
    from server.config import Settings
    from tests.factories import PEPPER

    settings = Settings(env="test", data_dir=db_path.parent, database_url=f"sqlite:///{db_path}",
                        secret_key=SECRET, lookup_pepper=PEPPER, stalled_check=False)
    app = create_app(settings, migrate=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Server:
    def __init__(self, db_path: Path, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(db_path), str(self.port)], cwd=ROOT,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        import httpx

        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({log})")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


# -- data -----------------------------------------------------------------------------
def seed(db_path: Path, big: int) -> dict[str, Any]:
    """The small test world; 200 dispatched jobs for crew1 (push/pull figures); for
    crew2 enough jobs and timeline entries that its scope holds ``big`` rows."""
    from sqlalchemy import insert

    from server.changes.models import ChangeLog
    from server.db import bump_counter, make_database
    from server.migrate import upgrade
    from server.uow import UnitOfWork
    from server.work_orders import service
    from server.work_orders.models import WorkOrderEvent
    from shared.ids import new_id
    from shared.timeutil import utcnow
    from shared.workorders.state_machine import Action, Actor
    from tests.factories import build_world

    url = f"sqlite:///{db_path}"
    upgrade(url)
    db = make_database(url)
    try:
        world = build_world(db)

        def jobs(office: str, assignee: str, account: str, n: int) -> list[str]:
            u = world.user(office)
            actor = Actor(u.id, u.role, u.station_id)
            out = []
            for _ in range(n):
                with UnitOfWork(db, actor) as uow:
                    order, _ = service.report(uow, actor=actor, data={
                        "kind": "fault_repair", "account_id": world.accounts[account].id,
                        "description": "benchmark job"})
                    service.act(uow, actor=actor, order_id=order.id, action=Action.DISPATCH,
                                data={"assignee_id": world.user(assignee).id})
                    uow.commit()
                    out.append(order.id)
            return out

        small = jobs("dispatcher1", "crew1", "acc1", JOBS)
        big_jobs = max(1, big // 100)
        big_ids = jobs("dispatcher2", "crew2", "acc3", big_jobs)
        # Fill crew2's scope with timeline entries (rows as the services would write
        # them, each with its change-log entry): a job brings itself and two events
        # (report, dispatch); a few rows more come with the station, area, account, meter.
        per_job = max(0, -(-(big - 3 * big_jobs) // big_jobs))
        crew2 = world.user("crew2")
        st2 = world.stations["s2"].id
        acc3 = world.accounts["acc3"].id
        now = utcnow()
        rows, logs = [], []
        with db.writer.begin() as conn:
            from sqlmodel import Session

            with Session(bind=conn) as s:
                top = bump_counter(s, "change_seq", per_job * big_jobs)
                s.flush()
            seq = top - per_job * big_jobs
            for oid in big_ids:
                for i in range(per_job):
                    seq += 1
                    eid = new_id()
                    rows.append({"id": eid, "work_order_id": oid, "action": "add_note",
                                 "from_status": "dispatched", "to_status": "dispatched",
                                 "actor_id": crew2.id, "actor_role": "crew",
                                 "occurred_at": now - timedelta(seconds=i),
                                 "recorded_at": now, "data": {"text": f"reading {i}"}})
                    logs.append({"seq": seq, "entity": "work_order_event", "entity_id": eid,
                                 "version": 1, "deleted": False, "station_id": st2,
                                 "account_id": acc3, "user_id": crew2.id})
            conn.execute(insert(WorkOrderEvent), rows)
            conn.execute(insert(ChangeLog), logs)
        return {"small_jobs": small, "big_jobs": big_ids}
    finally:
        db.dispose()


# -- phones ---------------------------------------------------------------------------
PASSWORD = "Test-pass-123"  # the password of every user of tests.factories' world


def phone(url: str, folder: Path, username: str) -> Any:
    """A phone signed in as ``username`` (imports only the device side)."""
    from sync.client.engine import SyncEngine
    from sync.client.store import Store
    from sync.client.transport import Transport

    store = Store(folder / "gridone.db")
    transport = Transport(url, store, lang="en", timeout_s=120)
    engine = SyncEngine(store, transport)
    engine.login(username, PASSWORD)
    return store, transport, engine


def pull_device(url: str, username: str, folder: str) -> None:
    """Child-process mode: a fresh phone pulls everything; prints JSON with peak RSS."""
    store, transport, engine = phone(url, Path(folder), username)
    t0 = time.perf_counter()
    report = engine.puller.run()
    seconds = time.perf_counter() - t0
    with store.read() as conn:
        held = conn.exec_driver_sql("SELECT count(*) FROM server_row").scalar()
    transport.close()
    store.close()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": report.changes, "held": held, "pages": report.pages,
                      "seconds": seconds, "peak_rss_mb": rss_kb / 1024,
                      "vm_hwm_mb": _vm_hwm_mb()}))


def _vm_hwm_mb() -> float:
    """Peak resident set of this process image (Linux ``VmHWM``)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Launcher:
    """A small process started before the benchmark grows, which starts the phone
    process for (e). Linux carries a process's peak RSS across ``exec`` into
    ``ru_maxrss``, so a phone started straight from this (large) process would report
    this process's peak instead of its own."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--launcher"], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def run(self, args: list[str]) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(args) + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def launcher() -> None:
    for line in sys.stdin:
        done = subprocess.run(json.loads(line), cwd=ROOT, capture_output=True, text=True)
        out = done.stdout.strip().splitlines()
        print(out[-1] if done.returncode == 0 and out else json.dumps(
            {"error": done.returncode, "stderr": done.stderr[-2000:]}), flush=True)


def ceiling(folder: Path, n: int) -> float:
    """Plain sqlite3: ``n`` applied_op-like rows in one transaction (ops/s)."""
    path = folder / "ceiling.db"
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute("""CREATE TABLE applied_op (op_id VARCHAR(36) PRIMARY KEY,
        device_id VARCHAR(64) NOT NULL, device_seq INTEGER NOT NULL, user_id VARCHAR(36)
        NOT NULL, lane VARCHAR(100) NOT NULL, type VARCHAR(64) NOT NULL, entity_id
        VARCHAR(36) NOT NULL, content_hash VARCHAR(64) NOT NULL, status VARCHAR(12) NOT
        NULL, code VARCHAR(48), details JSON NOT NULL, result JSON NOT NULL,
        device_created_at DATETIME NOT NULL, effective_at DATETIME NOT NULL,
        clock_offset_s FLOAT NOT NULL, received_at DATETIME NOT NULL)""")
    con.execute("CREATE INDEX ix_applied_op_device_id ON applied_op (device_id)")
    con.execute("CREATE INDEX ix_applied_op_user_id ON applied_op (user_id)")
    from shared.ids import new_id

    rows = [(new_id(), "bench-device-1", i + 1, "u" * 36, f"work_order:{'w' * 36}",
             "work_order.add_note@1", "w" * 36, "h" * 64, "applied", None, "{}",
             '{"entity": "work_order", "version": 2}', "2026-01-01 00:00:00",
             "2026-01-01 00:00:00", 0.0, "2026-01-01 00:00:00") for i in range(n)]
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO applied_op VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?, ?)", rows)
    con.execute("COMMIT")
    seconds = time.perf_counter() - t0
    con.close()
    return n / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--empty", type=int, default=200)
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    ap.add_argument("--pull-device", nargs=3, metavar=("URL", "USER", "DIR"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.launcher:
        launcher()
        return
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    if args.pull_device:
        pull_device(*args.pull_device)
        return

    from sync.protocol import OpType

    tmp = Path(tempfile.mkdtemp(prefix="gridone-bench-"))
    spawner = Launcher()
    t0 = time.perf_counter()
    (tmp / "server").mkdir()
    ids = seed(tmp / "server" / "gridone.db", args.big)
    print(f"setup: seeded the server database in {time.perf_counter() - t0:.1f} s "
          f"({tmp})", flush=True)
    server = Server(tmp / "server" / "gridone.db", tmp / "server.log")
    try:
        # (a) push
        store, transport, engine = phone(server.url, tmp / "pusher", "crew1")
        jobs = ids["small_jobs"]
        t0 = time.perf_counter()
        for i in range(args.ops):
            store.enqueue(OpType.WO_ADD_NOTE.value, jobs[i % len(jobs)], {"text": f"note {i}"})
        print(f"setup: queued {args.ops} ops on the phone in {time.perf_counter() - t0:.1f} s",
              flush=True)
        who = store.signed_in()
        waited = [0.0]
        send = transport.push

        def timed_push(body: dict[str, Any]) -> Any:
            t = time.perf_counter()
            try:
                return send(body)
            finally:
                waited[0] += time.perf_counter() - t

        transport.push = timed_push  # type: ignore[method-assign]
        t0 = time.perf_counter()
        report = engine.pusher.run(who)
        push_s = time.perf_counter() - t0
        assert report.outcome.acked == args.ops, report
        push_rate = args.ops / push_s
        print(f"push: {args.ops} ops in {push_s:.2f} s, {report.requests} requests "
              f"-> {push_rate:,.0f} ops/s (waiting for the server {waited[0]:.2f} s, "
              f"bookkeeping on the phone {push_s - waited[0]:.2f} s)", flush=True)
        transport.close()
        store.close()

        # (b) a fresh phone pulls the crew's scope
        store, transport, engine = phone(server.url, tmp / "puller", "crew1")
        waited = [0.0]
        fetch = transport.pull

        def timed_pull(cursor: str | None, limit: int) -> dict[str, Any]:
            t = time.perf_counter()
            try:
                return fetch(cursor, limit)
            finally:
                waited[0] += time.perf_counter() - t

        transport.pull = timed_pull  # type: ignore[method-assign]
        t0 = time.perf_counter()
        pulled = engine.puller.run()
        pull_s = time.perf_counter() - t0
        pull_rate = pulled.changes / pull_s
        print(f"pull: {pulled.changes} rows in {pull_s:.2f} s, {pulled.pages} pages "
              f"-> {pull_rate:,.0f} rows/s (waiting for the server {waited[0]:.2f} s, "
              f"applying on the phone {pull_s - waited[0]:.2f} s)", flush=True)
        transport.pull = fetch  # type: ignore[method-assign]

        # (c) nothing new
        from sync.client.store import Key

        cursor = store.state(Key.CURSOR)
        times = []
        for _ in range(args.empty):
            t = time.perf_counter()
            page = transport.pull(cursor, 1000)
            times.append((time.perf_counter() - t) * 1000)
            assert not page["changes"] and not page["has_more"]
        empty_ms = statistics.median(times)
        passes = []
        for _ in range(max(10, args.empty // 10)):
            t = time.perf_counter()
            engine.sync_once()
            passes.append((time.perf_counter() - t) * 1000)
        print(f"empty pull: median {empty_ms:.2f} ms over {args.empty} "
              f"(p90 {statistics.quantiles(times, n=10)[-1]:.2f} ms); a whole no-change "
              f"sync pass: median {statistics.median(passes):.2f} ms", flush=True)
        transport.close()
        store.close()

        # (d) the bare ceiling on this machine, this run
        ceil = ceiling(tmp, args.ops)
        print(f"ceiling: {args.ops} applied_op-like rows, plain sqlite3 executemany, one "
              f"transaction -> {ceil:,.0f} ops/s", flush=True)

        # (e) 100,000 rows into a fresh phone, in its own process
        big = json.loads(spawner.run([sys.executable, __file__, "--pull-device", server.url,
                                      "crew2", str(tmp / "big")]))
        assert "rows" in big, big
        print(f"big pull: {big['rows']} rows ({big['held']} kept) in {big['seconds']:.1f} s, "
              f"{big['pages']} pages -> {big['rows'] / big['seconds']:,.0f} rows/s; "
              f"phone process peak RSS {big['peak_rss_mb']:.0f} MB (ru_maxrss; VmHWM "
              f"{big['vm_hwm_mb']:.0f} MB)", flush=True)
    finally:
        server.stop()
        spawner.close()
        if not args.keep:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    print(f"push_ops_per_s={push_rate:.0f} pull_rows_per_s={pull_rate:.0f} "
          f"empty_pull_ms={empty_ms:.2f} ceiling_ops_per_s={ceil:.0f}")


if __name__ == "__main__":
    main()
