"""Helpers of the monitoring tests: interval rows, imports through the real service, a
database on SQLite or PostgreSQL with the small test world, and a tiny fixed data set
whose figures are computed by hand in the tests."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from server.db import Database, make_database
from server.meters.models import Meter
from server.migrate import upgrade
from server.monitoring.ingest import IntervalReport, import_intervals
from server.monitoring.points import register_supply
from server.uow import UnitOfWork
from shared.enums import MeterStatus
from shared.timeutil import LOCAL_TZ, utcnow
from tests.factories import World, build_world
from tests.pg import fresh_database

Row = tuple[int, list[str]]


def today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def stamp(day: date, slot: int) -> str:
    return (datetime.combine(day, time(), tzinfo=LOCAL_TZ)
            + timedelta(minutes=15 * slot)).isoformat()


def rows(meter_no: str, day: date, kwh: str | Sequence[str], *, source: str = "actual",
         slots: Sequence[int] | None = None) -> list[list[str]]:
    """Interval rows of one meter-day: ``kwh`` one value for every slot, or 96 values."""
    slots = list(range(96)) if slots is None else list(slots)
    values = [kwh] * 96 if isinstance(kwh, str) else list(kwh)
    return [[meter_no, stamp(day, s), values[s], source] for s in slots]


def ingest(db: Database, data: list[list[str]], *, lang: str = "en") -> IntervalReport:
    with UnitOfWork(db) as uow:
        report = import_intervals(uow, rows=list(enumerate(data, start=1)), lang=lang)
        uow.commit()
    return report


def q(db: Database, sql: str, **params: Any) -> list[dict[str, Any]]:
    with db.reader.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


@contextmanager
def monitored_db(kind: str, tmp: Path, template: Path | None = None
                 ) -> Iterator[tuple[Database, World]]:
    """A migrated database (SQLite file or fresh PostgreSQL) with the test world, two extra
    meters in the town area and master meters on the town and rural areas."""
    if kind == "sqlite":
        path = tmp / "mon.db"
        if template is not None:
            shutil.copy(template, path)
        else:
            upgrade(f"sqlite:///{path}")
        db = make_database(f"sqlite:///{path}")
        try:
            yield _prepare(db)
        finally:
            db.dispose()
        return
    with fresh_database() as url:
        upgrade(url)
        db = make_database(url)
        try:
            yield _prepare(db)
        finally:
            db.dispose()


def _prepare(db: Database) -> tuple[Database, World]:
    return add_monitoring(db, build_world(db))


def add_monitoring(db: Database, world: World) -> tuple[Database, World]:
    """Two more meters in the town area; master meters on the town and rural areas."""
    town = world.areas["town"]
    with Session(db.writer, expire_on_commit=False) as s:
        for no in ("MTR-T2", "MTR-T3"):
            world.meters[no] = Meter(meter_no=no, model="DDZY-1", status=MeterStatus.INSTALLED,
                                     area_id=town.id, station_id=town.station_id,
                                     installed_at=utcnow() - timedelta(days=400))
            s.add(world.meters[no])
        s.commit()
    with UnitOfWork(db) as uow:
        register_supply(uow, area_id=town.id, meter_no="SUP-TOWN", power_factor=0.9)
        register_supply(uow, area_id=world.areas["rural"].id, meter_no="SUP-RURAL",
                        power_factor=0.9)
        uow.commit()
    return db, world


# -- the fixed data set ----------------------------------------------------------------------
# Three days D0, D1, D2 (D2 = the day before yesterday). Rated 400 kVA, power factor 0.9.
#  town  (MTR-M1-0001, MTR-T2, MTR-T3; master SUP-TOWN, 1.25 kWh every slot = 120 kWh)
#    D0: 0.5, 0.5, 0.2 kWh a slot             -> sales 115.2, loss 4 %, all read
#    D1: 0.5, 0.5, 0.25 (T3: slot 40 estimated) -> sales 120, loss 0 %, 2 of 3 read,
#        unreliable (1 of 3 meters incomplete > 2 %)
#    D2: 0.5, 0.5, 0.05                         -> sales 100.8, loss 16 % high; baseline
#        = D0's 4 % (D1 unreliable) -> jump
#  rural (MTR-M2-0001; master SUP-RURAL)
#    D0: master 10 kWh a slot except 72-75: 80 (load 88.9 %), 76-85: 95 (105.6 %);
#        meter 20 a slot -> supply 2090, sales 1920, loss 8.134 %; heavy run 72-85 = 210
#        min, overload run 76-85 = 150 min, peak 1.0556
#    D2: master 10, meter 10.5 -> loss -5 % negative
#  remote (MTR-M3-0001; no master): D0-D2 0.1 a slot -> no supply, read 1 of 1
def fixed_days() -> tuple[date, date, date]:
    d2 = today() - timedelta(days=2)
    return d2 - timedelta(days=2), d2 - timedelta(days=1), d2


def fixed_rows() -> list[list[str]]:
    d0, d1, d2 = fixed_days()
    out: list[list[str]] = []
    for d in (d0, d1, d2):
        out += rows("SUP-TOWN", d, "1.250")
        out += rows("MTR-M1-0001", d, "0.500") + rows("MTR-T2", d, "0.500")
        out += rows("MTR-M3-0001", d, "0.100")
    out += rows("MTR-T3", d0, "0.200")
    out += rows("MTR-T3", d1, "0.250", slots=[s for s in range(96) if s != 40])
    out += rows("MTR-T3", d1, "0.250", source="estimated", slots=[40])
    out += rows("MTR-T3", d2, "0.050")
    rural = ["10.000"] * 72 + ["80.000"] * 4 + ["95.000"] * 10 + ["10.000"] * 10
    out += rows("SUP-RURAL", d0, rural) + rows("MTR-M2-0001", d0, "20.000")
    out += rows("SUP-RURAL", d2, "10.000") + rows("MTR-M2-0001", d2, "10.500")
    return out
