"""Interval series: a meter's curve, an area's supply, sales and unexplained loss by slot.

Each query names its days and points explicitly (``day IN … AND point_id IN …``) so it
probes the interval table's (day, point, slot) key instead of scanning whole days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from server.meters.models import Meter
from server.monitoring.models import IntervalReading, MeteringPoint

_CHUNK = 500
Series = dict[tuple[date, int], int]


def _rows(session: Session, point_ids: list[int], days: list[date]) -> Any:
    ir = IntervalReading
    for i in range(0, len(point_ids), _CHUNK):
        yield from session.execute(
            select(ir.point_id, ir.day, ir.slot, ir.energy_wh, ir.estimated).where(
                col(ir.day).in_(days), col(ir.point_id).in_(point_ids[i:i + _CHUNK])))


def meter_curves(session: Session, point_ids: list[int], days: list[date]
                 ) -> dict[int, Series]:
    out: dict[int, Series] = defaultdict(dict)
    for pid, day, slot, wh, _ in _rows(session, sorted(set(point_ids)), days):
        out[pid][(day, slot)] = wh
    return out


def area_points(session: Session, area_id: str) -> tuple[list[int], list[int]]:
    """(supply point ids, customer point ids) of an area, customers by the register."""
    mp = MeteringPoint
    supply = list(session.exec(select(mp.id).where(  # type: ignore[call-overload]
        col(mp.kind) == "supply", col(mp.area_id) == area_id)).scalars())
    customers = list(session.exec(select(mp.id).join(  # type: ignore[call-overload]
        Meter, col(Meter.id) == col(mp.meter_id)).where(
        col(Meter.area_id) == area_id)).scalars())
    return supply, customers


def area_series(session: Session, area_id: str, days: list[date]
                ) -> tuple[Series, Series, Series]:
    """(supply, sales, estimated-interval count) of an area by (day, slot)."""
    supply_ids, customer_ids = area_points(session, area_id)
    supply: Series = defaultdict(int)
    sales: Series = defaultdict(int)
    estimated: Series = defaultdict(int)
    kinds = dict.fromkeys(supply_ids, True) | dict.fromkeys(customer_ids, False)
    for pid, day, slot, wh, est in _rows(session, sorted(kinds), days):
        (supply if kinds[pid] else sales)[(day, slot)] += wh
        if est:
            estimated[(day, slot)] += 1
    return dict(supply), dict(sales), dict(estimated)


def area_residual(session: Session, area_id: str, days: list[date]) -> Series:
    """Supply - sales by slot where the master meter has data: the area's unexplained
    energy (losses, theft, customers billed elsewhere)."""
    supply, sales, _ = area_series(session, area_id, days)
    return {k: v - sales.get(k, 0) for k, v in supply.items()}
