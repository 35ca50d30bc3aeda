"""A download with pages on their way while the phone writes (``Puller`` with ``Chain``),
against the real server: the server is asked for page n+2 while page n is written, the
result equals a download one page at a time, and a page that fails keeps what was written
before it, the next pull going on from there."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from sync.client.errors import TransientError
from sync.client.store import Key
from tests.contract.conftest import Device
from tests.contract.test_sync_pull import snapshot


def one_page_at_a_time(device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]
                       ) -> Device:
    """Four jobs for crew1, and a phone that downloaded them a page (of three) at a time."""
    for _ in range(4):
        new_job("crew1")
    plain = device("crew1", pull_limit=3)
    plain.engine.puller.prefetch = False
    plain.sync()
    return plain


def test_the_server_works_on_page_three_while_page_one_is_written(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]) -> None:
    plain = one_page_at_a_time(device, new_job)

    phone = device("crew1", pull_limit=3)
    puller = phone.engine.puller
    asked: list[str | None] = []
    third = threading.Event()
    fetch = phone.transport.pull

    def counted(cursor: str | None, limit: int, **kw: Any) -> dict[str, Any]:
        asked.append(cursor)
        if len(asked) >= 3:
            third.set()
        return fetch(cursor, limit, **kw)

    phone.transport.pull = counted  # type: ignore[method-assign]
    apply = puller._apply
    seen_while_first: list[int] = []

    def slow_first(page: dict[str, Any], cursor: str | None, *a: Any) -> bool:
        if cursor is None:  # page 1: written only once page 3 has been asked for
            third.wait(10)
            seen_while_first.append(len(asked))
        return apply(page, cursor, *a)

    puller._apply = slow_first  # type: ignore[method-assign]
    report = puller.run()
    assert report.pages > 3
    assert seen_while_first == [3]  # pages 2 and 3 asked for before page 1 was written
    assert asked[0] is None and len(asked) == report.pages  # each page asked for once
    assert snapshot(phone) == snapshot(plain)


def test_a_page_that_fails_keeps_the_pages_before_it_and_the_next_pull_resumes(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]) -> None:
    plain = one_page_at_a_time(device, new_job)

    phone = device("crew1", pull_limit=3)
    fetch = phone.transport.pull
    calls = [0]

    def flaky(cursor: str | None, limit: int, **kw: Any) -> dict[str, Any]:
        calls[0] += 1
        if calls[0] == 3:
            raise TransientError("the signal went", code="NETWORK")
        return fetch(cursor, limit, **kw)

    phone.transport.pull = flaky  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        phone.engine.puller.run()
    with phone.store.read() as conn:
        written = phone.store.get(conn, Key.CURSOR)
    assert written is not None  # pages 1 and 2 are kept, with the cursor after page 2
    assert snapshot(phone) and snapshot(phone) != snapshot(plain)

    phone.transport.pull = fetch  # type: ignore[method-assign]
    again = phone.engine.puller.run()
    assert again.resets == 0 and again.pages >= 1
    assert snapshot(phone) == snapshot(plain)
