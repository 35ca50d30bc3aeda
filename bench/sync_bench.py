"""Sync benchmark (not part of the test run): ``.venv/bin/python bench/sync_bench.py``.

Loopback, SQLite server (the real app under uvicorn in a child process), the real device
engine. Prints one line per figure and ends with exactly one line::

    push_ops_per_s=… pull_rows_per_s=… empty_pull_ms=… ceiling_ops_per_s=…
    push_bytes_per_op=… pull_bytes_per_row=… assign_to_phone_ms=… empty_pulls_per_s=…

(a) ``--ops`` (10,000) small ops (``add_note`` across 200 jobs) queued on one phone and
    pushed by the engine (``Pusher.run``: batches growing fourfold from 250 to 2,000, results
    recorded); the bytes on the wire both ways per op (bodies and headers, as sent: the
    phone's HTTP client is given a counting transport; the phone gzip-encodes push bodies
    of 512 bytes or more, as it does in the field, unless ``--plain-push``; the size of
    the same bodies plain is printed too);
(b) a fresh phone of the same crew pulling its whole scope (~10,600 rows), and the bytes
    per row on the wire (gzip-encoded answers);
(c) a pull with nothing new: the median of ``--empty`` (200) round trips; then 16 phones
    pulling with nothing new as fast as they can for ``--burst-s`` seconds (one API
    worker; a lean keep-alive HTTP client, so the load generator is not the limit):
    answers per second;
(d) the same run's bare ceiling: ``--ops`` applied_op-like rows inserted with plain
    ``sqlite3`` ``executemany`` in one transaction, on a file set up like the server's
    (WAL, synchronous=NORMAL);
(e) a fresh phone pulling ``--big`` (100,000) rows in its own process: rows/s and that
    process's peak RSS (``resource.getrusage(...).ru_maxrss``);
(f) assign → phone: a dispatcher dispatches a job to crew1 (``--assign`` times, 20); the
    phone's engine keeps a long poll open (its puller, each pull with ``wait``) and the
    time until the job is in the phone's read model is taken: median and max;
(g) with ``--pg`` (default on): (a) again against a PostgreSQL server (one worker).

Targets on a 2-core machine (issue 9): push ≥ 15,000 ops/s, pull ≥ 40,000 rows/s, empty
pull ≤ 2 ms, 2,000 no-change pulls/s, ≤ 220 bytes per pushed note, ≤ 180 bytes per pulled
row, assign → phone ≤ 2 s, peak RSS ≤ 100 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shared.heap import settle  # noqa: E402 (after the path)

SECRET = "bench-secret-" + "s" * 40
JOBS = 200


# -- the server (child process) -------------------------------------------------------
def serve(url: str, port: int, push_path: str = "bulk") -> None:
    import uvicorn

    from server.app import create_app
    from server.config import Settings
    from tests.factories import PEPPER

    data = Path(tempfile.mkdtemp(prefix="gridone-bench-data-"))
    # budgets are spent (their cost counts) but never refuse the benchmark's phones
    settings = Settings(env="test", data_dir=data, database_url=url, secret_key=SECRET,
                        lookup_pepper=PEPPER, stalled_check=False,
                        sync_pull_per_minute=10**9, sync_push_per_minute=10**9,
                        sync_push_path=push_path)  # type: ignore[arg-type]
    app = create_app(settings, migrate=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


class Server:
    def __init__(self, url: str, log: Path, push_path: str = "bulk") -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "ab")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", url, str(self.port), push_path], cwd=ROOT,
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
def seed(url: str, big: int) -> dict[str, Any]:
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
        world_ids = {"dispatcher1": world.user("dispatcher1").id,
                     "crew1": world.user("crew1").id, "acc1": world.accounts["acc1"].id}
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
        return {"small_jobs": small, "big_jobs": big_ids, **world_ids}
    finally:
        db.dispose()


# -- phones ---------------------------------------------------------------------------
PASSWORD = "Test-pass-123"  # the password of every user of tests.factories' world


class Wire(httpx.HTTPTransport):
    """The phone's HTTP client's transport, counting the bytes on the wire (bodies as
    sent, compressed or not, and headers); with ``gzip_push`` it sends push bodies
    gzip-encoded (``Content-Encoding: gzip``), as the server accepts them."""

    def __init__(self, *, gzip_push: bool = False) -> None:
        super().__init__()
        self.gzip_push = gzip_push
        self.up = self.down = self.plain_up = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.headers.get("Content-Encoding") == "gzip":  # the phone gzipped it
            self.plain_up += len(gzip.decompress(body))
        else:
            self.plain_up += len(body)
        if (self.gzip_push and body and request.url.path.endswith("/sync/push")
                and "Content-Encoding" not in request.headers):
            body = gzip.compress(body, 6)
            request.headers["Content-Encoding"] = "gzip"
            request.headers["Content-Length"] = str(len(body))
            request.stream = httpx.ByteStream(body)
            request._content = body
        self.up += len(body) + _header_bytes(request.headers) + len(str(request.url.raw_path))
        response = super().handle_request(request)
        self.down += _header_bytes(response.headers) + 17
        response.stream = _Counted(response.stream, self)
        return response

    def reset(self) -> None:
        self.up = self.down = self.plain_up = 0


class _Counted(httpx.SyncByteStream):
    def __init__(self, inner: Any, wire: Wire) -> None:
        self.inner, self.wire = inner, wire

    def __iter__(self) -> Any:
        for chunk in self.inner:
            self.wire.down += len(chunk)
            yield chunk

    def close(self) -> None:
        self.inner.close()


def _header_bytes(headers: httpx.Headers) -> int:
    return sum(len(k) + len(v) + 4 for k, v in headers.raw)


def phone(url: str, folder: Path, username: str, wire: Wire | None = None) -> Any:
    """A phone signed in as ``username`` (imports only the device side)."""
    from sync.client.engine import SyncEngine
    from sync.client.store import Store
    from sync.client.transport import Transport

    store = Store(folder / "gridone.db")
    client = httpx.Client(base_url=url, transport=wire or Wire(),
                          timeout=httpx.Timeout(120, connect=10),
                          headers={"User-Agent": "GridOne-device/1"})
    transport = Transport(url, store, lang="en", timeout_s=120, client=client)
    engine = SyncEngine(store, transport)
    engine.login(username, PASSWORD)
    return store, transport, engine


def pull_device(url: str, username: str, folder: str) -> None:
    """Child-process mode: a fresh phone pulls everything; prints JSON with peak RSS."""
    settle()  # as the app's start does
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


def push_phase(url: str, folder: Path, jobs: list[str], n: int, *, gzip_push: bool
               ) -> dict[str, float]:
    """(a): ``n`` notes queued on a fresh crew1 phone, pushed by its engine."""
    from sync.protocol import OpType

    wire = Wire(gzip_push=gzip_push)
    store, transport, engine = phone(url, folder, "crew1", wire)
    t0 = time.perf_counter()
    for i in range(n):
        store.enqueue(OpType.WO_ADD_NOTE.value, jobs[i % len(jobs)], {"text": f"note {i}"})
    queued = time.perf_counter() - t0
    who = store.signed_in()
    waited = [0.0]
    send = transport.push

    def timed_push(body: dict[str, Any], **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return send(body, **kw)
        finally:
            waited[0] += time.perf_counter() - t

    transport.push = timed_push  # type: ignore[method-assign]
    wire.reset()
    t0 = time.perf_counter()
    report = engine.pusher.run(who)
    seconds = time.perf_counter() - t0
    assert report.outcome.acked == n, report
    transport.close()
    store.close()
    return {"seconds": seconds, "rate": n / seconds, "requests": report.requests,
            "waited": waited[0], "queued": queued, "bytes": (wire.up + wire.down) / n,
            "up": wire.up / n, "down": wire.down / n, "plain_up": wire.plain_up / n}


def long_pull(transport: Any, wait: float) -> Any:
    """The transport's pull with ``wait`` (a long poll): the phone's engine keeps one
    open. (The transport's request path — auth, refresh, error classes — as is.)"""
    from sync.client.errors import TransientError
    from sync.protocol import PROTOCOL_VERSION

    def pull(cursor: str | None, limit: int) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit, "protocol": PROTOCOL_VERSION}
        if cursor:
            params.update(cursor=cursor, wait=wait)
        resp, _, _ = transport._authed("GET", "/api/v1/sync/pull", params=params)
        page: dict[str, Any] = resp.json()
        if "next_cursor" not in page:
            raise TransientError("pull answer without a cursor", code="SYNC_BAD_ANSWER")
        return page

    return pull


