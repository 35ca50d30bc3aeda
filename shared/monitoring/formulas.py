"""The monitoring formulas of ``../shared/product.md``, as pure functions.

Energy is integer watt-hours (Wh) per 15-minute interval ("slot"); a local day
(UTC+8, no daylight saving) has 96 slots numbered 0..95 from midnight.

* collection success rate = meters read / meters due (a meter is *read* on a day when all
  96 of its intervals arrived as actual readings);
* transformer load rate = apparent power / rated kVA, apparent power = mean kW over the
  slot / power factor; heavy 80-100 %, overload > 100 %, each only when sustained (2 h);
* line-loss rate = (supply - sales) / supply.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

SLOTS_PER_DAY = 96
SLOT_MINUTES = 15
SLOT_HOURS = SLOT_MINUTES / 60


class LossFlag(StrEnum):
    NORMAL = "normal"
    NEGATIVE = "negative"  # supply below sales: mis-mapped customers, a faulty meter, skew
    HIGH = "high"  # above the norm: theft, missing or estimated readings
    LOW = "low"  # below the norm's lower bound but not negative (a norm above 0 %)
    NO_SUPPLY = "no_supply"  # the master meter sent nothing: no figure


class LoadFlag(StrEnum):
    NORMAL = "normal"
    HEAVY = "heavy"  # 80-100 % sustained
    OVERLOAD = "overload"  # > 100 % sustained
    NO_DATA = "no_data"


def collection_rate(read: int, due: int) -> float | None:
    """Meters read / meters due; None when no meter was due."""
    if due <= 0:
        return None
    return read / due


def collection_flagged(read: int, due: int, target: float) -> bool:
    """Below the target (e.g. 0.98)?"""
    rate = collection_rate(read, due)
    return rate is not None and rate < target


def loss_rate(supply_wh: int | None, sales_wh: int) -> float | None:
    """(supply - sales) / supply; None without supply (nothing to divide by)."""
    if supply_wh is None or supply_wh <= 0:
        return None
    return (supply_wh - sales_wh) / supply_wh


@dataclass(frozen=True)
class LossNorm:
    """The normal band of an area type's loss rate (fractions: 0.10 is 10 %), and how far
    a day may move from the area's own baseline before it is a jump."""

    low: float = 0.0
    high: float = 0.10
    jump: float = 0.05


@dataclass(frozen=True)
class LossVerdict:
    flag: LossFlag
    jump: bool  # moved more than ``norm.jump`` from the baseline
    reliable: bool  # False: estimated or missing readings make the figure doubtful


def classify_loss(rate: float | None, norm: LossNorm, *, baseline: float | None,
                  reliable: bool) -> LossVerdict:
    """Judge one area-day's loss rate against its norm and its own recent baseline."""
    if rate is None:
        return LossVerdict(LossFlag.NO_SUPPLY, False, False)
    if rate < 0:
        flag = LossFlag.NEGATIVE
    elif rate > norm.high:
        flag = LossFlag.HIGH
    elif rate < norm.low:
        flag = LossFlag.LOW
    else:
        flag = LossFlag.NORMAL
    jump = baseline is not None and abs(rate - baseline) > norm.jump
    return LossVerdict(flag, jump, reliable)


def reliable_day(*, supply_complete: bool, meters_due: int, meters_incomplete: int,
                 max_incomplete_share: float) -> bool:
    """A loss figure is reliable when the master meter's day is complete and actual, and at
    most ``max_incomplete_share`` of the customer meters are estimated or missing."""
    if not supply_complete:
        return False
    if meters_due <= 0:
        return True
    return meters_incomplete / meters_due <= max_incomplete_share


def load_rate(energy_wh: int, *, power_factor: float, rated_kva: float) -> float:
    """Load rate of one slot: mean kW (Wh in 15 min x 4 / 1000) / power factor / rated kVA."""
    if power_factor <= 0 or rated_kva <= 0:
        raise ValueError("power factor and rated kVA must be positive")
    kw = energy_wh / 1000 / SLOT_HOURS
    return kw / power_factor / rated_kva


@dataclass(frozen=True)
class Run:
    start: int  # first slot
    length: int  # slots

    @property
    def minutes(self) -> int:
        return self.length * SLOT_MINUTES


