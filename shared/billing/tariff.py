"""Tariffs as data, and the exact tier math.

Units (all integers, never floats):

* usage: centi-kWh (kWh x 100), as meter registers are stored (``kwh_to_centi``);
* prices: 1/10 000 yuan per kWh ("price units"): 0.588 yuan/kWh = 5880;
* money: fen.

**Exact cost.** centi-kWh x price units = 10^-6 yuan ("micro-yuan"; 100 micro-yuan =
0.01 fen). Costs are added up exactly in micro-yuan and rounded to fen *once*, on the
month-to-date total, half away from zero (四舍五入: 0.5 fen rounds up). The daily charge
is "month-to-date cost rounded, minus what this month already charged", so a month's
daily charges add up to the month's cost rounded once: never more than half a fen off,
and the error never accumulates from day to day.

**Tiers** (阶梯) are monthly: the cumulative usage of the calendar month (local time)
decides the price of each further kWh. Bounds depend on the month (seasons). A tariff
*version* applies from its ``effective_from`` day; within a month, each day's usage is
priced with the version in force that day, at its cumulative position in the month.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from shared.enums import CustomerType
from shared.numbers import NumberError, parse_decimal

PRICE_SCALE = 10_000  # price units per yuan
MICRO_PER_FEN = 10_000  # micro-yuan per fen: (centi-kWh x price unit) per fen
#: Sanity limits for tariff data (yuan per kWh; kWh per month).
PRICE_MAX = Decimal("10")
BOUND_MAX_KWH = 100_000
ALL_MONTHS = tuple(range(1, 13))


class TariffError(ValueError):
    """Tariff data that cannot be right (the message says why)."""


def parse_price(value: Any) -> int:
    """'0.588' -> 5880 price units. At most four decimals, 0 < price <= PRICE_MAX."""
    if isinstance(value, float):
        raise TariffError("prices must be strings or decimals, not floats")
    try:
        d = _decimal(value)
    except (NumberError, ValueError, TypeError) as exc:
        raise TariffError(f"not a price: {value!r}") from exc
    if not d.is_finite() or d <= 0 or d > PRICE_MAX:
        raise TariffError(f"price out of range (0, {PRICE_MAX}]: {value!r}")
    units = d * PRICE_SCALE
    if units != units.to_integral_value():
        raise TariffError(f"at most four decimals in a price: {value!r}")
    return int(units)


def price_text(units: int) -> str:
    return str((Decimal(units) / PRICE_SCALE).quantize(Decimal("0.0001")).normalize())


def _decimal(value: Any) -> Decimal:
    """Text through ``shared.numbers`` (full-width digits normalised, nothing else
    non-ASCII); integers and decimals as they are."""
    if isinstance(value, str):
        return parse_decimal(value, max_places=15)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"not a number: {value!r}")


def round_micro(micro: int) -> int:
    """Micro-yuan to fen, half away from zero."""
    q, r = divmod(abs(micro), MICRO_PER_FEN)
    if 2 * r >= MICRO_PER_FEN:
        q += 1
    return q if micro >= 0 else -q


@dataclass(frozen=True)
class TariffVersion:
    """One version of a tariff: tier prices and, per calendar month, the tier bounds.

    ``prices`` has one entry per tier (price units); ``bounds[month]`` the upper bounds of
    every tier but the last, in centi-kWh of monthly usage (empty for a flat tariff).
    """

    code: str
    customer_type: CustomerType
    effective_from: date
    prices: tuple[int, ...]
    bounds: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        if not self.prices:
            raise TariffError("a tariff needs at least one price")
        for month in ALL_MONTHS:
            b = self.bounds_for(month)
            if len(b) != len(self.prices) - 1:
                raise TariffError(f"month {month}: {len(self.prices)} prices need "
                                  f"{len(self.prices) - 1} bounds, got {len(b)}")
            if any(x <= 0 for x in b) or any(y <= x for x, y in itertools.pairwise(b)):
                raise TariffError(f"month {month}: bounds must be positive and increasing")

    @property
    def flat(self) -> bool:
        return len(self.prices) == 1

    def bounds_for(self, month: int) -> tuple[int, ...]:
        return tuple(self.bounds.get(month, ()))

    def cumulative_micro(self, month: int, position: int) -> int:
        """Exact cost (micro-yuan) of the first ``position`` centi-kWh of a month.

        Below zero (a month whose register went back, e.g. after an over-estimate) the
        first tier's price extends linearly, so costs stay additive.
        """
        if position <= 0:
            return position * self.prices[0]
        total, lower = 0, 0
        for price, upper in zip(self.prices, (*self.bounds_for(month), None), strict=True):
            top = position if upper is None else min(position, upper)
            if top > lower:
                total += (top - lower) * price
            if upper is None or position <= upper:
                break
            lower = upper
        return total

    def tier_at(self, month: int, position: int) -> int:
        """The tier (1-based) the next kWh at cumulative ``position`` is priced in."""
        tier = 1
        for upper in self.bounds_for(month):
            if position >= upper:
                tier += 1
        return tier

    # -- data form (JSON in the database, the API and the app) -----------------------
    def to_data(self) -> dict[str, Any]:
        seasons: dict[tuple[int, ...], list[int]] = {}
        for month in ALL_MONTHS:
            seasons.setdefault(self.bounds_for(month), []).append(month)
        return {
            "prices": [price_text(p) for p in self.prices],
            "seasons": [{"months": months, "bounds_kwh": [_kwh_text(b) for b in bounds]}
                        for bounds, months in seasons.items()],
        }

    @classmethod
    def from_data(cls, *, code: str, customer_type: CustomerType | str, effective_from: date,
                  data: Mapping[str, Any], name: str = "") -> TariffVersion:
        if not isinstance(data, Mapping):
            raise TariffError("tariff data must be an object")
        prices = data.get("prices")
        if not isinstance(prices, list) or not 1 <= len(prices) <= 6:
            raise TariffError("prices: a list of 1 to 6 prices")
        parsed = tuple(parse_price(p) for p in prices)
        seasons = data.get("seasons") or [{"months": list(ALL_MONTHS), "bounds_kwh": []}]
        if not isinstance(seasons, list):
            raise TariffError("seasons: a list")
        bounds: dict[int, tuple[int, ...]] = {}
        for season in seasons:
            if not isinstance(season, Mapping):
                raise TariffError("each season is an object")
            months, raw = season.get("months"), season.get("bounds_kwh", [])
            if not isinstance(months, list) or not isinstance(raw, list):
                raise TariffError("a season has months and bounds_kwh lists")
            b = tuple(_kwh_centi(x) for x in raw)
            for m in months:
                if not isinstance(m, int) or isinstance(m, bool) or m not in ALL_MONTHS:
                    raise TariffError(f"not a month: {m!r}")
                if m in bounds:
                    raise TariffError(f"month {m} appears in two seasons")
                bounds[m] = b
        missing = [m for m in ALL_MONTHS if m not in bounds]
        if missing:
            raise TariffError(f"months without tier bounds: {missing}")
        return cls(code=code, customer_type=CustomerType(customer_type),
                   effective_from=effective_from, prices=parsed, bounds=bounds, name=name)


def _kwh_centi(value: Any) -> int:
    if isinstance(value, float | bool):
        raise TariffError("tier bounds are whole kWh (integers or decimal strings)")
    try:
        d = _decimal(value)
    except (NumberError, ValueError, TypeError) as exc:
        raise TariffError(f"not a kWh bound: {value!r}") from exc
    centi = d * 100
    if not d.is_finite() or centi != centi.to_integral_value() or not 0 < d <= BOUND_MAX_KWH:
        raise TariffError(f"tier bound out of range: {value!r}")
    return int(centi)


def _kwh_text(centi: int) -> int | str:
    return centi // 100 if centi % 100 == 0 else str(Decimal(centi) / 100)


# -- the defaults (data, in the style of Hunan) ------------------------------------------
SPRING_AUTUMN = [3, 4, 5, 9, 10, 11]
SUMMER_WINTER = [1, 2, 6, 7, 8, 12]
DEFAULT_RESIDENTIAL_DATA: dict[str, Any] = {
    "prices": ["0.588", "0.638", "0.888"],
    "seasons": [{"months": SPRING_AUTUMN, "bounds_kwh": [180, 350]},
                {"months": SUMMER_WINTER, "bounds_kwh": [200, 450]}],
}
#: A flat price for non-residential supply (general commerce), a placeholder to configure.
DEFAULT_NON_RESIDENTIAL_DATA: dict[str, Any] = {
    "prices": ["0.6905"],
    "seasons": [{"months": list(ALL_MONTHS), "bounds_kwh": []}],
}
DEFAULT_EFFECTIVE_FROM = date(2020, 1, 1)


def default_versions() -> list[TariffVersion]:
    return [
        TariffVersion.from_data(code="HN-RES-TIERED", customer_type=CustomerType.RESIDENTIAL,
                                effective_from=DEFAULT_EFFECTIVE_FROM,
                                data=DEFAULT_RESIDENTIAL_DATA,
                                name="居民阶梯电价 Residential tiered"),
        TariffVersion.from_data(code="HN-NONRES-FLAT",
                                customer_type=CustomerType.NON_RESIDENTIAL,
                                effective_from=DEFAULT_EFFECTIVE_FROM,
                                data=DEFAULT_NON_RESIDENTIAL_DATA,
                                name="一般工商业 Non-residential flat"),
    ]


class Schedule:
    """The versions of one customer type's tariff, by effective date."""

    def __init__(self, versions: Iterable[TariffVersion]) -> None:
        self.versions = sorted(versions, key=lambda v: v.effective_from)
        if not self.versions:
            raise TariffError("no tariff version")
        days = [v.effective_from for v in self.versions]
        if len(set(days)) != len(days):
            raise TariffError("two versions take effect on the same day")

    def on(self, day: date) -> TariffVersion:
        """The version in force on ``day`` (the earliest one for days before all)."""
        current = self.versions[0]
        for v in self.versions:
            if v.effective_from <= day:
                current = v
            else:
                break
        return current


