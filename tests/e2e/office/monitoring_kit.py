"""A small metering run for the browser tests: 12 days of 15-minute data for the test
world's station 1 through the real import endpoint, with a theft injected in the town area
(its one customer's meter MTR-M1-0001 bypassed for the last 4 days), then the daily job
(``POST /monitoring/runs``). Small on purpose: 8,064 rows, a few seconds.

Set-up only writes the register directly (two more meters in the town area so the
suspect has neighbours, and the master meters), as ``serve_api`` writes the world."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from server.db import make_database
from server.meters.models import Meter
from server.monitoring.points import register_supply
from server.stations.models import TransformerArea
from server.uow import UnitOfWork
from shared.enums import MeterStatus
from shared.timeutil import LOCAL_TZ, utcnow
from tests.e2e.conftest import ApiServer

DAYS = 12
THEFT_DAYS = 4
THIEF = "MTR-M1-0001"


def _register(db_file: Path) -> list[str]:
    """Register the neighbours and master meters; return the town's other customer meters
    (the world may hold more, e.g. the desk tests' 张伟): they report normally."""
    db = make_database(f"sqlite:///{db_file}")
    try:
        with Session(db.writer) as s:
            areas = {a.code: a.id for a in s.exec(select(TransformerArea)).all()}
            town = s.get(TransformerArea, areas["TA-town"])
            assert town is not None
            have = set(s.exec(select(Meter.meter_no)).all())
            for no in ("MTR-T2", "MTR-T3"):
                if no not in have:
                    s.add(Meter(meter_no=no, model="DDZY-1", status=MeterStatus.INSTALLED,
                                area_id=town.id, station_id=town.station_id,
                                installed_at=utcnow() - timedelta(days=400)))
            s.commit()
            others = sorted(m.meter_no for m in s.exec(select(Meter).where(
                Meter.area_id == town.id, Meter.status == MeterStatus.INSTALLED,
                Meter.meter_no.not_in([THIEF, "MTR-T2", "MTR-T3"]))).all())  # type: ignore[attr-defined]
        with UnitOfWork(db) as uow:
            for code, no in (("TA-town", "SUP-TOWN"), ("TA-rural", "SUP-RURAL")):
                register_supply(uow, area_id=areas[code], meter_no=no, power_factor=0.9)
            uow.commit()
    finally:
        db.dispose()
    return others


def _rows(meter_no: str, day: date, kwh: float) -> list[dict[str, Any]]:
    start = datetime.combine(day, time(), tzinfo=LOCAL_TZ)
    out = []
    for slot in range(96):
        # a daily shape: low at night, an evening peak (the load curve has something to show)
        hour = slot // 4
        shape = 0.5 if hour < 6 else 1.6 if 18 <= hour < 22 else 1.0
        out.append({"meter_no": meter_no,
                    "interval_start": (start + timedelta(minutes=15 * slot)).isoformat(),
                    "energy_kwh": f"{kwh * shape:.3f}", "source": "actual"})
    return out


def interval_rows(last: date, others: list[str] = ()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    rows: list[dict[str, Any]] = []
    for i in range(DAYS):
        day = last - timedelta(days=DAYS - 1 - i)
        theft = i >= DAYS - THEFT_DAYS
        m1 = 0.1 if theft else 0.5  # what the bypassed meter still records
        # what the transformer really supplies (5 % technical loss)
        town = (0.5 + 0.5 + 0.3 + 0.4 * len(others)) * 1.05
        rows += _rows(THIEF, day, m1) + _rows("MTR-T2", day, 0.5) + _rows("MTR-T3", day, 0.3)
        for no in others:
            rows += _rows(no, day, 0.4)
        rows += _rows("SUP-TOWN", day, town)
        rows += _rows("MTR-M2-0001", day, 0.4) + _rows("SUP-RURAL", day, 0.4 * 1.06)
        rows += _rows("MTR-M3-0001", day, 0.2)
    return rows


def seed_theft(api: ApiServer) -> dict[str, Any]:
    """Register, import, run; returns the run's answer (its new anomalies and jobs)."""
    others = _register(api.data_dir / "gridone.db")
    last = utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1)
    with api.client("admin") as c:
        r = c.put("/api/v1/monitoring/policy", json={"recent_days": 3, "history_days": 7})
        r.raise_for_status()
        rows = interval_rows(last, others)
        for start in range(0, len(rows), 4000):  # within the request body limit
            r = c.post("/api/v1/monitoring/intervals/import",
                       json={"rows": rows[start:start + 4000]}, timeout=120)
            r.raise_for_status()
            assert r.json()["summary"].get("rejected", 0) == 0, r.json()["rejected"][:3]
        r = c.post("/api/v1/monitoring/runs", json={}, timeout=120)
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]
