"""Grid-monitoring benchmark (issue 12); prints its figures. Not part of the test run.

    .venv/bin/python bench/monitoring_bench.py sqlite    # the demo county, 30 days (~5 min)
    .venv/bin/python bench/monitoring_bench.py postgres  # 100,000 meters, one day (~10 min)

``sqlite``: a fresh demo database (``gridone seed``: 3,000 accounts), its master meters,
then 30 simulated days, each day as the daily job runs it: the head-end's delivery as
CSV text through the real import (``csv_rows`` + ``ingest_stream``: parsing, checks,
writes), then the analytics of the changed days and the detector/loop. Prints the import
rate, the day's analytics time for the county (target <= 2 s), the database size and the
detector's precision and recall against the simulator's truth.

``postgres``: a fresh database at ``GRIDONE_TEST_PG_URL`` (default the local test
server) with a synthetic county of ``--meters`` customer meters in areas of 100 (and their
master meters), one simulated day (9.6 M rows at 100,000 meters) streamed through
``ingest_stream`` (COPY), then the day's analytics and detection; prints rows/s, times
and the table sizes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlmodel import Session

from server.db import Database, make_database
from server.migrate import upgrade
from server.monitoring.analytics import compute_day
from server.monitoring.detect import detect
from server.monitoring.ingest import COLUMNS, csv_rows, ingest_stream
from server.monitoring.loop import apply
from server.monitoring.policy import load_policy
from server.monitoring.scoring import score
from server.monitoring.service import analyse
from server.monitoring.simulator import period, prepare, register_masters
from server.monitoring.simulator.county import load_county
from server.monitoring.simulator.engine import Simulator
from server.monitoring.simulator.faults import plan
from server.uow import UnitOfWork
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow

SEED = 20261201


def as_csv(rows: list[tuple[str, str, str, str]]) -> str:
    return ",".join(COLUMNS) + "\n" + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows)


# -- SQLite: the demo county, 30 days ------------------------------------------------------
def bench_sqlite(days: int) -> None:
    from server.demo.generator import generate

    folder = Path(tempfile.mkdtemp(prefix="gridone-mon-"))
    url = f"sqlite:///{folder / 'gridone.db'}"
    upgrade(url)
    db = make_database(url)
    t = time.perf_counter()
    generate(db, seed=20261127, accounts=3000, days=7, pepper="bench-pepper-" + "p" * 32)
    print(f"demo county seeded in {time.perf_counter() - t:.1f} s ({folder})")
    register_masters(db, seed=SEED)
    window = period(utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1), days)
    with Session(db.reader) as session:
        _, truth, stream = prepare(session, seed=SEED, days=window)
    sim_s = ingest_s = 0.0
    rows_in = 0
    daily: list[tuple[float, float, int]] = []  # (analytics s, detect+loop s, days computed)
    t = time.perf_counter()
    for delivery in stream:
        body = as_csv(delivery.rows)
        sim_s += time.perf_counter() - t
        t = time.perf_counter()
        report = ingest_stream(db, csv_rows(io.StringIO(body)))
        ingest_s += time.perf_counter() - t
        rows_in += sum(report.counts.values())
        t = time.perf_counter()
        run = analyse(db, loop=False)
        t_an = time.perf_counter() - t
        t = time.perf_counter()
        with UnitOfWork(db) as uow:
            policy = load_policy(uow.session)
            apply(uow, observations=detect(uow.session, day=delivery.day, policy=policy),
                  as_of=delivery.day, policy=policy)
            uow.commit()
        daily.append((t_an, time.perf_counter() - t, len(run.days)))
        t = time.perf_counter()
    last = window[-1]
    with UnitOfWork(db) as uow:  # the day's analytics of the county, alone
        t, cpu = time.perf_counter(), time.process_time()
        rep = compute_day(uow.session, day=last)
        t_day, cpu_day = time.perf_counter() - t, time.process_time() - cpu
        uow.commit()
    with Session(db.reader) as session:
        meters = session.execute(text("SELECT COUNT(*) FROM metering_point")).scalar_one()
        scores = score(session, json.loads(json.dumps(truth.to_json())))
    size = (folder / "gridone.db").stat().st_size
    single = [a for a, _, n in daily if n == 1]
    print(f"metering points: {meters}; rows imported over {days} days: {rows_in:,}")
    print(f"simulation (rows + CSV text): {sim_s:.1f} s")
    print(f"import (CSV parse, checks, writes): {ingest_s:.1f} s = "
          f"{rows_in / ingest_s:,.0f} rows/s")
    # CPU time too: on a shared machine the wall time is mostly waiting for a core
    print(f"day's analytics of the county ({rep.points} points, {rep.areas} areas): "
          f"{t_day:.2f} s wall, {cpu_day:.2f} s CPU (target <= 2 s)")
    print(f"daily job: analytics of the changed days {sum(single) / len(single):.2f} s mean "
          f"(one day), {max(a for a, _, _ in daily):.2f} s max "
          f"(up to {max(n for _, _, n in daily)} days after a back-fill); "
          f"detection + loop {sum(d for _, d, _ in daily) / len(daily):.2f} s mean, "
          f"{max(d for _, d, _ in daily):.2f} s max")
    print(f"database file: {size / 2**20:,.0f} MiB "
          f"({size / rows_in:.0f} bytes per interval row, all tables)")
    for s in scores:
        print("detector:", s.line())
    db.dispose()


# -- PostgreSQL: 100,000 meters, one day ---------------------------------------------------
def synthetic_county(db: Database, meters: int, per_area: int = 100) -> None:
    """Stations of 100 areas of ``per_area`` customer meters (bulk rows, no readings)."""
    rng = random.Random(7)
    now = utcnow()
    installed = now - timedelta(days=400)
    with Session(db.writer) as s, s.begin():
        conn = s.connection()
        n_areas = -(-meters // per_area)
        stations, areas, users, accounts, meter_rows = [], [], [], [], []
        for a in range(n_areas):
            if a % 100 == 0:
                sid = new_id()
                stations.append({"id": sid, "code": f"BS{a // 100:03d}",
                                 "name": f"Bench station {a // 100}", "county": "Bench",
                                 "version": 1})
                users.append({"id": new_id(), "username": f"crew.bs{a // 100}",
                              "password_hash": "!", "role": "crew",
                              "display_name": "Crew", "station_id": sid, "active": True,
                              "locale": "zh", "created_at": now, "version": 1})
            aid = new_id()
            areas.append({"id": aid, "code": f"BA{a:05d}", "name": f"Bench area {a}",
                          "station_id": sid, "rated_kva": rng.choice([315, 400, 630]),
                          "area_class": rng.choice(["town", "rural"]), "version": 1})
            for m in range(min(per_area, meters - a * per_area)):
                acc = new_id()
                accounts.append({
                    "id": acc, "account_no": f"B{a:05d}{m:04d}", "name": "Bench",
                    "address": "x", "customer_type": "residential", "station_id": sid,
                    "area_id": aid, "care_flag": False, "balance_fen": 0,
                    "alert_level": "ok", "supply_state": "on", "created_at": now,
                    "updated_at": now, "version": 1})
                meter_rows.append({
                    "id": new_id(), "meter_no": f"7{a:05d}{m:04d}", "model": "DDZY",
                    "status": "installed", "account_id": acc, "area_id": aid,
                    "station_id": sid, "purchase_count": 0, "balance_fen": 0,
                    "installed_at": installed, "updated_at": now, "version": 1})
        from server.customers.models import Account
        from server.meters.models import Meter
        from server.stations.models import Station, TransformerArea
        from server.users.models import User

        for model, rows in ((Station, stations), (User, users), (TransformerArea, areas),
                            (Account, accounts), (Meter, meter_rows)):
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(model.__table__), rows[i:i + 20_000])  # type: ignore[attr-defined]


def bench_postgres(meters: int) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(os.environ.get("GRIDONE_TEST_PG_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    name = f"gridone_bench_{secrets.token_hex(4)}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        db = make_database(url)
        t = time.perf_counter()
        synthetic_county(db, meters)
        print(f"synthetic county of {meters:,} meters built in {time.perf_counter() - t:.1f} s")
        register_masters(db, seed=SEED)
        day = utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1)
        with Session(db.reader) as session:
            county = load_county(session, seed=SEED)
        truth = plan(county, [day])
        t = time.perf_counter()
        for _ in Simulator(county, truth).rows(day):  # the simulation alone, to subtract
            pass
        t_sim = time.perf_counter() - t
        t = time.perf_counter()
        report = ingest_stream(db, enumerate(Simulator(county, truth).rows(day), start=1))
        t_in = time.perf_counter() - t
        n = sum(report.counts.values())
        print(f"one day: {n:,} rows simulated and imported in {t_in:.1f} s = "
              f"{n / t_in:,.0f} rows/s; the simulation alone took {t_sim:.1f} s, so the "
              f"import (checks, COPY) ran at {n / max(0.001, t_in - t_sim):,.0f} rows/s")
        with UnitOfWork(db) as uow:
            t = time.perf_counter()
            rep = compute_day(uow.session, day=day)
            t_an = time.perf_counter() - t
            uow.commit()
        print(f"day's analytics ({rep.points:,} points, {rep.areas:,} areas): {t_an:.1f} s")
        with UnitOfWork(db) as uow:
            t = time.perf_counter()
            policy = load_policy(uow.session)
            obs = detect(uow.session, day=day, policy=policy)
            t_det = time.perf_counter() - t
            apply(uow, observations=obs, as_of=day, policy=policy)
            uow.commit()
        print(f"detection as of the day: {t_det:.1f} s ({len(obs)} observations)")
        with db.reader.connect() as conn:
            for table in ("interval_reading", "meter_day", "area_day"):
                size = conn.execute(text(f"SELECT pg_total_relation_size('{table}')")).scalar()
                print(f"  {table}: {size / 2**20:,.0f} MiB")
        db.dispose()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["sqlite", "postgres", "all"])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--meters", type=int, default=100_000)
    args = parser.parse_args()
    if args.part in ("sqlite", "all"):
        bench_sqlite(args.days)
    if args.part in ("postgres", "all"):
        bench_postgres(args.meters)


if __name__ == "__main__":
    main()
