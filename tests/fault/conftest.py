"""Fault-test fixtures: ``env`` is a running world — the real server app (uvicorn, child
process) on its own SQLite file with the fault world, a fault proxy in front of it, a
dispatcher on the online API, and phones made on demand. Everything is stopped and
every child process killed at the end of the test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from server.db import Database, make_database
from tests.contract.conftest import Device
from tests.factories import PASSWORD, World
from tests.fault.harness import (
    Child,
    Office,
    ServerProcess,
    WorkerProcess,
    build_fault_world,
    make_device,
)
from tests.fault.proxy import FaultProxy


@dataclass
class FaultEnv:
    root: Path
    db: Database
    world: World
    server: ServerProcess
    proxy: FaultProxy
    office: Office
    office2: Office
    phones: list[Device] = field(default_factory=list)
    workers: list[Child] = field(default_factory=list)

    def phone(self, username: str | None, *, name: str | None = None, direct: bool = False,
              pull_limit: int = 1000, timeout_s: float = 5) -> Device:
        """A phone in this process, through the proxy (``direct``: straight to the
        server). ``username=None``: not signed in yet."""
        name = name or f"{username}-{len(self.phones)}"
        url = self.server.url if direct else self.proxy.url
        dev = make_device(url, self.root / "phones" / name, username, pull_limit=pull_limit,
                          timeout_s=timeout_s)
        dev.name = name
        self.phones.append(dev)
        return dev

    def track(self, dev: Device) -> Device:
        """Close ``dev`` with the rest at the end."""
        self.phones.append(dev)
        return dev

    def worker(self, name: str, **config: object) -> WorkerProcess:
        w = WorkerProcess(self.root / "workers" / name,
                          {"url": self.proxy.url, "password": PASSWORD, **config})
        self.workers.append(w)
        return w

    def restart_server(self, *, kill: bool = True) -> None:
        """SIGKILL (or SIGTERM) the server and start it again on the same file."""
        if kill:
            self.server.kill()
        else:
            self.server.stop()
        self.server.start()
        self.proxy.upstream_port = self.server.port

    def user_id(self, name: str) -> str:
        return self.world.user(name).id

    def close(self) -> None:
        for w in self.workers:
            w.kill()
        for dev in self.phones:
            dev.close()
        self.office.close()
        self.office2.close()
        self.proxy.stop()
        self.server.stop()
        self.db.dispose()


@pytest.fixture
def env(tmp_path: Path, template_db: Path, request: pytest.FixtureRequest
        ) -> Iterator[FaultEnv]:
    folder = tmp_path / "server"
    folder.mkdir()
    path = folder / "gridone.db"
    shutil.copy(template_db, path)
    db = make_database(f"sqlite:///{path}")
    world = build_fault_world(db)
    server = ServerProcess(path, tmp_path / "server.log")
    proxy: FaultProxy | None = None
    offices: list[Office] = []
    try:
        server.start()
        seed = sum(map(ord, request.node.name))
        proxy = FaultProxy(server.port, seed=seed).start()
        offices = [Office(server, world.user("dispatcher1").id),
                   Office(server, world.user("dispatcher2").id)]
        e = FaultEnv(tmp_path, db, world, server, proxy, offices[0], offices[1])
    except BaseException:
        for o in offices:
            o.close()
        if proxy is not None:
            proxy.stop()
        server.kill()
        db.dispose()
        raise
    try:
        yield e
    finally:
        e.close()
