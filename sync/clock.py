"""Clock correction: how device times are moved onto the server's clock, in one place.

Device clocks never decide order, but service-level times (arrived, resolved …) are the
times things happened on the device. Both sides estimate the device clock's offset
(server time minus device time) and correct with it:

* the device, from each request's round trip (``ClockEstimator``: the sample with the
  shortest round trip among the recent ones), to judge deadlines against the server's
  clock while offline (``Clock.server_now``);
* the server, from a push's ``sent_at`` against its own time at receipt
  (``Clock.of_push``), to correct each op's device time (``Clock.correct``): never later
  than the arrival, and flagged when the offset or the result is implausible.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.timeutil import utcnow

#: Offsets (and corrected times ahead of the server) beyond this are flagged.
CLOCK_FLAG = timedelta(minutes=5)


@dataclass(frozen=True)
class Clock:
    """A device clock's offset: server time minus device time."""

    offset: timedelta = timedelta(0)

    @classmethod
    def of_push(cls, sent_at: datetime, received_at: datetime) -> Clock:
        """The offset a push shows: the server's time at receipt minus the device's
        ``sent_at`` (the transfer time counts against the device: at most seconds)."""
        return cls(received_at - sent_at)

    @classmethod
    def of_seconds(cls, seconds: float | None) -> Clock:
        return cls(timedelta(seconds=seconds or 0.0))

    @property
    def flagged(self) -> bool:
        return abs(self.offset) > CLOCK_FLAG

    def correct(self, device_time: datetime, now: datetime) -> tuple[datetime, bool]:
        """Device time moved onto the server's clock (never after ``now``), and whether it
        is implausible."""
        at = device_time + self.offset
        return min(at, now), self.flagged or at > now + CLOCK_FLAG

    def server_now(self, device_now: datetime | None = None) -> datetime:
        """The server's time now, as the device can tell it."""
        return (device_now or utcnow()) + self.offset


class ClockEstimator:
    """The device side: the offset from recent request samples (thread-safe)."""

    def __init__(self, keep: int = 8) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)
        self._lock = threading.Lock()

    def sample(self, sent: datetime, received: datetime, server_time: datetime) -> None:
        """One request: sent and answered at these device times, the server's time in
        its answer (taken at the midpoint; a naive time is read as UTC)."""
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=UTC)
        rtt = (received - sent).total_seconds()
        midpoint = sent + (received - sent) / 2
        with self._lock:
            self._samples.append((max(rtt, 0.0), (server_time - midpoint).total_seconds()))

    @property
    def offset_s(self) -> float | None:
        with self._lock:
            if not self._samples:
                return None
            return min(self._samples)[1]
