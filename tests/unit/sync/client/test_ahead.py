"""``ahead.Chain``: values fetched one after another in a helper thread, taken in order;
a failure reaches the caller after the values before it; ``close`` stops the fetching."""

from __future__ import annotations

import threading
import time

import pytest

from sync.client.ahead import Chain


def pages(n: int) -> dict[int, dict[str, object]]:
    return {i: {"n": i, "next": i + 1 if i + 1 < n else None} for i in range(n)}


def test_values_come_in_order_each_fetched_once() -> None:
    book, asked = pages(6), []

    def fetch(i: object) -> dict[str, object]:
        asked.append(i)
        return book[int(i)]  # type: ignore[call-overload]

    chain = Chain(fetch, 0, lambda p: p["next"])
    got = [chain.next()["n"] for _ in range(6)]
    chain.close()
    assert got == list(range(6)) and asked == list(range(6))


def test_a_failure_comes_after_the_values_before_it() -> None:
    def fetch(i: object) -> dict[str, object]:
        if i == 2:
            raise ConnectionError("the signal went")
        return pages(5)[int(i)]  # type: ignore[call-overload]

    chain = Chain(fetch, 0, lambda p: p["next"])
    assert chain.next()["n"] == 0 and chain.next()["n"] == 1
    with pytest.raises(ConnectionError):
        chain.next()


def test_it_runs_two_ahead_at_most_and_close_stops_it() -> None:
    asked: list[object] = []
    lock = threading.Lock()

    def fetch(i: object) -> dict[str, object]:
        with lock:
            asked.append(i)
        return {"n": i, "next": int(i) + 1}  # type: ignore[call-overload]

    chain = Chain(fetch, 0, lambda p: p["next"])
    assert chain.next()["n"] == 0
    deadline = time.monotonic() + 10
    while len(asked) < 3 and time.monotonic() < deadline:  # the caller is busy meanwhile
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(asked) == 3  # 0 taken, 1 waiting, 2 fetched and waiting to be handed over
    chain.close()
    time.sleep(0.2)
    assert len(asked) == 3  # nothing more after close
    assert chain.next()["n"] == 1  # what was waiting can still be taken
