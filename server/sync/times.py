"""When a synced op happened, as the server records it (issue 8, items 11 and 19).

Device clocks never decide order, but service-level times (accepted, arrived, resolved,
reported …) are the times things happened on the device, corrected onto the server's
clock. Two rules make those times honest:

* **One correction per device session** (item 11). The offset (server time minus device
  time) is measured at each push from its ``sent_at``, but a device keeps the offset of
  its session -- the pushes since its clock last jumped -- so two pushes never correct the
  ops of one job differently. A session ends when a push measures an offset more than
  ``SESSION_JUMP`` away from the session's (the device's clock was set), or after
  ``SESSION_IDLE`` without a push.
* **Bounds** (item 19). A corrected time is never after the server received the op and
  never before what must have come first (``job_floor``): the job's dispatch to the crew
  and the time it entered its current status (for the crew's ops, and anyone's status
  change), its report, the previous op of the same lane, and no more than
  ``MAX_OFFLINE`` before receipt. Within ``TOLERANCE`` of a bound the time is moved onto the bound
  (clock jitter); beyond it the op still applies -- the work was done -- but with the
  server's time of receipt, the latest time it can have happened, and it is flagged
  (``time_flagged``, with the device's claim) for the office. So a crew can never move its
  own arrival earlier than the job allows, and an implausible clock only ever costs time.

Plain functions of the values: the per-op and the set-wise push paths both call them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from shared.timeutil import as_utc
from shared.workorders.rules import STATUS_TIME
from sync.clock import CLOCK_FLAG, Clock

#: A corrected time this close past a bound is moved onto it without a flag.
TOLERANCE = CLOCK_FLAG
#: A push measuring an offset this far from its session's starts a new session.
SESSION_JUMP = timedelta(minutes=2)
#: A session ends after this long without a push.
SESSION_IDLE = timedelta(hours=12)
#: An op is not trusted to have happened longer than this before it arrived.
MAX_OFFLINE = timedelta(days=7)


class Flag:
    """Why an op's time was replaced by the server's time of receipt."""

    AFTER_RECEIPT = "after_receipt"  # later than the server received it
    BEFORE_JOB = "before_job"  # before the job's dispatch / current status / lane's last op
    TOO_OLD = "too_old"  # more than MAX_OFFLINE before receipt


@dataclass(frozen=True)
class Session:
    """A device's clock session: its offset and when it was last confirmed."""

    offset_s: float
    seen_at: datetime
    new: bool


def session_clock(*, stored_offset_s: float | None, stored_at: datetime | None,
                  sample: Clock, now: datetime) -> Session:
    """The offset to correct this push's ops with: the session's, unless the device's
    clock jumped or the session went idle (then this push's sample starts a new one)."""
    measured = sample.offset.total_seconds()
    if (stored_offset_s is None or stored_at is None
            or now - as_utc(stored_at) > SESSION_IDLE
            or abs(measured - stored_offset_s) > SESSION_JUMP.total_seconds()):
        return Session(measured, now, True)
    return Session(stored_offset_s, now, False)


class Timing(NamedTuple):
    """When an op is recorded (``bound``; one per pushed op: a ``NamedTuple``)."""

    at: datetime  # the time recorded (on the server's clock)
    flag: str | None  # why the device's time was not used (None: it was)
    device_at: datetime  # the device's own claim, as sent

    def record(self) -> dict[str, Any] | None:
        """What the op's record and the job's timeline keep of a flagged time."""
        if self.flag is None:
            return None
        return {"reason": self.flag, "device_time": self.device_at.isoformat(),
                "recorded": self.at.isoformat()}


def _entered_current_status(get: Any) -> datetime | None:
    status = get("status")
    column = STATUS_TIME.get(status) or ("accepted_at" if status == "en_route" else None)
    return get(column) if column else None


def job_floor(row: Any, *, actor_id: str, transition: bool) -> datetime | None:
    """The earliest time an op on this job can have happened. For the job's assignee:
    its dispatch to them (a reassignment dispatches again) and the time the job entered
    its current status, which their ops follow; for anyone else's status change the
    latter; otherwise its report. ``row``: the work order (attributes or a mapping)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name, None))
    reported = get("reported_at")
    if get("assignee_id") == actor_id:
        times: tuple[datetime | None, ...] = (reported, get("dispatched_at"),
                                              _entered_current_status(get))
    elif transition:
        times = (reported, _entered_current_status(get))
    else:
        times = (reported,)
    return _latest(times)


def _latest(times: Any) -> datetime | None:
    """The latest of ``times`` in UTC (None: none given). Once per pushed op, twice: a
    time already in UTC (as read and as validated) is not passed to ``as_utc``."""
    latest = None
    for t in times:
        if t is not None:
            if t.tzinfo is not UTC:
                t = as_utc(t)
            if latest is None or t > latest:
                latest = t
    return latest


@functools.lru_cache(maxsize=64)
def _receipt_bounds(received: datetime) -> tuple[datetime, datetime, datetime]:
    """A receipt time in UTC, the latest time an op received then may claim (within
    ``TOLERANCE``) and the earliest (``MAX_OFFLINE``): the same for every op of a push."""
    received = as_utc(received)
    return received, received + TOLERANCE, received - MAX_OFFLINE


def bound(device_at: datetime, *, clock: Clock, received: datetime,
          floors: list[datetime | None]) -> Timing:
    """The time to record for an op made at ``device_at`` (device clock)."""
    corrected = device_at + clock.offset
    if corrected.tzinfo is not UTC:
        corrected = as_utc(corrected)
    received, latest, earliest = _receipt_bounds(received)
    if corrected > latest:
        return Timing(received, Flag.AFTER_RECEIPT, device_at)
    if corrected < earliest:
        return Timing(received, Flag.TOO_OLD, device_at)
    at = min(corrected, received)
    floor = _latest(floors)
    if floor is not None and at < floor:
        if floor - at > TOLERANCE:
            return Timing(received, Flag.BEFORE_JOB, device_at)
        at = min(floor, received)
    return Timing(at, None, device_at)
