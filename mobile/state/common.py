"""Small helpers the screen states share: reading rows' times, the clock, async calls."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from shared.timeutil import utcnow

T = TypeVar("T")
#: What screens read the time from (tests pass a fixed one); not ``sync.clock.Clock``.
Now = Callable[[], datetime]


def parse_dt(value: Any) -> datetime | None:
    """A row's ISO-8601 timestamp as an aware datetime (naive values are UTC)."""
    if value is None or value == "":
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def default_clock() -> datetime:
    return utcnow()


#: Python in the browser (Pyodide) has one thread: work runs on the loop there, and its
#: network calls are short synchronous requests of the worker (``sync.client.transport_fetch``).
THREADS = sys.platform != "emscripten"


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Run blocking work (network, large files) away from the UI's event loop."""
    if not THREADS:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)