def runs_above(rates: dict[int, float], threshold: float, *, strict: bool,
               min_slots: int) -> list[Run]:
    """Runs of consecutive slots whose rate is >= ``threshold`` (> when ``strict``) lasting
    at least ``min_slots``; a missing slot breaks a run. This is the oracle of the SQL
    (gaps-and-islands) version in ``server.monitoring.load``."""
    out: list[Run] = []
    start: int | None = None
    prev: int | None = None
    for slot in sorted(rates):
        hit = rates[slot] > threshold if strict else rates[slot] >= threshold
        if hit and start is not None and prev == slot - 1:
            prev = slot
            continue
        if start is not None and prev is not None and prev - start + 1 >= min_slots:
            out.append(Run(start, prev - start + 1))
        start, prev = (slot, slot) if hit else (None, None)
    if start is not None and prev is not None and prev - start + 1 >= min_slots:
        out.append(Run(start, prev - start + 1))
    return out


def load_flag(*, heavy: list[Run], overload: list[Run], has_data: bool) -> LoadFlag:
    if not has_data:
        return LoadFlag.NO_DATA
    if overload:
        return LoadFlag.OVERLOAD
    if heavy:
        return LoadFlag.HEAVY
    return LoadFlag.NORMAL


# -- suspects ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SuspectScore:
    score: float
    own_drop: float  # 1 - recent / own baseline (0 when not lower or no baseline)
    below_neighbours: float  # 1 - recent / neighbours' median (0 when not lower)


def suspect_score(*, recent_kwh: float, baseline_kwh: float | None,
                  neighbour_median_kwh: float | None, area_trend: float = 1.0,
                  min_baseline_kwh: float = 1.0) -> SuspectScore:
    """How suspect a meter of a high-loss area is, 0..1.

    Weighted 0.7 on its usage drop against its own history (a bypass shows as a drop) and
    0.3 on how far below its neighbours' median it is (a meter that was always bypassed,
    or stopped, has no drop of its own). The drop is measured against the area's own
    trend (``area_trend``: the neighbours' median of recent / history, so the season or
    the weather moving everybody does not look like theft). Meters that never used much
    (a history below ``min_baseline_kwh`` a day: empty homes) score no drop.
    """
    drop = 0.0
    if baseline_kwh is not None and baseline_kwh >= min_baseline_kwh and area_trend > 0:
        drop = max(0.0, 1.0 - recent_kwh / baseline_kwh / area_trend)
    below = 0.0
    if neighbour_median_kwh is not None and neighbour_median_kwh > 0:
        below = max(0.0, 1.0 - recent_kwh / neighbour_median_kwh)
    return SuspectScore(round(0.7 * drop + 0.3 * below, 6), drop, below)


def stopped(*, recent_zero_days: int, window_days: int, baseline_kwh: float | None,
            neighbours_use: bool, min_baseline_kwh: float = 1.0) -> bool:
    """A stopped meter: read every day of the window and zero every day, although it used
    power before (not an empty home) and its neighbours use power now."""
    return (recent_zero_days >= window_days and neighbours_use
            and baseline_kwh is not None and baseline_kwh >= min_baseline_kwh)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Correlation of two equally long series; 0 when either is flat or too short."""
    if len(xs) != len(ys):
        raise ValueError("series of different lengths")
    if len(xs) < 3:
        return 0.0
    try:
        value = statistics.correlation(xs, ys)
    except statistics.StatisticsError:
        return 0.0
    return 0.0 if math.isnan(value) else value


@dataclass(frozen=True)
class MoveFit:
    """What moving one customer from area A (negative loss) to area B (high loss) would do."""

    loss_a_after: float
    loss_b_after: float
    improvement: float  # how much closer both areas come to the middle of their norms


def move_fit(*, supply_a: int, sales_a: int, supply_b: int, sales_b: int, meter_wh: int,
             norm_a: LossNorm, norm_b: LossNorm) -> MoveFit | None:
    """Loss rates of A and B if a meter's energy were billed to B instead of A."""
    before_a, before_b = loss_rate(supply_a, sales_a), loss_rate(supply_b, sales_b)
    after_a = loss_rate(supply_a, sales_a - meter_wh)
    after_b = loss_rate(supply_b, sales_b + meter_wh)
    if None in (before_a, before_b, after_a, after_b):
        return None
    assert before_a is not None and before_b is not None
    assert after_a is not None and after_b is not None
    mid_a, mid_b = (norm_a.low + norm_a.high) / 2, (norm_b.low + norm_b.high) / 2
    before = abs(before_a - mid_a) + abs(before_b - mid_b)
    after = abs(after_a - mid_a) + abs(after_b - mid_b)
    return MoveFit(after_a, after_b, before - after)
