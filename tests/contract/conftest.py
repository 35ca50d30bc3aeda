"""Contract-test harness: the real server app served by uvicorn on a free loopback port
(per test, on its own SQLite copy), and real devices — ``Store`` + ``Transport`` +
``SyncEngine`` + ``Actions`` — talking to it over HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from server.auth.security import make_token
from sync.client.actions import Actions
from sync.client.engine import SyncEngine
from sync.client.readmodel import ReadModel
from sync.client.store import Store
from sync.client.transport import Transport
from tests.conftest import SECRET
from tests.factories import PASSWORD, World


class LiveServer:
    """``app`` served on 127.0.0.1 in a thread; ``url`` is its base URL."""

    def __init__(self, app: FastAPI) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none",
                                access_log=False, timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()


@pytest.fixture
def live(app: FastAPI) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


@dataclass
class Device:
    """One phone: its own store and photo folder, signed in as ``username``."""

    name: str
    store: Store
    transport: Transport
    engine: SyncEngine
    actions: Actions
    read: ReadModel

    def sync(self) -> Any:
        return self.engine.sync_once()

    def close(self) -> None:
        self.engine.stop(5)
        self.transport.close()
        self.store.close()


@pytest.fixture
def device(live: LiveServer, tmp_path: Path) -> Iterator[Callable[..., Device]]:
    """``device("crew1")`` -> a phone signed in as crew1 (``login=False``: not yet)."""
    made: list[Device] = []

    def make(username: str, *, name: str | None = None, login: bool = True,
             pull_limit: int = 1000, client: httpx.Client | None = None) -> Device:
        name = name or f"{username}-{len(made)}"
        folder = tmp_path / "devices" / name
        store = Store(folder / "gridone.db")
        transport = Transport(live.url, store, lang="en", timeout_s=10, client=client)
        engine = SyncEngine(store, transport, pull_limit=pull_limit, min_gap_s=0.05)
        dev = Device(name, store, transport, engine,
                     Actions(store, photo_dir=folder / "photos", on_change=engine.nudge,
                             lang="en"), ReadModel(store, lang="en"))
        made.append(dev)
        if login:
            engine.login(username, PASSWORD)
        return dev

    yield make
    for dev in made:
        dev.close()


class Office:
    """A dispatcher (or any user) using the online API of the live server."""

    def __init__(self, url: str, user_id: str) -> None:
        token, _ = make_token(secret=SECRET, sub=user_id, kind="access",
                              ttl=timedelta(minutes=30))
        self.http = httpx.Client(base_url=url, timeout=10, headers={
            "Authorization": f"Bearer {token}", "Accept-Language": "en"})

    def call(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        r = self.http.request(method, url, **kw)
        assert r.status_code < 300, r.text
        return r.json()  # type: ignore[no-any-return]

    def report(self, account_id: str, kind: str = "fault_repair",
               description: str = "No power in the house") -> dict[str, Any]:
        return self.call("POST", "/api/v1/work-orders", json={
            "kind": kind, "account_id": account_id, "description": description})

    def dispatch(self, order_id: str, assignee_id: str) -> dict[str, Any]:
        return self.call("POST", f"/api/v1/work-orders/{order_id}/dispatch",
                         json={"assignee_id": assignee_id})

    def job(self, order_id: str) -> dict[str, Any]:
        return self.call("GET", f"/api/v1/work-orders/{order_id}")

    def act(self, order_id: str, action: str, **body: Any) -> dict[str, Any]:
        return self.call("POST", f"/api/v1/work-orders/{order_id}/{action}", json=body)

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def office(live: LiveServer, world: World) -> Iterator[Office]:
    o = Office(live.url, world.user("dispatcher1").id)
    yield o
    o.close()


@pytest.fixture
def new_job(office: Office, world: World) -> Callable[..., dict[str, Any]]:
    """``new_job("crew1")`` -> a fault job on acc1, dispatched to crew1."""

    def make(assignee: str, *, account: str = "acc1", kind: str = "fault_repair"
             ) -> dict[str, Any]:
        order = office.report(world.accounts[account].id, kind=kind)
        return office.dispatch(order["id"], world.user(assignee).id)

    return make