def assign_phase(url: str, folder: Path, ids: dict[str, Any], times: int) -> list[float]:
    """(f): dispatch a job to crew1 ``times`` times; ms until it is in the phone's read
    model while the phone's puller keeps a long poll open."""
    from server.auth.security import make_token
    from sync.client.readmodel import ReadModel

    store, transport, engine = phone(url, folder, "crew1")
    engine.puller.run()  # the fresh download
    transport.pull = long_pull(transport, 20)  # type: ignore[method-assign]
    read = ReadModel(store, lang="en")
    stop = threading.Event()
    seen: dict[str, float] = {}
    wanted: set[str] = set()

    def keep_pulling() -> None:
        while not stop.is_set():
            engine.puller.run()
            now = time.perf_counter()
            for job in read.my_jobs():
                if job.id in wanted and job.id not in seen:
                    seen[job.id] = now

    token, _ = make_token(secret=SECRET, sub=ids["dispatcher1"], kind="access",
                          ttl=timedelta(hours=1))
    office = httpx.Client(base_url=url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"})
    puller = threading.Thread(target=keep_pulling, daemon=True)
    puller.start()
    out = []
    try:
        for _ in range(times):
            r = office.post("/api/v1/work-orders", json={
                "account_id": ids["acc1"], "description": "assign benchmark"})
            assert r.status_code == 201, r.text
            oid = r.json()["id"]
            wanted.add(oid)
            time.sleep(0.3)  # the puller is waiting again (the report woke it)
            t0 = time.perf_counter()
            r = office.post(f"/api/v1/work-orders/{oid}/dispatch",
                            json={"assignee_id": ids["crew1"]})
            assert r.status_code == 200, r.text
            deadline = t0 + 30
            while oid not in seen and time.perf_counter() < deadline:
                time.sleep(0.002)
            assert oid in seen, "the job never reached the phone"
            out.append((seen[oid] - t0) * 1000)
    finally:
        stop.set()
        # one more commit wakes the last long poll, so the thread ends
        office.post("/api/v1/work-orders", json={"account_id": ids["acc1"],
                                                 "description": "wake-up"})
        office.post(f"/api/v1/work-orders/{oid}/dispatch", json={"assignee_id": ids["crew1"]})
        puller.join(30)
        office.close()
        transport.close()
        store.close()
    return out


def burst_phase(url: str, folder: Path, phones: int, seconds: float) -> float:
    """(c'): ``phones`` phones at once, each pulling with nothing new as fast as it can:
    answers per second (one API worker)."""
    cursors, tokens = [], []
    for i in range(phones):
        store, transport, engine = phone(url, folder / f"burst{i}", "crew1")
        engine.puller.run()
        from sync.client.store import Key

        cursors.append(store.state(Key.CURSOR))
        tokens.append((store.tokens()[0], transport.device_id))
        transport.close()
        store.close()

    async def run() -> int:
        # A lean HTTP/1.1 client (one keep-alive connection per phone, the request bytes
        # made once): httpx's own CPU per request is about the server's, and on a 2-core
        # machine the load generator would measure itself.
        done = 0
        host, port = url.removeprefix("http://").split(":")
        stop = time.perf_counter() + seconds

        async def one(i: int) -> None:
            nonlocal done
            token, device = tokens[i]
            query = urlencode({"cursor": cursors[i], "limit": 1000})
            request = (f"GET /api/v1/sync/pull?{query} HTTP/1.1\r\nHost: {host}\r\n"
                       f"Authorization: Bearer {token}\r\nX-Device-ID: {device or '-'}\r\n"
                       "Accept-Encoding: gzip\r\n\r\n").encode()
            reader, writer = await asyncio.open_connection(host, int(port))
            while time.perf_counter() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                body = await reader.readexactly(length)
                if b"content-encoding: gzip" in head.lower():
                    body = gzip.decompress(body)
                page = json.loads(body)
                assert status == 200 and not page["changes"], body[:300]
                done += 1
            writer.close()

        await asyncio.gather(*(one(i) for i in range(phones)))
        return done

    t0 = time.perf_counter()
    done = asyncio.run(run())
    return done / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=10_000)
    ap.add_argument("--big", type=int, default=100_000)
    ap.add_argument("--empty", type=int, default=200)
    ap.add_argument("--assign", type=int, default=20)
    ap.add_argument("--burst-s", type=float, default=10.0)
    ap.add_argument("--phones", type=int, default=16)
    ap.add_argument("--plain-push", action="store_true",
                    help="send push bodies as plain JSON (the phone gzips them otherwise)")
    ap.add_argument("--no-pg", action="store_true", help="skip the PostgreSQL push")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--push-path", choices=("bulk", "per_op"), default="bulk",
                    help="how the server decides a push (per_op: the reference path)")
    ap.add_argument("--serve", nargs=3, metavar=("URL", "PORT", "PATH"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--pull-device", nargs=3, metavar=("URL", "USER", "DIR"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--launcher", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.launcher:
        launcher()
        return
    if args.plain_push:
        import sync.client.transport as phone_transport

        phone_transport.PUSH_GZIP_MIN_BYTES = 1 << 62
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return
    if args.pull_device:
        pull_device(*args.pull_device)
        return

    tmp = Path(tempfile.mkdtemp(prefix="gridone-bench-"))
    spawner = Launcher()
    t0 = time.perf_counter()
    (tmp / "server").mkdir()
    url = f"sqlite:///{tmp / 'server' / 'gridone.db'}"
    ids = seed(url, args.big)
    # the phones below run in this process: its start-up out of the collector's sight, as
    # the app's start does (``mobile.main.run``, ``mobile/web/entry.py``: ``shared.heap``)
    settle()
    print(f"setup: seeded the server database in {time.perf_counter() - t0:.1f} s "
          f"({tmp})", flush=True)
    server = Server(url, tmp / "server.log", args.push_path)
    try:
        # (a) push
        p = push_phase(server.url, tmp / "pusher", ids["small_jobs"], args.ops,
                       gzip_push=not args.plain_push)
        push_rate, push_bytes = p["rate"], p["bytes"]
        print(f"setup: queued {args.ops} ops on the phone in {p['queued']:.1f} s", flush=True)
        print(f"push: {args.ops} ops in {p['seconds']:.2f} s, {p['requests']} requests "
              f"-> {push_rate:,.0f} ops/s (waiting for the server {p['waited']:.2f} s, "
              f"bookkeeping on the phone {p['seconds'] - p['waited']:.2f} s)", flush=True)
        print(f"push bytes per op on the wire: {push_bytes:.0f} (up {p['up']:.0f}"
              f"{' gzip' if not args.plain_push else ''}, down {p['down']:.0f}); "
              f"the request bodies plain: {p['plain_up']:.0f} per op", flush=True)

        # (b) a fresh phone pulls the crew's scope
        wire = Wire()
        store, transport, engine = phone(server.url, tmp / "puller", "crew1", wire)
        waited = [0.0]
        fetch = transport.pull

        def timed_pull(cursor: str | None, limit: int) -> dict[str, Any]:
            t = time.perf_counter()
            try:
                return fetch(cursor, limit)
            finally:
                waited[0] += time.perf_counter() - t

        transport.pull = timed_pull  # type: ignore[method-assign]
        wire.reset()
        t0 = time.perf_counter()
        pulled = engine.puller.run()
        pull_s = time.perf_counter() - t0
        pull_rate = pulled.changes / pull_s
        pull_bytes = (wire.up + wire.down) / pulled.changes
        print(f"pull: {pulled.changes} rows in {pull_s:.2f} s, {pulled.pages} pages "
              f"-> {pull_rate:,.0f} rows/s (waiting for the server {waited[0]:.2f} s, "
              f"applying on the phone {pull_s - waited[0]:.2f} s); {pull_bytes:.0f} bytes "
              f"per row on the wire (gzip)", flush=True)
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
        burst = burst_phase(server.url, tmp / "burst", args.phones, args.burst_s)
        print(f"empty pulls: {args.phones} phones at once, one API worker -> "
              f"{burst:,.0f} answers/s", flush=True)

        # (d) the bare ceiling on this machine, this run
        ceil = ceiling(tmp, args.ops)
        print(f"ceiling: {args.ops} applied_op-like rows, plain sqlite3 executemany, one "
              f"transaction -> {ceil:,.0f} ops/s; push / ceiling = {push_rate / ceil:.3f}",
              flush=True)

        # (f) assign -> phone
        lags = assign_phase(server.url, tmp / "assign", ids, args.assign)
        assign_ms = statistics.median(lags)
        print(f"assign -> phone read model: median {assign_ms:.0f} ms, max {max(lags):.0f} ms "
              f"over {len(lags)} (the phone's puller keeping a long poll open)", flush=True)

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
    if not args.no_pg:
        pg_push(tmp, args)
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    print(f"push_ops_per_s={push_rate:.0f} pull_rows_per_s={pull_rate:.0f} "
          f"empty_pull_ms={empty_ms:.2f} ceiling_ops_per_s={ceil:.0f} "
          f"push_bytes_per_op={push_bytes:.0f} pull_bytes_per_row={pull_bytes:.0f} "
          f"assign_to_phone_ms={assign_ms:.0f} empty_pulls_per_s={burst:.0f}")


def pg_push(tmp: Path, args: Any) -> None:
    """(g): the push again, the server on PostgreSQL (one worker)."""
    from bench.launch import postgres_database
    from tests.pg import base_url

    with postgres_database(base_url()) as url:
        t0 = time.perf_counter()
        ids = seed(url, 100)
        print(f"setup: seeded a PostgreSQL database in {time.perf_counter() - t0:.1f} s",
              flush=True)
        server = Server(url, tmp / "server-pg.log", args.push_path)
        try:
            p = push_phase(server.url, tmp / "pusher-pg", ids["small_jobs"], args.ops,
                           gzip_push=not args.plain_push)
        finally:
            server.stop()
    print(f"push on PostgreSQL: {args.ops} ops in {p['seconds']:.2f} s -> "
          f"{p['rate']:,.0f} ops/s (waiting for the server {p['waited']:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
