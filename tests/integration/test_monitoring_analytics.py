"""The day's analytics on SQLite and PostgreSQL, against figures computed by hand on a tiny
fixed data set (``monitoring_kit.fixed_rows``): collection, line loss with its flags, the
transformer's sustained load; and recomputation when late data arrives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.monitoring.service import analyse
from tests.integration.monitoring_kit import (
    fixed_days,
    fixed_rows,
    ingest,
    monitored_db,
    q,
    rows,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def strip(days):
    """Area days without the time they were computed."""
    return {k: {c: x for c, x in v.items() if c != "computed_at"} for k, v in days.items()}


def area_days(db, world):
    names = {a.id: k for k, a in world.areas.items()}
    out = {}
    for r in q(db, "SELECT * FROM area_day"):
        day = date.fromisoformat(r["day"]) if isinstance(r["day"], str) else r["day"]
        out[(names[r["area_id"]], day)] = r
    return out


@pytest.mark.parametrize("backend", BACKENDS)
def test_hand_computed_figures(backend, tmp_path, template_db):
    with monitored_db(backend, tmp_path, template_db) as (db, world):
        report = ingest(db, fixed_rows())
        assert report.counts["rejected"] == 0, report.rejected
        analyse(db, loop=False)
        d0, d1, d2 = fixed_days()
        days = area_days(db, world)

        town0, town1, town2 = (days[("town", d)] for d in (d0, d1, d2))
        assert (town0["meters_due"], town0["meters_read"]) == (3, 3)
        assert town0["supply_wh"] == 120_000 and town0["sales_wh"] == 115_200
        assert town0["loss_rate"] == pytest.approx(0.04)
        assert town0["loss_flag"] == "normal" and bool(town0["reliable"])
        # D1: one meter has an estimated interval: not read, and the loss is unreliable
        assert (town1["meters_due"], town1["meters_read"], town1["meters_estimated"]) == \
            (3, 2, 1)
        assert town1["sales_wh"] == 120_000 and town1["loss_rate"] == pytest.approx(0.0)
        assert not town1["reliable"]
        # D2: high loss, and a jump from the baseline (D0 only: D1 was unreliable)
        assert town2["sales_wh"] == 100_800
        assert town2["loss_rate"] == pytest.approx(19.2 / 120)
        assert town2["loss_flag"] == "high" and bool(town2["reliable"])
        assert town2["baseline_loss"] == pytest.approx(0.04) and bool(town2["loss_jump"])

        rural0, rural1, rural2 = (days[("rural", d)] for d in (d0, d1, d2))
        assert rural0["supply_wh"] == 2_090_000 and rural0["sales_wh"] == 1_920_000
        assert rural0["loss_rate"] == pytest.approx(170 / 2090)
        assert rural0["peak_load_rate"] == pytest.approx(95 * 4 / 0.9 / 400)
        assert rural0["heavy_minutes"] == 210 and rural0["overload_minutes"] == 150
        assert rural0["load_flag"] == "overload"
        assert rural1["loss_flag"] == "no_supply" and rural1["load_flag"] == "no_data"
        assert (rural1["meters_due"], rural1["meters_read"]) == (1, 0)
        assert rural2["loss_rate"] == pytest.approx(-0.05)
        assert rural2["loss_flag"] == "negative" and rural2["load_flag"] == "normal"

        remote = days[("remote", d0)]
        assert remote["loss_flag"] == "no_supply" and remote["supply_wh"] is None
        assert (remote["meters_due"], remote["meters_read"]) == (1, 1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_late_data_recomputes_the_day_and_the_days_after(backend, tmp_path, template_db):
    with monitored_db(backend, tmp_path, template_db) as (db, world):
        ingest(db, fixed_rows())
        analyse(db, loop=False)
        before = area_days(db, world)
        d0, d1, d2 = fixed_days()

        # nothing new: a second run computes nothing and changes nothing
        assert analyse(db, loop=False).days == []
        again = ingest(db, fixed_rows())
        assert again.counts == {"imported": 0, "corrected": 0,
                                "duplicate": len(fixed_rows()), "rejected": 0}
        assert again.days == set()
        assert analyse(db, loop=False).days == []

        # the head-end back-fills T3's missing interval of D1 with the real value
        late = ingest(db, rows("MTR-T3", d1, "0.250", slots=[40]))
        assert late.counts["corrected"] == 1 and late.days == {d1}
        run = analyse(db, loop=False)
        assert [r.day for r in run.days] == [d1, d2]  # D2's baseline includes D1
        after = area_days(db, world)
        town1, town2 = after[("town", d1)], after[("town", d2)]
        assert (town1["meters_read"], town1["meters_estimated"]) == (3, 0)
        assert bool(town1["reliable"])
        assert town2["baseline_loss"] == pytest.approx(0.02)  # (4 % + 0 %) / 2
        unchanged = {k: v for k, v in before.items() if k[1] == d0}
        assert strip(unchanged) == strip({k: after[k] for k in unchanged})


@pytest.mark.parametrize("backend", BACKENDS)
def test_recomputing_a_day_twice_gives_the_same_rows(backend, tmp_path, template_db):
    with monitored_db(backend, tmp_path, template_db) as (db, world):
        ingest(db, fixed_rows())
        d0, d1, d2 = fixed_days()
        analyse(db, days=[d0, d1, d2], loop=False)
        first = q(db, "SELECT * FROM meter_day ORDER BY day, point_id")
        areas1 = area_days(db, world)
        analyse(db, days=[d0, d1, d2], loop=False)
        assert q(db, "SELECT * FROM meter_day ORDER BY day, point_id") == first
        areas2 = area_days(db, world)
        assert strip(areas1) == strip(areas2)
        assert len(first) == 7 + 5 + 7  # rural's two points only on D0 and D2


def test_sql_load_runs_match_the_python_rule(tmp_path, template_db):
    """Random master-meter days: the SQL gaps-and-islands runs equal runs_above's."""
    import random

    from server.monitoring.load import day_load
    from server.uow import UnitOfWork
    from shared.monitoring.formulas import load_rate, runs_above

    with monitored_db("sqlite", tmp_path, template_db) as (db, _):
        rng = random.Random(12)
        d0 = fixed_days()[0]
        days = [d0 - timedelta(days=i) for i in range(12)]
        data = []
        expected = {}
        for day in days:
            slots = sorted(rng.sample(range(96), rng.randrange(60, 97)))  # gaps break runs
            values = [f"{rng.choice([10, 70, 72, 85, 90, 91, 99]):d}.000" for _ in range(96)]
            data += rows("SUP-RURAL", day, values, slots=slots)
            rates = {s: load_rate(int(float(values[s]) * 1000), power_factor=0.9,
                                  rated_kva=400) for s in slots}
            expected[day] = (runs_above(rates, 0.8, strict=False, min_slots=8),
                             runs_above(rates, 1.0, strict=True, min_slots=8))
        ingest(db, data)
        with UnitOfWork(db) as uow:
            for day in days:
                got = day_load(uow.session, day=day, power_factor=0.9, heavy_rate=0.8,
                               overload_rate=1.0, sustained_minutes=120)
                rural = got[next(iter(got))]
                assert (rural.heavy, rural.overload) == expected[day], day


