"""Interval series: a meter's curve, an area's supply, sales and unexplained loss by slot.

Each query names its days and points explicitly (``day IN … AND point_id IN …``) so it
probes the interval table's (day, point, slot) key instead of scanning whole days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from server.meters.models import Meter
from server.monitoring.models import MeteringPoint

_CHUNK = 500
Series = dict[tuple[Any, int], int]  # (day as the driver returns it, slot)


def _rows(session: Session, point_ids: list[int], days: list[date]) -> Any:
    """(point, day, slot, Wh, estimated) rows. Days come back as the driver gives them
    (text on SQLite: no per-row conversion) — the same within one database."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    day_values = [d.isoformat() for d in days] if sqlite else list(days)
    for i in range(0, len(point_ids), _CHUNK):
        chunk = point_ids[i:i + _CHUNK]
        sql = ("SELECT point_id, day, slot, energy_wh, estimated FROM interval_reading "
               f"WHERE day IN ({', '.join([mark] * len(day_values))}) "
               f"AND point_id IN ({', '.join([mark] * len(chunk))})")
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, tuple(day_values) + tuple(chunk))
            yield from cursor.fetchall()
        finally:
            cursor.close()


def meter_curves(session: Session, point_ids: list[int], days: list[date]
                 ) -> dict[int, Series]:
    out: dict[int, Series] = defaultdict(dict)
    for pid, day, slot, wh, _ in _rows(session, sorted(set(point_ids)), days):
        out[pid][(day, slot)] = wh
    return out


def area_points(session: Session, area_id: str) -> tuple[list[int], list[int]]:
    """(supply point ids, customer point ids) of an area, customers by the register."""
    mp = MeteringPoint
    supply = [int(i) for i in session.exec(select(col(mp.id)).where(
        col(mp.kind) == "supply", col(mp.area_id) == area_id)).all() if i is not None]
    customers = [int(i) for i in session.exec(select(col(mp.id)).join(
        Meter, col(Meter.id) == col(mp.meter_id)).where(
        col(Meter.area_id) == area_id)).all() if i is not None]
    return supply, customers


def area_series(session: Session, area_id: str, days: list[date]
                ) -> tuple[Series, Series, Series]:
    """(supply, sales, estimated-interval count) of an area by (day, slot), summed by the
    database (one row per slot, whatever the number of meters)."""
    supply_ids, customer_ids = area_points(session, area_id)
    ids = sorted(set(supply_ids) | set(customer_ids))
    supply: Series = {}
    sales: Series = {}
    estimated: Series = {}
    if not ids:
        return supply, sales, estimated
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    day_values = [d.isoformat() for d in days] if sqlite else list(days)
    masters = ", ".join([mark] * len(supply_ids)) or "NULL"
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i:i + _CHUNK]
        sql = (f"SELECT day, slot, "
               f"SUM(CASE WHEN point_id IN ({masters}) THEN energy_wh ELSE 0 END), "
               f"SUM(CASE WHEN point_id IN ({masters}) THEN 0 ELSE energy_wh END), "
               f"SUM(CASE WHEN point_id IN ({masters}) THEN 1 ELSE 0 END), "
               "SUM(CASE WHEN estimated THEN 1 ELSE 0 END) FROM interval_reading "
               f"WHERE day IN ({', '.join([mark] * len(day_values))}) "
               f"AND point_id IN ({', '.join([mark] * len(chunk))}) GROUP BY day, slot")
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, tuple(supply_ids) * 3 + tuple(day_values) + tuple(chunk))
            for day, slot, sup, sold, n_sup, est in cursor.fetchall():
                key = (day, slot)
                if n_sup:
                    supply[key] = supply.get(key, 0) + int(sup)
                sales[key] = sales.get(key, 0) + int(sold)
                if est:
                    estimated[key] = estimated.get(key, 0) + int(est)
        finally:
            cursor.close()
    return supply, sales, estimated


def area_residual(session: Session, area_id: str, days: list[date]) -> Series:
    """Supply - sales by slot where the master meter has data: the area's unexplained
    energy (losses, theft, customers billed elsewhere)."""
    supply, sales, _ = area_series(session, area_id, days)
    return {k: v - sales.get(k, 0) for k, v in supply.items()}
