"""The phone against the server's per-device sync budget (issue 14): a 429 with
Retry-After is a transient failure to the phone's transport; the running engine waits
the time the server asked for and then finishes the download, losing nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.config import Settings
from sync.client.errors import TransientError
from tests.conftest import sqlite_settings
from tests.contract.conftest import Device, LiveServer
from tests.contract.test_sync_pull import snapshot
from tests.factories import World

WINDOW_S = 2
PAGE = 6  # crew1 holds 15 rows: three pages, the third over the budget


@pytest.fixture
def settings(tmp_path: Path, db_path: Path) -> Settings:
    return sqlite_settings(tmp_path, db_path).model_copy(update={
        "sync_pull_per_minute": 2, "sync_budget_window_s": WINDOW_S})


class Log:
    """Every request the phone sends and what came back."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, int, str | None]] = []
        self._lock = threading.Lock()

    def client(self, url: str) -> httpx.Client:
        def on_response(resp: httpx.Response) -> None:
            with self._lock:
                self.seen.append((time.monotonic(), resp.request.url.path, resp.status_code,
                                  resp.headers.get("Retry-After")))
        return httpx.Client(base_url=url, timeout=10, event_hooks={"response": [on_response]})


def test_a_spent_budget_makes_the_phone_wait_and_then_finish(
        live: LiveServer, device: Callable[..., Device],
        new_job: Callable[..., dict[str, Any]]) -> None:
    for _ in range(3):
        new_job("crew1")
    log = Log()
    phone = device("crew1", pull_limit=PAGE, client=log.client(live.url))
    phone.engine.start()
    deadline = time.monotonic() + 30
    while phone.engine.status().last_success_at is None and time.monotonic() < deadline:
        time.sleep(0.05)
    status = phone.engine.status()
    assert status.last_success_at is not None, log.seen
    assert phone.engine.stop(10)
    assert status.last_error is not None and status.last_error.code == "RATE_LIMITED"
    assert not status.error_is_current

    # Nothing was sent before the time a 429 asked for.
    pulls = [entry for entry in log.seen if entry[1] == "/api/v1/sync/pull"]
    refusals = [entry for entry in pulls if entry[2] == 429]
    assert refusals, pulls
    for at, _, _, retry_after in refusals:
        assert retry_after is not None
        early = [round(t - at, 2) for t, *_ in pulls if 0 < t - at < float(retry_after) - 0.05]
        assert early == [], f"pulls {early} s after a 429 asking to wait {retry_after} s"
    # The download is complete: the same as a phone with a budget of its own.
    other = device("crew1", name="other")
    other.transport.device_id = "another-phone"
    time.sleep(WINDOW_S)  # a fresh window for the user
    other.sync()
    assert snapshot(phone) == snapshot(other)
    assert len(phone.read.my_jobs()) == 3
    assert len(snapshot(phone)) > 2 * PAGE  # (so the budget was spent on the way)


def test_the_transport_reads_429_as_transient_with_its_retry_after(
        live: LiveServer, device: Callable[..., Device], world: World) -> None:
    phone = device("crew1", pull_limit=1)
    with pytest.raises(TransientError) as refused:
        phone.sync()  # the third page of one row each is over the budget of two
    assert refused.value.status == 429 and refused.value.code == "RATE_LIMITED"
    assert refused.value.retry_after is not None and 1 <= refused.value.retry_after <= WINDOW_S
    last = phone.engine.status().last_error
    assert last is not None and last.code == "RATE_LIMITED"  # shown to the user
