"""Tariff math: exact integer tier costs, rounding once per month-to-date, versions, data."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.billing.tariff import (
    DEFAULT_RESIDENTIAL_DATA,
    Schedule,
    TariffError,
    TariffVersion,
    default_versions,
    month_cost_fen,
    parse_price,
    rate_month,
    round_micro,
    tier_breakdown,
)
from shared.enums import CustomerType

FAST = settings(database=None, max_examples=300, deadline=None)
RES, NONRES = default_versions()


def kwh(x: str) -> int:
    return int(Decimal(x) * 100)


# -- an independent reference: Decimal yuan, tier by tier ----------------------------------
def reference_cost_yuan(usage_kwh: Decimal, month: int) -> Decimal:
    """The published rule, written plainly: each kWh at its tier's price."""
    prices = [Decimal(p) for p in DEFAULT_RESIDENTIAL_DATA["prices"]]
    bounds = [Decimal(180), Decimal(350)] if month in (3, 4, 5, 9, 10, 11) else [
        Decimal(200), Decimal(450)]
    cost, lower = Decimal(0), Decimal(0)
    for price, upper in zip(prices, [*bounds, None], strict=True):
        top = usage_kwh if upper is None else min(usage_kwh, upper)
        if top > lower:
            cost += (top - lower) * price
        if upper is None or usage_kwh <= upper:
            break
        lower = upper
    return cost


