"""The process's heap after start-up: out of the cyclic garbage collector's sight.

A full collection walks every container object the collector tracks. After start-up that
is mostly what start-up made and keeps for the life of the process: modules, classes,
schemas, routes, mappers (~300,000 objects in the server, a similar heap in the app), so
each full collection took ~0.13 s. CPython runs one when enough new objects have survived
since the last, i.e. during a big push on the server and during a phone's first big
download: its first full download of 10,606 rows spent 0.31 s of CPU against 0.17 s once
the start-up objects were frozen (``bench/sync_bench.py``'s phone, 2026-12-04). Frozen
objects are never collected, so this runs once, after start-up, before any user's work.
"""

from __future__ import annotations

import gc


def settle(*, collect: bool = True) -> None:
    """Freeze what exists now (``gc.freeze``). ``collect``: first drop the garbage
    start-up left (a full collection: ~0.1 s; skipped where it would delay the first
    screen, leaving start-up's few garbage cycles frozen with the rest)."""
    if collect:
        gc.collect()
    gc.freeze()
