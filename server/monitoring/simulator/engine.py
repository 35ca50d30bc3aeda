"""The AMI simulator: what the head-end delivers each day, deterministic by seed.

For every day of the period each installed customer meter gets 96 interval values from
its class's load shape (``profiles``), its own daily level and ±30 % noise per interval;
each area's master meter sees the energy of the meters really fed from it (a mis-mapped
customer counts where it is fed, not where it is registered), plus the area's line losses
(3-6 %) and the transformer's no-load loss. Faults (``faults``) change what meters record
and what the head-end delivers: a delivery is the day's rows (minus silent meters; the
head-end's estimates for some gaps) plus the back-filled real rows of earlier outages.

Rows are ``(meter_no, interval_start, energy_kwh, source)`` text tuples, exactly what the
CSV export holds, so they go through the import like a file.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from server.monitoring.simulator import profiles
from server.monitoring.simulator.county import County, SimArea, SimMeter
from server.monitoring.simulator.faults import Outage, Truth
from shared.monitoring.formulas import SLOTS_PER_DAY, load_rate, runs_above
from shared.timeutil import LOCAL_TZ

Row = tuple[str, str, str, str]
_BLOCK = [s for s, w in enumerate(profiles.EVENING_BLOCK) if w]


@dataclass
class Delivery:
    day: date
    rows: list[Row]


def _kwh(wh: int) -> str:
    return f"{wh // 1000}.{wh % 1000:03d}"


class Simulator:
    def __init__(self, county: County, truth: Truth) -> None:
        self.county = county
        self.truth = truth
        self.theft = {t["meter_no"]: t for t in truth.theft}
        self.stopped = {s["meter_no"]: s for s in truth.stopped}
        self.overload = {o["area"]: o for o in truth.overload}
        self.outages: dict[str, list[Outage]] = {}
        for o in truth.outages:
            self.outages.setdefault(o.target, []).append(o)
        self.backlog: dict[date, list[Row]] = {}

    # -- one day ---------------------------------------------------------------------------
    def deliver(self, day: date) -> Delivery:
        return Delivery(day, list(self.rows(day)))

    def rows(self, day: date) -> Iterator[Row]:
        """The day's delivery, meter by meter (lazily: a county of any size streams)."""
        start = datetime.combine(day, time(), tzinfo=LOCAL_TZ)
        stamps = [(start + timedelta(minutes=15 * s)).isoformat() for s in range(96)]
        times = [start + timedelta(minutes=15 * s) for s in range(96)]
        blocks = self._blocks(day)
        supply: dict[str, list[int]] = {c: [0] * SLOTS_PER_DAY for c in self.county.areas}
        for m in self.county.meters:
            slots = self._installed(m, times)
            if not slots:
                continue
            true = self._true(m, day, blocks.get(m.physical_area))
            recorded = self._recorded(m, day, true)
            acc = supply[m.physical_area]
            for s in slots:
                acc[s] += true[s]
            outs = self.outages.get(m.meter_no, []) + self.outages.get(m.physical_area, [])
            yield from self._emit(m.meter_no, slots, recorded, stamps, day, outs,
                                  expected=self._expected(m, day))
        for code, area in self.county.areas.items():
            wh = [int(v * (1 + area.tech_loss)) + area.iron_wh for v in supply[code]]
            self._note_overload(area, day, wh)
            yield from self._emit(area.master_no, list(range(96)), wh, stamps, day,
                                  self.outages.get(code, []), expected=wh)
        yield from self.backlog.pop(day, [])

    def _installed(self, m: SimMeter, times: list[datetime]) -> list[int]:
        if m.installed_at is None:
            return []
        if m.installed_at <= times[0] and (m.removed_at is None or m.removed_at > times[-1]):
            return list(range(96))
        return [s for s, t in enumerate(times) if m.installed_at <= t
                and (m.removed_at is None or t < m.removed_at)]

    def _true(self, m: SimMeter, day: date, block: list[int] | None) -> list[int]:
        if m.vacant:
            return [0] * SLOTS_PER_DAY
        rng = random.Random(f"{self.county.seed}|{m.meter_no}|{day}")
        base = m.daily_kwh * profiles.day_factor(day, residential=m.residential) * 1000
        out = [int(base * w * (0.7 + 0.6 * rng.random()))
               for w in profiles.shape(day, residential=m.residential)]
        if block is not None and m.residential:
            for s in _BLOCK:
                out[s] += int(block[s] * (0.8 + 0.4 * rng.random()))
        return out

    def _expected(self, m: SimMeter, day: date) -> list[int]:
        """What the head-end estimates for a gap: the class shape at the meter's level."""
        base = m.daily_kwh * profiles.day_factor(day, residential=m.residential) * 1000
        return [int(base * w) for w in profiles.shape(day, residential=m.residential)]

    def _recorded(self, m: SimMeter, day: date, true: list[int]) -> list[int]:
        theft = self.theft.get(m.meter_no)
        if theft is not None and day >= _d(theft["from_day"]):
            keep = 1 - theft["bypass"]
            return [int(v * keep) for v in true]
        stop = self.stopped.get(m.meter_no)
        if stop is not None and day >= _d(stop["from_day"]):
            return [0] * SLOTS_PER_DAY
        return true

    def _blocks(self, day: date) -> dict[str, list[int]]:
        """Per overloaded area, the Wh each home adds per slot of the evening block."""
        out = {}
        for code in self.overload:
            area = self.county.areas[code]
            homes = [m for m in self.county.in_area(code) if m.residential and not m.vacant]
            if not homes:
                continue
            hot = random.Random(f"{self.county.seed}|overload|{code}|{day}").random() < 0.7
            target = (1.22 if hot else 0.9) * area.rated_kva * area.power_factor * 250
            base = [0.0] * SLOTS_PER_DAY
            for m in self.county.in_area(code):
                if not m.vacant:
                    level = m.daily_kwh * profiles.day_factor(day, residential=m.residential)
                    for s, w in enumerate(profiles.shape(day, residential=m.residential)):
                        base[s] += level * w * 1000
            per_home = [0] * SLOTS_PER_DAY
            for s in _BLOCK:
                need = target / (1 + area.tech_loss) - base[s] - area.iron_wh
                per_home[s] = max(0, int(need / len(homes)))
            out[code] = per_home
        return out

    def _note_overload(self, area: SimArea, day: date, wh: list[int]) -> None:
        fault = self.overload.get(area.code)
        if fault is None:
            return
        rates = {s: load_rate(v, power_factor=area.power_factor, rated_kva=area.rated_kva)
                 for s, v in enumerate(wh)}
        if runs_above(rates, 1.0, strict=True, min_slots=8):
            fault["days"].append(day.isoformat())

    def _emit(self, meter_no: str, slots: list[int], values: list[int], stamps: list[str],
              day: date, outages: list[Outage], *, expected: list[int]) -> Iterator[Row]:
        if not outages:
            for s in slots:
                yield meter_no, stamps[s], _kwh(values[s]), "actual"
            return
        for s in slots:
            row = (meter_no, stamps[s], _kwh(values[s]), "actual")
            hit = next((o for o in outages if o.covers(day, s)), None)
            if hit is None:
                yield row
                continue
            if hit.estimated:
                yield meter_no, stamps[s], _kwh(expected[s]), "estimated"
            if hit.backfill_on is not None:
                self.backlog.setdefault(hit.backfill_on, []).append(row)


def _d(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def deliveries(county: County, truth: Truth, days: list[date]) -> Iterator[Delivery]:
    sim = Simulator(county, truth)
    for day in days:
        yield sim.deliver(day)
