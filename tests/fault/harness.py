"""Processes and phones for the fault tests.

* ``ServerProcess`` — the real app under uvicorn in a child process on a SQLite file;
  ``kill()`` (SIGKILL), ``stop()`` (SIGTERM, graceful) and ``start()`` again on the same
  file (a new free port each time: point the proxy at ``port``).
* ``WorkerProcess`` — a phone in a child process (``tests.fault.device_worker``).
* ``make_device`` — a phone in this process (the contract harness's ``Device``), talking
  through the proxy.
* ``build_fault_world`` — the small test world plus six more accounts with installed
  meters (for meter-swap jobs, one per account) and more meters in stock.

Every child is started in its own session and stopped by its own PID.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from server.customers.models import Account
from server.db import Database
from server.meters.models import Meter
from shared.enums import MeterStatus
from shared.timeutil import utcnow
from sync.client import rows
from sync.client.actions import Actions
from sync.client.engine import SyncEngine
from sync.client.readmodel import ReadModel
from sync.client.store import Store
from sync.client.transport import Transport
from sync.protocol import ENTITIES
from tests.contract.conftest import Device
from tests.factories import PASSWORD, World, build_world

ROOT = Path(__file__).resolve().parents[2]
EXTRA_ACCOUNTS = 6
EXTRA_STOCK = 10

Rows = dict[tuple[str, str], tuple[int, dict[str, Any]]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Child:
    """A child process with its output appended to ``log``."""

    def __init__(self, args: list[str], log: Path) -> None:
        self.args = args
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def spawn(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.starts += 1

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL (no clean-up of any kind) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self, timeout: float = 15) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class ServerProcess(Child):
    def __init__(self, db_path: Path, log: Path) -> None:
        super().__init__([], log)
        self.db_path = db_path
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        self.port = free_port()
        self.args = [sys.executable, "-m", "tests.fault.serve", str(self.db_path),
                     str(self.port)]
        self.spawn()
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive:
                raise RuntimeError(f"server exited:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.terminate()


class WorkerProcess(Child):
    """``python -m tests.fault.device_worker <folder>/config.json``."""

    def __init__(self, folder: Path, config: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.config = {"dir": str(folder), **config}
        path = folder / "config.json"
        path.write_text(json.dumps(self.config))
        super().__init__([sys.executable, "-m", "tests.fault.device_worker", str(path)],
                         folder / "worker.log")
        self._starts_before = 0

    @property
    def db_path(self) -> Path:
        return self.folder / "gridone.db"

    def events(self) -> list[dict[str, Any]]:
        return json_lines(self.folder / "events.log")

    def spawn(self) -> None:
        self._starts_before = self._started_count()
        super().spawn()

    @property
    def up(self) -> bool:
        """This process got going (its imports done): a kill timed from here leaves it
        time to work however slow the machine is."""
        return self._started_count() > self._starts_before

    def _started_count(self) -> int:
        try:  # the worker counts its starts in this file once imported
            return int((self.folder / "starts").read_text() or 0)
        except (OSError, ValueError):
            return 0

    def journal(self) -> list[dict[str, Any]]:
        return json_lines(self.folder / "journal.log")


def json_lines(path: Path) -> list[dict[str, Any]]:
    """JSON lines of a log (a last line cut off by SIGKILL is skipped)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with suppress(ValueError):
            out.append(json.loads(line))
    return out


@contextmanager
def children(*procs: Child) -> Iterator[None]:
    try:
        yield
    finally:
        for p in procs:
            p.kill()


