"""The process's heap after start-up: out of the cyclic garbage collector's sight.

A full collection walks every container object the collector tracks. After start-up that
is mostly what start-up made and keeps for the life of the process: modules, classes,
schemas, routes, mappers (~300,000 objects in the server, a similar heap in the app), so
each full collection took ~0.13 s. CPython runs one when enough new objects have survived
since the last, i.e. during a big push on the server and during a phone's first big
download: its first full download of 10,606 rows spent 0.31 s of CPU against 0.17 s once
the start-up objects were frozen (``bench/sync_bench.py``'s phone, 2026-12-04). Frozen
objects are never collected, so this runs once, after start-up, before any user's work.

The server also has its young generations collected less often (``SERVER_YOUNG``): a push
chunk's or a pulled page's objects (a dict per row) live until the request ends and, at
CPython's default of a collection every 700 new objects, were walked two or three times
each before being freed by their reference counts anyway. At 50,000: a pushed note
688,148 -> 666,904 instructions, a server's fresh download of 10,606 rows 611 M -> 576 M
(callgrind, ``bench/profile_push.py --http --instructions``). Not the phone: its garbage
cycles then waited long enough to take its peak memory for a download of 100,005 rows
from 69 to 111 MB (``bench/sync_bench.py``), over the 100 MB a phone may use.
"""

from __future__ import annotations

import gc

#: The server's ``gc.set_threshold`` after start-up (CPython's default: 700, 10, 10).
SERVER_YOUNG = (50_000, 20, 20)


def settle(*, collect: bool = True, young: tuple[int, int, int] | None = None) -> None:
    """Freeze what exists now (``gc.freeze``). ``collect``: first drop the garbage
    start-up left (a full collection: ~0.1 s; skipped where it would delay the first
    screen, leaving start-up's few garbage cycles frozen with the rest). ``young``: the
    collector's thresholds from now on (the server's: ``SERVER_YOUNG``)."""
    if collect:
        gc.collect()
    gc.freeze()
    if young is not None:
        gc.set_threshold(*young)
