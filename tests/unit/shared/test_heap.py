"""``shared.heap.settle``: what exists at start-up is out of the collector's sight."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from shared.heap import SERVER_YOUNG, settle


@pytest.fixture
def thawed() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_settling_keeps_what_exists_out_of_later_collections(thawed: None) -> None:
    kept = [_Node() for _ in range(100)]
    settle(young=SERVER_YOUNG)
    frozen = gc.get_freeze_count()
    assert frozen > 0
    assert not any(gc.is_tracked(x) and x in gc.get_objects() for x in kept[:3])
    made_later = _Node()
    assert any(x is made_later for x in gc.get_objects())  # the new work is collected
    assert gc.get_threshold() == SERVER_YOUNG  # a request's objects mostly die uncollected
    settle()
    assert gc.get_threshold() == SERVER_YOUNG  # a phone's settling leaves them as they are


def test_settling_first_drops_start_ups_garbage_unless_told_not_to(thawed: None) -> None:
    def nodes() -> list[_Node]:
        return [x for x in gc.get_objects() if isinstance(x, _Node)]

    _Node()  # garbage at once (a cycle)
    settle()
    gc.unfreeze()  # everything back in view
    assert not nodes()  # collected before the freeze
    _Node()
    settle(collect=False)  # the first screen must not wait for a collection
    gc.unfreeze()
    assert nodes()  # frozen with the rest
