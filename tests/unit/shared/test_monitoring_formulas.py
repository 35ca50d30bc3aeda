"""The monitoring formulas (shared/monitoring/formulas.py) on hand-computed values, the
finding rules the phone and the server share, and the simulator's load shapes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from server.monitoring.simulator import profiles
from shared.errors import DomainError
from shared.monitoring.findings import FindingOutcome, validate_finding
from shared.monitoring.formulas import (
    LoadFlag,
    LossFlag,
    LossNorm,
    Run,
    classify_loss,
    collection_flagged,
    collection_rate,
    load_flag,
    load_rate,
    loss_rate,
    move_fit,
    pearson,
    reliable_day,
    runs_above,
    stopped,
    suspect_score,
)

SHA = "0f" * 32


def test_collection_rate_and_target():
    assert collection_rate(49, 50) == 0.98
    assert collection_rate(0, 0) is None
    assert not collection_flagged(49, 50, 0.98)
    assert collection_flagged(48, 50, 0.98)
    assert not collection_flagged(0, 0, 0.98)  # nothing due: nothing to flag


def test_loss_rate():
    assert loss_rate(1000, 900) == pytest.approx(0.1)
    assert loss_rate(1000, 1050) == pytest.approx(-0.05)
    assert loss_rate(0, 10) is None and loss_rate(None, 10) is None


@pytest.mark.parametrize(("rate", "baseline", "flag", "jump"), [
    (0.05, 0.04, LossFlag.NORMAL, False),
    (0.10, None, LossFlag.NORMAL, False),  # the band's edges are inside it
    (0.1001, None, LossFlag.HIGH, False),
    (-0.01, 0.05, LossFlag.NEGATIVE, True),
    (0.16, 0.04, LossFlag.HIGH, True),
    (0.09, 0.03, LossFlag.NORMAL, True),  # in the band but 6 points off its own baseline
    (None, 0.05, LossFlag.NO_SUPPLY, False),
])
def test_classify_loss(rate, baseline, flag, jump):
    verdict = classify_loss(rate, LossNorm(0.0, 0.10, 0.05), baseline=baseline, reliable=True)
    assert (verdict.flag, verdict.jump) == (flag, jump)


def test_a_norm_with_a_floor_flags_low():
    assert classify_loss(0.01, LossNorm(0.02, 0.08, 0.05), baseline=None,
                         reliable=True).flag == LossFlag.LOW


def test_reliable_day():
    assert reliable_day(supply_complete=True, meters_due=100, meters_incomplete=2,
                        max_incomplete_share=0.02)
    assert not reliable_day(supply_complete=True, meters_due=100, meters_incomplete=3,
                            max_incomplete_share=0.02)
    assert not reliable_day(supply_complete=False, meters_due=100, meters_incomplete=0,
                            max_incomplete_share=0.02)


def test_load_rate_by_hand():
    # 22.5 kWh in 15 minutes = 90 kW; / 0.9 = 100 kVA on a 100 kVA transformer
    assert load_rate(22_500, power_factor=0.9, rated_kva=100) == pytest.approx(1.0)
    assert load_rate(18_000, power_factor=0.9, rated_kva=100) == pytest.approx(0.8)
    with pytest.raises(ValueError):
        load_rate(1, power_factor=0, rated_kva=100)


def test_runs_need_the_sustained_time_and_break_at_a_gap():
    rates = {s: 0.5 for s in range(96)}
    rates.update({s: 1.05 for s in range(76, 84)})  # 2 h over 100 %
    rates.update({s: 0.85 for s in range(70, 76)})  # heavy before it
    assert runs_above(rates, 1.0, strict=True, min_slots=8) == [Run(76, 8)]
    assert runs_above(rates, 0.8, strict=False, min_slots=8) == [Run(70, 14)]
    assert Run(70, 14).minutes == 210
    del rates[80]  # a missing interval: two runs of 4 and 3, neither sustained
    assert runs_above(rates, 1.0, strict=True, min_slots=8) == []
    exactly = {s: 1.0 for s in range(10)}
    assert runs_above(exactly, 1.0, strict=True, min_slots=8) == []  # overload is > 100 %
    assert runs_above(exactly, 1.0, strict=False, min_slots=8) == [Run(0, 10)]
    assert runs_above({95: 1.2, **{s: 1.2 for s in range(88, 95)}}, 1.0, strict=True,
                      min_slots=8) == [Run(88, 8)]  # a run to the day's end counts


def test_runs_match_a_brute_force_reading():
    rng = random.Random(3)
    for _ in range(200):
        rates = {s: rng.choice([0.5, 0.85, 1.1]) for s in range(96) if rng.random() < 0.95}
        runs = runs_above(rates, 0.8, strict=False, min_slots=8)
        covered = {s for r in runs for s in range(r.start, r.start + r.length)}
        for s in range(96):
            hot = [t for t in range(max(0, s - 7), min(96, s + 8)) if rates.get(t, 0) >= 0.8]
            if s in covered:
                assert rates[s] >= 0.8
            elif rates.get(s, 0) >= 0.8:
                # not covered: its run is shorter than 8 slots
                lo = s
                while lo - 1 in rates and rates[lo - 1] >= 0.8:
                    lo -= 1
                hi = s
                while hi + 1 in rates and rates[hi + 1] >= 0.8:
                    hi += 1
                assert hi - lo + 1 < 8, (s, hot)


def test_load_flag():
    assert load_flag(heavy=[], overload=[], has_data=False) == LoadFlag.NO_DATA
    assert load_flag(heavy=[Run(0, 8)], overload=[Run(0, 8)], has_data=True) == \
        LoadFlag.OVERLOAD
    assert load_flag(heavy=[Run(0, 8)], overload=[], has_data=True) == LoadFlag.HEAVY
    assert load_flag(heavy=[], overload=[], has_data=True) == LoadFlag.NORMAL


def test_suspect_score_by_hand():
    s = suspect_score(recent_kwh=3, baseline_kwh=10, neighbour_median_kwh=6)
    assert (s.own_drop, s.below_neighbours) == (pytest.approx(0.7), pytest.approx(0.5))
    assert s.score == pytest.approx(0.7 * 0.7 + 0.3 * 0.5)
    # everybody's usage fell by a fifth (the weather): a meter that fell as much is not odd
    assert suspect_score(recent_kwh=8, baseline_kwh=10, neighbour_median_kwh=8,
                         area_trend=0.8).score == 0
    # an empty home has no drop to speak of
    assert suspect_score(recent_kwh=0, baseline_kwh=0.2, neighbour_median_kwh=None).score == 0


def test_stopped_needs_history_and_neighbours():
    assert stopped(recent_zero_days=3, window_days=3, baseline_kwh=6, neighbours_use=True)
    assert not stopped(recent_zero_days=2, window_days=3, baseline_kwh=6, neighbours_use=True)
    assert not stopped(recent_zero_days=3, window_days=3, baseline_kwh=0.3,
                       neighbours_use=True)  # an empty home
    assert not stopped(recent_zero_days=3, window_days=3, baseline_kwh=6,
                       neighbours_use=False)  # the whole area is off


def test_pearson_and_move_fit():
    assert pearson([1, 2, 3, 4], [2, 4, 6, 8]) == pytest.approx(1.0)
    assert pearson([1, 1, 1], [1, 2, 3]) == 0.0  # flat
    with pytest.raises(ValueError):
        pearson([1, 2], [1])
    norm = LossNorm(0.0, 0.10, 0.05)
    # A: 1000 supplied, 1080 billed (-8 %); B: 1000 supplied, 770 billed (23 %); the
    # customer's 120 billed in A but fed by B: moving it gives A 4 % and B 11 %
    fit = move_fit(supply_a=1000, sales_a=1080, supply_b=1000, sales_b=770, meter_wh=120,
                   norm_a=norm, norm_b=norm)
    assert fit is not None
    assert (fit.loss_a_after, fit.loss_b_after) == (pytest.approx(0.04), pytest.approx(0.11))
    assert fit.improvement == pytest.approx((0.13 + 0.18) - (0.01 + 0.06))
    assert move_fit(supply_a=0, sales_a=1, supply_b=1, sales_b=1, meter_wh=1, norm_a=norm,
                    norm_b=norm) is None


# -- the finding ----------------------------------------------------------------------------
def test_a_valid_finding():
    f = validate_finding({"outcome": "tampering", "note": " bypass before the meter ",
                          "photos": [SHA, SHA], "register_kwh": "1234.5",
                          "measured_load_kw": 3})
    assert f.outcome == FindingOutcome.TAMPERING and f.note == "bypass before the meter"
    assert f.photos == (SHA,) and f.register_kwh == Decimal("1234.5")
    assert f.measured_load_kw == Decimal(3)
    assert validate_finding({"outcome": "nothing_found"}).note == ""


@pytest.mark.parametrize(("data", "code", "field"), [
    ({"outcome": "fine"}, "FINDING_FIELD_INVALID", "outcome"),
    ({"outcome": "meter_ok", "register_kwh": "-1"}, "READING_NEGATIVE", None),
    ({"outcome": "meter_ok", "register_kwh": "1.234"}, "FINDING_FIELD_INVALID",
     "register_kwh"),
    ({"outcome": "meter_ok", "register_kwh": 1.5}, "FINDING_FIELD_INVALID", "register_kwh"),
    ({"outcome": "meter_ok", "measured_load_kw": "20000"}, "FINDING_FIELD_INVALID",
     "measured_load_kw"),
    ({"outcome": "meter_ok", "photos": ["x"]}, "FINDING_FIELD_INVALID", "photos"),
    ({"outcome": "meter_ok", "photos": [SHA] * 11}, "FINDING_FIELD_INVALID", "photos"),
    ({"outcome": "meter_ok", "note": "x" * 2001}, "FINDING_FIELD_INVALID", "note"),
    ({"outcome": "meter_fault"}, "FINDING_NOTE_REQUIRED", None),
    ({"outcome": "tampering", "note": "seal cut"}, "FINDING_PHOTO_REQUIRED", None),
    ({"outcome": "wiring_or_mapping", "note": "x", "correct_area_id": "area-2"},
     "FINDING_FIELD_INVALID", "correct_area_id"),
    ({"outcome": "meter_ok", "correct_area_id": "01a23000-0000-7000-8000-000000000000"},
     "FINDING_FIELD_INVALID", "correct_area_id"),
])
def test_finding_refusals(data, code, field):
    with pytest.raises(DomainError) as err:
        validate_finding(data)
    assert err.value.code == code
    if field:
        assert err.value.details["field"] == field


# -- the simulator's shapes -------------------------------------------------------------------
@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15),
                                 date(2026, 11, 15)])
def test_load_shapes(day):
    home = profiles.shape(day, residential=True)
    shop = profiles.shape(day, residential=False)
    assert len(home) == len(shop) == 96
    assert sum(home) == pytest.approx(1.0) and sum(shop) == pytest.approx(1.0)
    assert max(home[76:88]) > 2 * min(home[8:20])  # evening peak over the small hours
    assert max(shop[36:64]) > 3 * max(shop[0:20])  # business hours
    if day.month == 7:  # air conditioning keeps the summer night up
        assert sum(home[88:96]) > sum(profiles.shape(date(2026, 4, 15),
                                                     residential=True)[88:96])


def test_the_simulator_plans_what_a_tiny_county_can_hold():
    """More faults asked than areas: those that fit are injected, the rest left out; and
    the master meter sees the energy of the meters really fed from its area."""
    from server.monitoring.simulator.county import County, SimArea, SimMeter
    from server.monitoring.simulator.engine import Simulator, _d
    from server.monitoring.simulator.faults import FaultCounts, plan

    def tiny() -> County:
        county = County(seed=5)
        for code in ("A", "B"):
            county.areas[code] = SimArea(code, code, code, "st", "rural", 100, f"M{code}",
                                         0.9, 0.05, 0)
            for i in range(10):
                county.meters.append(SimMeter(f"{code}{i:02d}", code, True, 6.0 + i / 10,
                                              datetime(2020, 1, 1, tzinfo=UTC), None))
        return county

    days = [date(2026, 7, 1) + timedelta(days=i) for i in range(10)]
    truth = plan(tiny(), days)
    assert len(truth.mis_mapped) == 1 and truth.theft == [] and truth.overload == []
    assert len(truth.stopped) == 2 and len(truth.outages) == 8  # no concentrator left
    # without outages (and before any meter stops) the delivery holds every interval
    county = tiny()
    quiet = plan(county, days, FaultCounts(short_outages=0, long_outages=0, concentrators=0))
    assert all(_d(s["from_day"]) > days[0] for s in quiet.stopped)
    sim = Simulator(county, quiet)
    day = days[0]
    rows = list(sim.rows(day))
    master = {code: sum(int(float(r[2]) * 1000) for r in rows if r[0] == f"M{code}")
              for code in ("A", "B")}
    by_meter: dict[str, int] = {}
    for r in rows:
        if not r[0].startswith("M"):
            by_meter[r[0]] = by_meter.get(r[0], 0) + int(float(r[2]) * 1000)
    assert len(rows) == 22 * 96
    moved = quiet.mis_mapped[0]["meter_no"]
    assert moved.startswith("A")  # registered on A (the smaller), fed from B
    fed_b = sum(v for k, v in by_meter.items() if k.startswith("B")) + by_meter[moved]
    fed_a = sum(v for k, v in by_meter.items() if k.startswith("A")) - by_meter[moved]
    # each master meter: the energy really fed from its area + 5 % line loss
    assert master["B"] == pytest.approx(fed_b * 1.05, rel=0.001)
    assert master["A"] == pytest.approx(fed_a * 1.05, rel=0.001)
