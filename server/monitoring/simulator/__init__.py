"""The AMI simulator (``gridone ami …``): a metering system for the demo county, with
faults injected and their ground truth kept apart (``faults.Truth``, written to its own
file). See ``engine`` for what it delivers and ``profiles`` for the load shapes."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session

from server.db import Database
from server.monitoring.ingest import COLUMNS
from server.monitoring.simulator.county import County, load_county
from server.monitoring.simulator.engine import Delivery, deliveries
from server.monitoring.simulator.faults import FaultCounts, Truth, plan

__all__ = ["County", "Delivery", "FaultCounts", "Truth", "period", "prepare",
           "register_masters", "write_delivery", "write_truth"]


def register_masters(db: Database, *, seed: int) -> int:
    """Register every area's master meter (number and power factor of the seeded county:
    ``M<area code>``); running it again changes nothing. Returns the number of areas."""
    from server.monitoring.points import register_supply
    from server.uow import UnitOfWork

    with Session(db.reader) as session:
        county = load_county(session, seed=seed)
    with UnitOfWork(db) as uow:
        for area in county.areas.values():
            register_supply(uow, area_id=area.id, meter_no=area.master_no,
                            power_factor=area.power_factor)
        uow.commit()
    return len(county.areas)


def period(end: date, days: int) -> list[date]:
    return [end - timedelta(days=days - 1 - i) for i in range(days)]


def prepare(session: Session, *, seed: int, days: list[date],
            counts: FaultCounts | None = None) -> tuple[County, Truth, Iterator[Delivery]]:
    """The county from the register, the faults of the period, and its deliveries (lazily:
    one day at a time)."""
    county = load_county(session, seed=seed)
    truth = plan(county, days, counts)
    return county, truth, deliveries(county, truth, days)


def write_delivery(folder: Path, delivery: Delivery, *, compress: bool = True) -> Path:
    name = f"ami-{delivery.day.isoformat()}.csv" + (".gz" if compress else "")
    path = folder / name
    opener: Any = gzip.open if compress else open
    kwargs = {"compresslevel": 1} if compress else {}
    with opener(path, "wt", encoding="utf-8", newline="", **kwargs) as stream:
        stream.write(",".join(COLUMNS) + "\n")
        stream.writelines(f"{a},{b},{c},{d}\n" for a, b, c, d in delivery.rows)
    return path


def write_truth(path: Path, truth: Truth) -> None:
    path.write_text(json.dumps(truth.to_json(), ensure_ascii=False, indent=1),
                    encoding="utf-8")