# -- rating a month ----------------------------------------------------------------------
@dataclass(frozen=True)
class DayRating:
    """One day of a month, rated: the day's usage, the month so far, and its cost."""

    day: date
    usage_centi: int
    mtd_usage_centi: int
    mtd_cost_micro: int
    mtd_cost_fen: int  # month-to-date cost, rounded once
    day_cost_fen: int  # mtd_cost_fen minus the previous day's
    tier: int  # tier of the last kWh used by the end of the day
    tariff_code: str


def month_days(first: date, through: date) -> list[date]:
    assert first.day == 1 and through.year == first.year and through.month == first.month
    return [first.replace(day=d) for d in range(1, through.day + 1)]


def rate_month(usage: Mapping[date, int], schedule: Schedule, *, through: date
               ) -> list[DayRating]:
    """Rate every day of ``through``'s month up to ``through`` from daily usage
    (centi-kWh; missing days used nothing)."""
    first = through.replace(day=1)
    out: list[DayRating] = []
    position, micro, prev_fen = 0, 0, 0
    for day in month_days(first, through):
        used = int(usage.get(day, 0))
        version = schedule.on(day)
        micro += (version.cumulative_micro(day.month, position + used)
                  - version.cumulative_micro(day.month, position))
        position += used
        fen = round_micro(micro)
        out.append(DayRating(day, used, position, micro, fen, fen - prev_fen,
                             version.tier_at(day.month, max(position - 1, 0)), version.code))
        prev_fen = fen
    return out


def month_cost_fen(usage_centi: int, version: TariffVersion, month: int) -> int:
    """The rounded cost of a whole month's usage under one version."""
    return round_micro(version.cumulative_micro(month, usage_centi))


def tier_breakdown(usage_centi: int, version: TariffVersion, month: int
                   ) -> list[tuple[int, int, int]]:
    """[(tier, centi-kWh in that tier, price units)] of a month's usage."""
    out, lower = [], 0
    for i, (price, upper) in enumerate(zip(version.prices, (*version.bounds_for(month), None),
                                           strict=True), start=1):
        top = usage_centi if upper is None else min(usage_centi, upper)
        if top > lower:
            out.append((i, top - lower, price))
        if upper is None or usage_centi <= upper:
            break
        lower = upper
    return out


def flatten(versions: Sequence[TariffVersion], customer_type: CustomerType) -> Schedule:
    return Schedule(v for v in versions if v.customer_type == customer_type)