# -- the world ----------------------------------------------------------------------
def build_fault_world(db: Database) -> World:
    world = build_world(db)
    now = utcnow()
    rural = world.areas["rural"]
    with Session(db.writer, expire_on_commit=False) as s:
        for i in range(EXTRA_ACCOUNTS):
            key = f"sw{i}"
            acc = Account(account_no=f"88{i:08d}", name=f"Swap customer {i}",
                          phone="13900000001", address=f"Swap Road {i}", lat=27.8, lon=112.9,
                          station_id=rural.station_id, area_id=rural.id,
                          owner_user_id=world.user("customer2").id,
                          id_card_masked="4301**********0000", balance_fen=10_000 + i)
            s.add(acc)
            s.flush()
            world.accounts[key] = acc
            world.meters[key] = Meter(
                meter_no=f"MTR-SW{i}-0001", model="DDZY-1", status=MeterStatus.INSTALLED,
                account_id=acc.id, area_id=acc.area_id, station_id=acc.station_id,
                purchase_count=3, balance_fen=4000 + i, card_no="1234567890",
                last_reading_centi=200_000, last_reading_at=now - timedelta(days=1),
                installed_at=now - timedelta(days=300))
            s.add(world.meters[key])
        for i in range(EXTRA_STOCK):
            key = f"stock_x{i}"
            world.meters[key] = Meter(meter_no=f"NEW-X{i:03d}", model="DDZY-2",
                                      status=MeterStatus.IN_STOCK,
                                      station_id=world.stations["s1"].id)
            s.add(world.meters[key])
        s.commit()
    return world


# -- phones in this process ---------------------------------------------------------
def make_device(url: str, folder: Path, username: str | None, *, pull_limit: int = 1000,
                client: httpx.Client | None = None, timeout_s: float = 5) -> Device:
    store = Store(folder / "gridone.db")
    transport = Transport(url, store, lang="en", timeout_s=timeout_s, client=client)
    engine = SyncEngine(store, transport, pull_limit=pull_limit, min_gap_s=0.02)
    dev = Device(folder.name, store, transport, engine,
                 Actions(store, photo_dir=folder / "photos", on_change=engine.nudge,
                         lang="en"), ReadModel(store, lang="en"))
    if username is not None:
        engine.login(username, PASSWORD)
    return dev


def open_device(folder: Path, url: str) -> Device:
    """A phone whose store already exists (a worker's folder), for the final sync."""
    return make_device(url, folder, None)


def device_rows(store: Store) -> Rows:
    with store.read() as conn:
        return {(e, r["id"]): (v, r) for e in ENTITIES for v, r in rows.all_of(conn, e)}


def fresh_rows(url: str, username: str, folder: Path) -> Rows:
    """What a brand-new phone of ``username`` downloads straight from the server."""
    dev = make_device(url, folder, username, pull_limit=500)
    try:
        dev.engine.puller.run()
        return device_rows(dev.store)
    finally:
        dev.close()


def diff_rows(mine: Rows, theirs: Rows, limit: int = 8) -> str:
    lines = []
    for key in sorted(set(mine) | set(theirs)):
        a, b = mine.get(key), theirs.get(key)
        if a != b:
            lines.append(f"{key}: device={a and a[0]} {'' if a else 'missing'} "
                         f"server={b and b[0]} {'' if b else 'missing'}")
            if a and b:
                changed = {k for k in set(a[1]) | set(b[1]) if a[1].get(k) != b[1].get(k)}
                lines.append(f"   fields differ: {sorted(changed)}")
    return "\n".join(lines[:limit * 2]) + (f"\n… {len(lines)} lines" if len(lines) > limit * 2
                                           else "")


# -- the office (online API, straight to the server) ----------------------------------
class Office:
    """A dispatcher using the online API; follows the server across restarts."""

    def __init__(self, server: ServerProcess, user_id: str) -> None:
        from server.auth.security import make_token
        from tests.conftest import SECRET

        token, _ = make_token(secret=SECRET, sub=user_id, kind="access",
                              ttl=timedelta(hours=2))
        self.server = server
        self.http = httpx.Client(timeout=10, headers={"Authorization": f"Bearer {token}",
                                                      "Accept-Language": "en"})

    def call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        r = self.http.request(method, f"{self.server.url}{path}", **kw)
        assert r.status_code < 300, r.text
        return r.json()  # type: ignore[no-any-return]

    def new_job(self, account_id: str, assignee_id: str, kind: str = "fault_repair"
                ) -> dict[str, Any]:
        order = self.call("POST", "/api/v1/work-orders", json={
            "kind": kind, "account_id": account_id, "description": "No power in the house"})
        return self.call("POST", f"/api/v1/work-orders/{order['id']}/dispatch",
                         json={"assignee_id": assignee_id})

    def job(self, order_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/v1/work-orders/{order_id}")

    def act(self, order_id: str, action: str, **body: Any) -> dict[str, Any]:
        return self.call("POST", f"/api/v1/work-orders/{order_id}/{action}", json=body)

    def close(self) -> None:
        self.http.close()
