"""The county the AMI simulator meters: read from the register (the demo world of
``server.demo``, or any database), never invented — the simulator's meter numbers are
the register's, so its data goes through the real import."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from server.customers.models import Account
from server.meters.models import Meter
from server.monitoring.models import MeteringPoint
from server.stations.models import TransformerArea
from shared.enums import CustomerType

#: A home with no one living in it: its meter reads zero (it is not a stopped meter).
VACANT_SHARE = 0.02


@dataclass
class SimArea:
    id: str
    code: str
    name: str
    station_id: str
    area_class: str
    rated_kva: int
    master_no: str
    power_factor: float
    tech_loss: float  # share of the delivered energy lost in the low-voltage lines
    iron_wh: int  # the transformer's no-load loss per 15 minutes


@dataclass
class SimMeter:
    meter_no: str
    area_code: str  # the register's area
    residential: bool
    daily_kwh: float
    installed_at: datetime | None
    removed_at: datetime | None
    vacant: bool = False
    physical_area: str = ""  # where it is really fed from (differs when mis-mapped)

    def __post_init__(self) -> None:
        self.physical_area = self.physical_area or self.area_code


@dataclass
class County:
    seed: int
    areas: dict[str, SimArea] = field(default_factory=dict)  # by code
    meters: list[SimMeter] = field(default_factory=list)  # by meter number

    def in_area(self, code: str, *, physical: bool = True) -> list[SimMeter]:
        return [m for m in self.meters
                if (m.physical_area if physical else m.area_code) == code]

    def expected_daily(self, code: str) -> float:
        """The area's usual daily kWh (by where meters are really fed)."""
        return sum(m.daily_kwh for m in self.in_area(code) if not m.vacant)


def master_no(area_code: str) -> str:
    return f"M{area_code}"


def load_county(session: Session, *, seed: int) -> County:
    county = County(seed)
    masters = {a: (no, pf) for a, no, pf in session.exec(
        select(col(MeteringPoint.area_id), col(MeteringPoint.meter_no),
               col(MeteringPoint.power_factor))
        .where(MeteringPoint.kind == "supply")).all()}
    by_id = {}
    for a in session.exec(select(TransformerArea).order_by(col(TransformerArea.code))).all():
        rng = random.Random(f"{seed}|area|{a.code}")
        no, pf = masters.get(a.id, (master_no(a.code), None))
        area = SimArea(a.id, a.code, a.name, a.station_id, a.area_class, a.rated_kva, no,
                       pf or round(rng.uniform(0.85, 0.95), 2),
                       round(rng.uniform(0.03, 0.06), 4), int(a.rated_kva * 0.0015 * 250))
        county.areas[a.code] = area
        by_id[a.id] = area
    rows = session.execute(
        sa_select(col(Meter.meter_no), col(Meter.area_id), col(Meter.installed_at),
                  col(Meter.removed_at),
               col(Account.customer_type))
        .join(Account, col(Account.id) == col(Meter.account_id), isouter=True)
        .where(col(Meter.installed_at).is_not(None), col(Meter.area_id).is_not(None))
        .order_by(col(Meter.meter_no))).all()
    for meter_no, area_id, installed, removed, ctype in rows:
        rng = random.Random(f"{seed}|base|{meter_no}")
        residential = ctype != CustomerType.NON_RESIDENTIAL.value
        if residential:
            daily = min(30.0, max(1.5, rng.lognormvariate(1.95, 0.5)))
        else:
            daily = rng.uniform(20, 150)
        vacant = residential and rng.random() < VACANT_SHARE
        county.meters.append(SimMeter(meter_no, by_id[area_id].code, residential,
                                      round(daily, 3), installed, removed, vacant))
    return county
