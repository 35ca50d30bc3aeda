"""The faults injected into a simulated period, and their ground truth.

The truth is written to its own file (``truth.json``) that only the scorer
(``server.monitoring.scoring``) reads; the detector never sees it. Chosen deterministically
from the seed:

* theft (bypass): a large customer of a small area bypasses part of its meter from a day
  on — its recorded usage drops, the area's loss rises above its norm;
* stopped meter: reads zero from a day on while the home keeps using power;
* mis-mapped customer: registered on area A, really fed from area B of the same station —
  A's loss goes negative, B's rises;
* overloaded transformer: an area whose evening air-conditioning (or heating) block pushes
  the transformer above its rating on most evenings;
* communication outages: meters silent for hours (the head-end filling some gaps with
  estimates) and back-filled the next day; meters silent for days; a whole concentrator
  (an area, its master meter too) silent for three days, then back-filled.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from server.monitoring.simulator.county import County, SimMeter


@dataclass
class Outage:
    target: str  # a meter number, or an area code (its concentrator: all its meters)
    area: bool
    first_day: date
    first_slot: int
    last_day: date
    last_slot: int
    estimated: bool  # the head-end sends estimates for the gap
    backfill_on: date | None  # the delivery that brings the real data (None: never)

    def covers(self, day: date, slot: int) -> bool:
        return (self.first_day, self.first_slot) <= (day, slot) <= (self.last_day,
                                                                    self.last_slot)


@dataclass
class Truth:
    seed: int
    first_day: date
    last_day: date
    theft: list[dict[str, Any]] = field(default_factory=list)
    stopped: list[dict[str, Any]] = field(default_factory=list)
    mis_mapped: list[dict[str, Any]] = field(default_factory=list)
    overload: list[dict[str, Any]] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class FaultCounts:
    theft: int = 2
    stopped: int = 2
    mis_mapped: int = 1
    overload: int = 1
    short_outages: int = 6
    long_outages: int = 2
    concentrators: int = 1


def plan(county: County, days: list[date], counts: FaultCounts | None = None) -> Truth:
    """Choose the faults of the period (changes the county: thieves and mis-mapped
    customers are made large enough to show)."""
    counts = counts or FaultCounts()
    rng = random.Random(f"{county.seed}|faults")
    truth = Truth(county.seed, days[0], days[-1])
    n = len(days)
    used: set[str] = set()  # area codes already given a fault

    def start_day(lo: float, hi: float) -> date:
        return days[min(n - 1, int(n * lo) + rng.randrange(max(1, int(n * (hi - lo)))))]

    by_size = sorted(county.areas, key=lambda c: (county.expected_daily(c), c))
    small = [c for c in by_size if len(county.in_area(c)) >= 8]
    # mis-mapped first: it needs a pair of areas of one station
    for _ in range(counts.mis_mapped):
        pair = _mapping_pair(county, small, used)
        if pair is None:
            break
        a, b = pair
        cands = [m for m in county.in_area(a) if not m.vacant and m.removed_at is None]
        m = max(cands, key=lambda x: (x.daily_kwh, x.meter_no))
        others = county.expected_daily(a) - m.daily_kwh
        m.daily_kwh = round(max(m.daily_kwh, 0.16 * others), 3)
        m.physical_area = b
        used |= {a, b}
        truth.mis_mapped.append({"meter_no": m.meter_no, "registered_area": a,
                                 "actual_area": b, "daily_kwh": m.daily_kwh})
    for code in [c for c in small if c not in used][:counts.theft]:
        cands = [m for m in county.in_area(code) if not m.vacant and m.removed_at is None
                 and m.physical_area == m.area_code]
        m = max(cands, key=lambda x: (x.daily_kwh, x.meter_no))
        others = county.expected_daily(code) - m.daily_kwh
        bypass = round(rng.uniform(0.6, 0.85), 2)
        m.daily_kwh = round(max(m.daily_kwh, 0.24 * others / bypass), 3)
        used.add(code)
        truth.theft.append({"meter_no": m.meter_no, "area": code, "bypass": bypass,
                            "from_day": start_day(0.35, 0.55), "daily_kwh": m.daily_kwh})
    rest = [c for c in sorted(county.areas) if c not in used]
    rng.shuffle(rest)
    for _ in range(counts.overload if rest else 0):
        code = min(rest, key=lambda c: (county.areas[c].rated_kva, c))
        rest.remove(code)
        used.add(code)
        truth.overload.append({"area": code, "days": []})  # days filled in as simulated
    for _ in range(min(counts.concentrators, len(rest))):
        code = rest.pop()
        used.add(code)
        first = start_day(0.4, 0.6)
        last = first + timedelta(days=2)
        truth.outages.append(Outage(code, True, first, 0, last, 95, False,
                                    last + timedelta(days=1)))
    picked: set[str] = set()

    def pick_meter(exclude_areas: set[str]) -> SimMeter | None:
        """A meter of an area without other faults (any area when none is left)."""
        for excluded in (exclude_areas, set()):
            pool = [m for m in county.meters if m.area_code not in excluded
                    and m.meter_no not in picked and not m.vacant and m.removed_at is None
                    and m.daily_kwh >= 4 and m.residential]
            if pool:
                m = rng.choice(pool)
                picked.add(m.meter_no)
                return m
        return None

    for _ in range(counts.stopped):
        if (sm := pick_meter(used)) is not None:
            truth.stopped.append({"meter_no": sm.meter_no, "area": sm.area_code,
                                  "from_day": start_day(0.4, 0.65)})
    for i in range(counts.long_outages):
        if (sm := pick_meter(used)) is None:
            break
        first = start_day(0.3, 0.6)
        last = min(days[-1], first + timedelta(days=4))
        backfill = last + timedelta(days=1) if i % 2 == 0 else None
        truth.outages.append(Outage(sm.meter_no, False, first, 0, last, 95, False,
                                    backfill if backfill and backfill <= days[-1] else None))
    for i in range(counts.short_outages):
        if (sm := pick_meter(set())) is None:
            break
        d = days[rng.randrange(max(1, n - 1))]
        first_slot = rng.randrange(0, 80)
        length = rng.randrange(8, 41)
        truth.outages.append(Outage(sm.meter_no, False, d, first_slot, d,
                                    min(95, first_slot + length), i % 2 == 0,
                                    d + timedelta(days=1)))
    return truth


def _mapping_pair(county: County, small: list[str], used: set[str]) -> tuple[str, str] | None:
    """A small area A (negative loss is easy to show) and the smallest other area B of the
    same station."""
    for a in small:
        if a in used:
            continue
        station = county.areas[a].station_id
        others = [b for b in small if b != a and b not in used
                  and county.areas[b].station_id == station]
        if others:
            return a, others[0]
    return None
