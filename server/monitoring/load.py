"""Transformer load from the master meters' intervals, in SQL (SQLite and PostgreSQL).

Load rate of a slot = (Wh x 4 / 1000 kW) / power factor / rated kVA. A run of heavy load
is consecutive slots at or above the heavy rate, overload consecutive slots above the
overload rate; either counts only when it lasts the sustained time (2 h: 8 slots). Runs
are found set-wise with the gaps-and-islands trick: in a run, ``slot - ROW_NUMBER()`` is
constant. ``shared.monitoring.formulas.runs_above`` is the same rule in Python (the
tests' oracle). A run crossing midnight counts in each day only for its own part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Date, TextClause, bindparam, text
from sqlmodel import Session

from shared.monitoring.formulas import SLOT_MINUTES, Run

_RATES = """
    SELECT p.area_id AS area_id, ir.slot AS slot,
           ir.energy_wh * 4.0 / 1000.0 / COALESCE(p.power_factor, :pf) / ta.rated_kva AS rate
    FROM interval_reading ir
    JOIN metering_point p ON p.id = ir.point_id
    JOIN transformer_area ta ON ta.id = p.area_id
    WHERE ir.day = :day AND p.kind = 'supply'
"""

_RUNS = f"""
    WITH r AS ({_RATES}),
    hot AS (
        SELECT area_id, slot,
               slot - ROW_NUMBER() OVER (PARTITION BY area_id ORDER BY slot) AS grp
        FROM r WHERE {{cond}}
    )
    SELECT area_id, MIN(slot) AS start, COUNT(*) AS n
    FROM hot GROUP BY area_id, grp HAVING COUNT(*) >= :min_slots
    ORDER BY area_id, start
"""

_PEAK = f"SELECT area_id, MAX(rate) AS peak FROM ({_RATES}) r GROUP BY area_id"


@dataclass
class AreaLoad:
    peak: float | None = None
    heavy: list[Run] = field(default_factory=list)
    overload: list[Run] = field(default_factory=list)


def _params(stmt: str) -> TextClause:
    return text(stmt).bindparams(bindparam("day", type_=Date))


def day_load(session: Session, *, day: date, power_factor: float, heavy_rate: float,
             overload_rate: float, sustained_minutes: int) -> dict[str, AreaLoad]:
    """Peak load rate and sustained heavy / overload runs of every area with master-meter
    data on ``day``."""
    min_slots = max(1, -(-sustained_minutes // SLOT_MINUTES))
    out: dict[str, AreaLoad] = {}
    params = {"day": day, "pf": power_factor, "min_slots": min_slots}
    for area_id, peak in session.execute(_params(_PEAK), params):
        out[area_id] = AreaLoad(float(peak) if peak is not None else None)
    for attr, cond, thr in (("heavy", "rate >= :thr", heavy_rate),
                            ("overload", "rate > :thr", overload_rate)):
        rows = session.execute(_params(_RUNS.format(cond=cond)),
                               {**params, "thr": thr})
        for area_id, start, n in rows:
            getattr(out.setdefault(area_id, AreaLoad()), attr).append(Run(int(start), int(n)))
    return out


def area_curve(session: Session, *, area_id: str, day: date, power_factor: float
               ) -> list[tuple[int, int, bool, float]]:
    """One area's master-meter day: (slot, Wh, estimated, load rate) in slot order."""
    stmt = text(
        "SELECT ir.slot, ir.energy_wh, ir.estimated, "
        "ir.energy_wh * 4.0 / 1000.0 / COALESCE(p.power_factor, :pf) / ta.rated_kva "
        "FROM interval_reading ir JOIN metering_point p ON p.id = ir.point_id "
        "JOIN transformer_area ta ON ta.id = p.area_id "
        "WHERE ir.day = :day AND p.kind = 'supply' AND p.area_id = :area ORDER BY ir.slot"
    ).bindparams(bindparam("day", type_=Date))
    return [(int(s), int(wh), bool(est), float(rate)) for s, wh, est, rate in session.execute(
        stmt, {"day": day, "pf": power_factor, "area": area_id})]
