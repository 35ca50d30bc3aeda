"""Live delivery, server side: a pull with ``wait`` (a long poll) made by the phone's real
transport answers as soon as a change in the caller's scope commits, and keeps waiting
through changes outside it. A no-change pull answers with the same cursor."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sync.client.store import Key
from sync.protocol import PROTOCOL_VERSION
from tests.contract.conftest import Device, Office
from tests.factories import World


def _long_poll(dev: Device, cursor: str, wait: float) -> tuple[dict[str, Any], float]:
    """The transport's own request path (auth, refresh, error classes) with ``wait``."""
    t0 = time.monotonic()
    resp, _, _ = dev.transport._authed("GET", "/api/v1/sync/pull", params={
        "cursor": cursor, "limit": 1000, "protocol": PROTOCOL_VERSION, "wait": wait})
    return resp.json(), time.monotonic() - t0


def _in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_a_dispatch_reaches_a_waiting_pull_at_once(
        device: Callable[..., Device], office: Office, world: World) -> None:
    crew = device("crew1")
    crew.sync()
    cursor = crew.store.state(Key.CURSOR)
    assert cursor
    same, _ = _long_poll(crew, cursor, 0)
    assert same["changes"] == [] and same["next_cursor"] == cursor and not same["has_more"]

    thread, out = _in_background(lambda: _long_poll(crew, cursor, 20))
    time.sleep(1.0)  # the poll is waiting
    assert out == []
    # A job of the other station commits first: not in crew1's scope, the poll waits on.
    hidden = Office(str(office.http.base_url), world.user("dispatcher2").id)
    try:
        hidden.report(world.accounts["acc3"].id)
        time.sleep(0.7)
        assert out == [], "woke for a change outside the scope"
        order = office.report(world.accounts["acc1"].id)
        committed = time.monotonic()
        office.dispatch(order["id"], world.user("crew1").id)
        thread.join(10)
        answered = time.monotonic()
    finally:
        hidden.close()
    page, waited = out[0]
    assert waited > 1.5  # it did wait
    assert answered - committed < 2.0
    assert ("work_order", order["id"]) in {(c["entity"], c["id"]) for c in page["changes"]}
    assert page["next_cursor"] != cursor


def test_a_long_poll_with_nothing_in_scope_ends_empty_after_its_wait(
        device: Callable[..., Device], office: Office, world: World) -> None:
    crew = device("crew1")
    crew.sync()
    cursor = crew.store.state(Key.CURSOR)
    started = time.monotonic()
    thread, out = _in_background(lambda: _long_poll(crew, cursor, 3.0))
    time.sleep(0.3)
    office.report(world.accounts["acc1"].id)  # the station's, not dispatched to crew1
    reported = time.monotonic() - started
    thread.join(15)
    page, waited = out[0]
    # the report committed while the poll was still open (a slow host must not fake a pass)
    assert reported < waited, f"the report took {reported:.1f} s, past the poll's end"
    assert page["changes"] == [] and not page["has_more"]
    assert 2.9 < waited < 8
    # the cursor moved past the change it had no business with
    assert page["next_cursor"] != cursor
    again, _ = _long_poll(crew, page["next_cursor"], 0)
    assert again["changes"] == [] and again["next_cursor"] == page["next_cursor"]


def test_stop_does_not_wait_out_an_open_long_poll_and_its_late_page_is_dropped(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]) -> None:
    crew = device("crew1")
    crew.sync()
    crew.engine.start()
    deadline = time.monotonic() + 10
    while not crew.engine._healthy.is_set() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # the listener's long poll (25 s) is open now
    began = time.monotonic()
    assert crew.engine.stop(10)
    assert time.monotonic() - began < 3.0, "stop waited for the long poll"
    cursor = crew.store.state(Key.CURSOR)
    job = new_job("crew1")  # wakes the poll that was let go, if it is still waiting
    time.sleep(1.5)
    assert crew.store.state(Key.CURSOR) == cursor, "a page arrived after stop was applied"
    assert crew.read.job(job["id"]) is None