@pytest.mark.parametrize("backend", BACKENDS)
def test_detector_and_loop_on_the_fixed_days(backend, tmp_path, template_db):
    """As of D2: town's reliable 16 % loss is explained by MTR-T3 (0.2 kWh a slot before,
    0.05 since): one inspection job; rural's negative loss has no customer whose
    curve follows town's unexplained loss (its meter is flat): no mapping suspect."""
    with monitored_db(backend, tmp_path, template_db) as (db, world):
        ingest(db, fixed_rows())
        first = analyse(db).loop
        assert first is not None and first.as_of == fixed_days()[2]
        assert first.new == {"loss_high": 1, "loss_jump": 2, "loss_negative": 1,
                             "loss_suspect": 1}  # rural jumped too: 8.1 % -> -5 %
        found = q(db, "SELECT a.kind, a.score, a.evidence, m.meter_no, w.status, w.area_id "
                      "FROM monitoring_anomaly a JOIN meter m ON m.id = a.meter_id "
                      "JOIN work_order w ON w.id = a.work_order_id")
        assert len(found) == 1 and found[0]["meter_no"] == "MTR-T3"
        assert found[0]["status"] == "dispatched"
        assert found[0]["area_id"] == world.areas["town"].id
        # its drop since the loss went high (D2) against its complete days before (D0:
        # 0.2 a slot; D1 had an estimate), and how far below its neighbours' median (48)
        assert found[0]["score"] == pytest.approx(0.7 * (1 - 0.05 / 0.2) + 0.3 * (
            1 - 4.8 / 48), abs=1e-4)
        again = analyse(db, days=list(fixed_days())).loop
        assert again is not None and again.new == {} and again.refreshed == 5
