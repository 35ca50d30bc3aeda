"""Daily usage from register readings.

A meter's register only grows; usage is the difference between consecutive readings.
The rules, in order:

1. Per meter and local day, one *register* reading counts: actual before manual before
   estimated (an estimate is replaced as soon as a real reading of that day arrives).
   A swap's final reading (old meter) and start reading (new meter) always count too:
   the start reading is the new meter's baseline, so nothing before it is charged.
2. Per meter, the readings in time order; the usage between two consecutive readings
   is attributed to the local day of the later one. A meter's first reading is its
   baseline (nothing to compare with).
3. An account's usage of a day is the sum over its meters (old and new on a swap day).

Readings are assumed consistent (the import refuses a reading below an earlier
non-estimated one or above a later one); an estimate that overshot gives a negative
day when the real reading comes in, which the month's tier math handles exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from shared.enums import ReadingSource
from shared.timeutil import LOCAL_TZ

#: Of several register readings of one meter on one day, the lowest rank counts.
SOURCE_RANK = {ReadingSource.ACTUAL: 0, ReadingSource.MANUAL: 1, ReadingSource.ESTIMATED: 2}
SWAP_SOURCES = frozenset({ReadingSource.SWAP_FINAL, ReadingSource.SWAP_START})


@dataclass(frozen=True)
class Point:
    meter_id: str
    at: datetime
    value_centi: int
    source: ReadingSource

    @property
    def day(self) -> date:
        return self.at.astimezone(LOCAL_TZ).date()


def counted(points: Iterable[Point]) -> list[Point]:
    """The readings that count (rule 1), in time order per meter."""
    best: dict[tuple[str, date], Point] = {}
    kept: list[Point] = []
    for p in points:
        source = ReadingSource(p.source)
        if source in SWAP_SOURCES:
            kept.append(p)
            continue
        key = (p.meter_id, p.day)
        have = best.get(key)
        if have is None or SOURCE_RANK[source] < SOURCE_RANK[ReadingSource(have.source)] or (
                SOURCE_RANK[source] == SOURCE_RANK[ReadingSource(have.source)]
                and p.at > have.at):
            best[key] = p
    kept.extend(best.values())
    kept.sort(key=lambda p: (p.meter_id, p.at, p.source != ReadingSource.SWAP_START))
    return kept


@dataclass(frozen=True)
class DayUsage:
    usage_centi: int
    estimated: bool  # an estimate is one end of some of the day's usage


def daily_usage(points: Iterable[Point]) -> dict[date, DayUsage]:
    """Usage per local day over all meters (rules 2 and 3)."""
    out: dict[date, DayUsage] = {}
    previous: Point | None = None
    for p in counted(points):
        if previous is not None and previous.meter_id == p.meter_id:
            est = ReadingSource.ESTIMATED in (ReadingSource(p.source),
                                              ReadingSource(previous.source))
            have = out.get(p.day, DayUsage(0, False))
            out[p.day] = DayUsage(have.usage_centi + p.value_centi - previous.value_centi,
                                  have.estimated or est)
        previous = p
    return out