def to_fen(yuan: Decimal) -> int:
    return int((yuan * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.mark.parametrize(("usage", "month", "fen"), [
    ("0", 4, 0),
    ("100", 4, 5880),  # 100 x 0.588
    ("180", 4, 10584),  # the whole first tier in spring
    ("200", 4, 11860),  # 180 x 0.588 + 20 x 0.638
    ("350", 10, 10584 + 170 * 638 // 10),  # first two tiers, autumn
    ("400", 7, 24520),  # summer: 200 x 0.588 + 200 x 0.638
    ("500", 7, 32150),  # 200 x 0.588 + 250 x 0.638 + 50 x 0.888
    ("500", 4, 10584 + 10846 + 13320),  # spring: 180 / 170 / 150
    ("0.01", 1, 1),  # 0.588 fen rounds up to 1
    ("12.34", 12, 726),  # 12.34 x 0.588 = 7.25592 yuan
])
def test_known_costs(usage: str, month: int, fen: int) -> None:
    assert month_cost_fen(kwh(usage), RES, month) == fen
    assert to_fen(reference_cost_yuan(Decimal(usage), month)) == fen


def test_seasons_change_the_bounds_not_the_prices() -> None:
    # 190 kWh: all tier 1 in summer, 10 kWh of tier 2 in spring
    assert tier_breakdown(kwh("190"), RES, 7) == [(1, kwh("190"), 5880)]
    assert tier_breakdown(kwh("190"), RES, 4) == [(1, kwh("180"), 5880), (2, kwh("10"), 6380)]
    assert RES.tier_at(4, kwh("180")) == 2 and RES.tier_at(4, kwh("179.99")) == 1
    assert RES.tier_at(7, kwh("450")) == 3


def test_non_residential_is_flat() -> None:
    assert NONRES.flat and NONRES.customer_type == CustomerType.NON_RESIDENTIAL
    assert month_cost_fen(kwh("1000"), NONRES, 7) == 69050
    assert NONRES.tier_at(7, kwh("99999")) == 1


@pytest.mark.parametrize(("micro", "fen"), [
    (0, 0), (4999, 0), (5000, 1), (5001, 1), (9999, 1), (10_000, 1), (14_999, 1), (15_000, 2),
    (-4999, 0), (-5000, -1), (-15_000, -2),
])
def test_rounding_is_half_away_from_zero(micro: int, fen: int) -> None:
    assert round_micro(micro) == fen


@pytest.mark.parametrize(("text", "units"), [("0.588", 5880), ("1", 10000), ("0.0001", 1),
                                             ("0.88800", 8880)])
def test_prices_parse_exactly(text: str, units: int) -> None:
    assert parse_price(text) == units


@pytest.mark.parametrize("bad", [0.588, "0", "-0.5", "0.00001", "abc", "11", "NaN", "Infinity"])
def test_bad_prices_are_refused(bad: object) -> None:
    with pytest.raises(TariffError):
        parse_price(bad)


@pytest.mark.parametrize("data", [
    {"prices": ["0.5", "0.6"], "seasons": [{"months": list(range(1, 13)), "bounds_kwh": []}]},
    {"prices": ["0.5", "0.6"], "seasons": [{"months": list(range(1, 12)), "bounds_kwh": [100]}]},
    {"prices": ["0.5", "0.6"], "seasons": [{"months": list(range(1, 13)), "bounds_kwh": [100]},
                                           {"months": [1], "bounds_kwh": [50]}]},
    {"prices": ["0.5", "0.6", "0.7"],
     "seasons": [{"months": list(range(1, 13)), "bounds_kwh": [300, 200]}]},
    {"prices": ["0.5", "0.6"], "seasons": [{"months": list(range(1, 13)), "bounds_kwh": [1.5]}]},
    {"prices": ["0.5", "0.6"], "seasons": [{"months": [0, *range(1, 13)], "bounds_kwh": [5]}]},
    {"prices": []},
    {"prices": "0.5"},
    {"prices": ["0.5"], "seasons": "all"},
])
def test_bad_tariff_data_is_refused(data: dict) -> None:
    with pytest.raises(TariffError):
        TariffVersion.from_data(code="X", customer_type="residential",
                                effective_from=date(2026, 1, 1), data=data)


def test_data_round_trips() -> None:
    again = TariffVersion.from_data(code=RES.code, customer_type=RES.customer_type,
                                    effective_from=RES.effective_from, data=RES.to_data(),
                                    name=RES.name)
    assert again == RES
    assert RES.to_data()["prices"] == ["0.588", "0.638", "0.888"]


# -- rating a month ------------------------------------------------------------------------
usages = st.lists(st.integers(min_value=0, max_value=4000), min_size=1, max_size=31)
months = st.integers(min_value=1, max_value=12)


@FAST
@given(usages, months)
def test_month_to_date_costs_follow_the_tariff_exactly(daily: list[int], month: int) -> None:
    first = date(2026, month, 1)
    days = min(len(daily), 28)
    usage = {first + timedelta(days=i): u for i, u in enumerate(daily[:days])}
    ratings = rate_month(usage, Schedule([RES]), through=first + timedelta(days=days - 1))
    cum = 0
    for r in ratings:
        cum += usage[r.day]
        assert r.mtd_usage_centi == cum
        assert r.mtd_cost_fen == to_fen(reference_cost_yuan(Decimal(cum) / 100, month))
    # the daily charges add up to the month's cost rounded once: no drift, ever
    assert sum(r.day_cost_fen for r in ratings) == ratings[-1].mtd_cost_fen
    assert all(r.day_cost_fen >= 0 for r in ratings)


@FAST
@given(usages, months, st.integers(min_value=0, max_value=30))
def test_rerating_a_late_day_is_the_difference(daily: list[int], month: int, late: int) -> None:
    """Rating with a day missing, then with it: the second total minus the first is
    exactly what the late reading adds; nothing is charged twice."""
    first = date(2026, month, 1)
    usage = {first + timedelta(days=i): u for i, u in enumerate(daily[:28])}
    through = first + timedelta(days=len(usage) - 1)
    missing = dict(usage)
    missing.pop(first + timedelta(days=late % len(usage)))
    before = rate_month(missing, Schedule([RES]), through=through)[-1].mtd_cost_fen
    after = rate_month(usage, Schedule([RES]), through=through)[-1].mtd_cost_fen
    total = sum(usage.values())
    assert after == to_fen(reference_cost_yuan(Decimal(total) / 100, month))
    assert after - before >= 0


def test_a_version_change_mid_month_prices_each_day_at_its_place() -> None:
    cheaper = TariffVersion.from_data(code="NEW", customer_type="residential",
                                      effective_from=date(2026, 7, 16),
                                      data={"prices": ["0.5", "0.6", "0.7"],
                                            "seasons": DEFAULT_RESIDENTIAL_DATA["seasons"]})
    schedule = Schedule([RES, cheaper])
    assert schedule.on(date(2026, 7, 15)) is RES and schedule.on(date(2026, 7, 16)) is cheaper
    assert schedule.on(date(2019, 1, 1)) is RES  # before all: the earliest
    usage = {date(2026, 7, 15): kwh("150"), date(2026, 7, 16): kwh("100")}
    last = rate_month(usage, schedule, through=date(2026, 7, 16))[-1]
    # 150 @ 0.588 (old), then 50 @ 0.5 (new, tier 1 up to 200) and 50 @ 0.6 (new, tier 2)
    assert last.mtd_cost_fen == 8820 + 2500 + 3000
    assert last.tariff_code == "NEW" and last.tier == 2
    with pytest.raises(TariffError):
        Schedule([RES, RES])


def test_negative_days_undo_exactly() -> None:
    """An estimate that overshot and was corrected gives a negative day; the tier math
    stays additive (the month to date is what counts)."""
    usage = {date(2026, 4, 1): kwh("200"), date(2026, 4, 2): kwh("-30")}
    last = rate_month(usage, Schedule([RES]), through=date(2026, 4, 2))[-1]
    assert last.mtd_cost_fen == month_cost_fen(kwh("170"), RES, 4)
