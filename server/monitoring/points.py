"""The metering points the AMI reads.

A customer meter becomes a point the first time its data arrives (it must be in the
meter register); an area's master (supply) meter is registered with the power factor its
load rate is computed with (``register_supply``). Points are integers so the interval
table's rows stay narrow.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from server.meters.models import Meter
from server.monitoring.models import MeteringPoint
from server.stations.models import TransformerArea
from server.uow import UnitOfWork
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow

CUSTOMER = "customer"
SUPPLY = "supply"
#: A customer meter cannot take more than this in 15 minutes (400 kW: the largest
#: three-phase connection of a county network).
CUSTOMER_MAX_WH = 100_000
#: A master meter cannot see more than three times its transformer's rating.
SUPPLY_MAX_FACTOR = 3.0
_CHUNK = 500


@dataclass(frozen=True)
class PointInfo:
    id: int
    kind: str
    meter_id: str | None
    area_id: str | None
    installed_at: datetime | None
    removed_at: datetime | None
    max_wh: int

    @property
    def window(self) -> tuple[float, float]:
        """[installed, removed) as POSIX seconds (master meters: always)."""
        if self.kind == SUPPLY:
            return float("-inf"), float("inf")
        if self.installed_at is None:
            return float("inf"), float("inf")
        return (self.installed_at.timestamp(),
                self.removed_at.timestamp() if self.removed_at else float("inf"))


def _insert(session: Session) -> type:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert  # type: ignore[return-value]


def resolve(session: Session, meter_nos: Collection[str]) -> dict[str, PointInfo]:
    """The points of ``meter_nos``; customer meters of the register without a point get
    one. Numbers that are neither are left out."""
    numbers = sorted(set(meter_nos))
    found = _load(session, numbers)
    missing = [n for n in numbers if n not in found]
    for i in range(0, len(missing), _CHUNK):
        meters = session.exec(select(col(Meter.id), col(Meter.meter_no)).where(
            col(Meter.meter_no).in_(missing[i:i + _CHUNK]))).all()
        if meters:
            now = utcnow()
            stmt = _insert(session)(MeteringPoint.__table__).values(  # type: ignore[attr-defined]
                [{"meter_no": no, "kind": CUSTOMER, "meter_id": mid, "created_at": now}
                 for mid, no in meters]).on_conflict_do_nothing()
            session.execute(stmt)
    if missing:
        found.update(_load(session, missing))
    return found


def _load(session: Session, numbers: list[str]) -> dict[str, PointInfo]:
    out: dict[str, PointInfo] = {}
    mp = MeteringPoint
    for i in range(0, len(numbers), _CHUNK):
        rows = session.execute(
            sa_select(col(mp.id), col(mp.meter_no), col(mp.kind), col(mp.meter_id),
                      col(mp.area_id), col(Meter.installed_at),
                   col(Meter.removed_at), col(TransformerArea.rated_kva))
            .outerjoin(Meter, col(Meter.id) == col(mp.meter_id))
            .outerjoin(TransformerArea, col(TransformerArea.id) == col(mp.area_id))
            .where(col(mp.meter_no).in_(numbers[i:i + _CHUNK]))).all()
        for pid, no, kind, meter_id, area_id, installed, removed, kva in rows:
            max_wh = (CUSTOMER_MAX_WH if kind == CUSTOMER
                      else int((kva or 0) * 250 * SUPPLY_MAX_FACTOR))
            out[no] = PointInfo(pid, kind, meter_id, area_id, installed, removed, max_wh)
    return out


def register_supply(uow: UnitOfWork, *, area_id: str, meter_no: str,
                    power_factor: float | None = None) -> MeteringPoint:
    """Register (or re-number) an area's master meter; one per area, audited."""
    from server.monitoring.policy import load_policy

    session = uow.session
    area = session.get(TransformerArea, area_id)
    if area is None:
        raise DomainError(ErrorCode.AREA_NOT_FOUND, area=area_id)
    meter_no = meter_no.strip()
    if not 1 <= len(meter_no) <= 24:
        raise DomainError(ErrorCode.SUPPLY_METER_INVALID, reason="meter number of 1-24 "
                                                                 "characters")
    pf = power_factor if power_factor is not None else load_policy(session).power_factor
    if not 0.5 <= pf <= 1.0:
        raise DomainError(ErrorCode.SUPPLY_METER_INVALID,
                          reason="power factor from 0.5 to 1.0")
    taken = session.exec(select(MeteringPoint).where(
        MeteringPoint.meter_no == meter_no)).first()
    if session.exec(select(col(Meter.id)).where(Meter.meter_no == meter_no)).first() is not None \
            or (taken is not None and taken.area_id != area_id):
        raise DomainError(ErrorCode.SUPPLY_METER_INVALID,
                          reason=f"meter number {meter_no} is already used")
    point = session.exec(select(MeteringPoint).where(
        MeteringPoint.kind == SUPPLY, MeteringPoint.area_id == area_id)).first()
    before = None
    if point is None:
        point = MeteringPoint(meter_no=meter_no, kind=SUPPLY, area_id=area_id,
                              power_factor=pf)
    else:
        before = {"meter_no": point.meter_no, "power_factor": point.power_factor}
        point.meter_no, point.power_factor = meter_no, pf
    session.add(point)
    session.flush()
    uow.audit(action="monitoring.supply_meter", entity="transformer_area", entity_id=area_id,
              before=before, after={"meter_no": meter_no, "power_factor": pf})
    return point
