"""Clock correction (``sync.clock``): the device's estimate from round trips, the server's
from a push, and how a device time is moved onto the server's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.clock import CLOCK_FLAG, Clock, ClockEstimator

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def test_a_push_shows_how_far_the_device_clock_is_behind() -> None:
    clock = Clock.of_push(sent_at=T0 - timedelta(minutes=2), received_at=T0)
    assert clock.offset == timedelta(minutes=2) and not clock.flagged
    at, flagged = clock.correct(T0 - timedelta(minutes=12), now=T0)
    assert (at, flagged) == (T0 - timedelta(minutes=10), False)


def test_a_corrected_time_is_never_after_the_arrival_and_odd_clocks_are_flagged() -> None:
    ahead = Clock.of_push(sent_at=T0 + timedelta(hours=1), received_at=T0)
    assert ahead.flagged
    at, flagged = ahead.correct(T0 + timedelta(hours=1), now=T0)
    assert (at, flagged) == (T0, True)
    # a plausible offset, but an op stamped far in the future: kept at arrival, flagged
    at, flagged = Clock().correct(T0 + CLOCK_FLAG + timedelta(seconds=1), now=T0)
    assert (at, flagged) == (T0, True)


def test_the_device_judges_deadlines_on_the_servers_clock() -> None:
    assert Clock.of_seconds(90).server_now(T0) == T0 + timedelta(seconds=90)
    assert Clock.of_seconds(None).server_now(T0) == T0


def test_the_estimate_comes_from_the_fastest_recent_request() -> None:
    clock = ClockEstimator(keep=2)
    assert clock.offset_s is None
    clock.sample(T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=103))
    clock.sample(T0, T0 + timedelta(milliseconds=20), T0 + timedelta(seconds=60.01))
    assert clock.offset_s == pytest.approx(60.0)
    clock.sample(T0, T0 + timedelta(seconds=4), T0 + timedelta(seconds=32))  # keeps 2
    clock.sample(T0, T0 + timedelta(seconds=2), T0 + timedelta(seconds=31))
    assert clock.offset_s == pytest.approx(30.0)  # the fast old sample has aged out
