"""The day's analytics, set-based SQL that runs on SQLite and PostgreSQL.

``compute_day`` recomputes one local day from the stored intervals, whatever was there
before (so running it again, or after late data, is idempotent):

1. ``meter_day``: each metering point's energy and how many intervals arrived actual or
   estimated (one ``INSERT … SELECT … GROUP BY``);
2. ``area_day``: per transformer area — meters due (customer meters installed the whole
   day, by the register's area), meters read (all 96 intervals actual), sales (the
   customer meters' energy), supply (the master meter's), the line-loss rate judged
   against the area type's norm and the area's own baseline (mean of its reliable days
   before), whether estimated or missing readings make it unreliable, and the load (peak
   rate, sustained heavy and overload minutes, ``server.monitoring.load``).

Sums and counts are done by the database; the per-area verdicts are the pure functions
of ``shared.monitoring.formulas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, delete, func, insert, or_, select, text
from sqlmodel import Session, col

from server.meters.models import Meter
from server.monitoring.days import lock, mark_computed
from server.monitoring.load import day_load
from server.monitoring.models import (
    AreaDay,
    MeterDay,
    MeteringPoint,
    MonitoringPolicy,
)
from server.monitoring.policy import load_norms, load_policy
from server.stations.models import TransformerArea
from shared.monitoring.formulas import (
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    classify_loss,
    load_flag,
    loss_rate,
    reliable_day,
)
from shared.timeutil import LOCAL_TZ, utcnow

_METER_DAY = """
    INSERT INTO meter_day (day, point_id, energy_wh, actual_n, estimated_n, last_actual_slot)
    SELECT day, point_id, SUM(energy_wh),
           SUM(CASE WHEN estimated THEN 0 ELSE 1 END),
           SUM(CASE WHEN estimated THEN 1 ELSE 0 END),
           MAX(CASE WHEN estimated THEN NULL ELSE slot END)
    FROM interval_reading WHERE day = :day GROUP BY day, point_id
"""


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The local day as an aware [start, end) interval."""
    start = datetime.combine(day, time(), tzinfo=LOCAL_TZ)
    return start, start + timedelta(days=1)


def due_clause(day: date) -> Any:
    """Customer meters due on ``day``: installed in an area for the whole day."""
    start, end = day_bounds(day)
    return and_(col(Meter.area_id).is_not(None), col(Meter.installed_at).is_not(None),
                col(Meter.installed_at) <= start,
                or_(col(Meter.removed_at).is_(None), col(Meter.removed_at) >= end))


@dataclass
class DayReport:
    day: date
    points: int
    areas: int
    seconds: float


def compute_day(session: Session, *, day: date, policy: MonitoringPolicy | None = None,
                meters: bool = True) -> DayReport:
    """Recompute ``meter_day`` (unless ``meters`` is False: its intervals did not change)
    and ``area_day`` of ``day``, in the caller's transaction."""
    import time as clock

    t0 = clock.perf_counter()
    lock(session, exclusive=True)
    policy = policy or load_policy(session)
    points = 0
    if meters:
        session.execute(delete(MeterDay).where(col(MeterDay.day) == day))
        points = session.execute(text(_METER_DAY).bindparams(  # type: ignore[attr-defined]
            bindparam("day", type_=Date)), {"day": day}).rowcount
    rows = _area_rows(session, day=day, policy=policy)
    session.execute(delete(AreaDay).where(col(AreaDay.day) == day))
    if rows:
        session.execute(insert(AreaDay), rows)
    mark_computed(session, day, utcnow())
    return DayReport(day, int(points or 0), len(rows), clock.perf_counter() - t0)


def _area_rows(session: Session, *, day: date, policy: MonitoringPolicy
               ) -> list[dict[str, Any]]:
    md, mp = MeterDay, MeteringPoint
    complete = SLOTS_PER_DAY
    # collection: every due customer meter, read or not
    due = {a: (int(n), int(r or 0), int(e or 0)) for a, n, r, e in session.execute(
        select(col(Meter.area_id), func.count(),
               func.sum(case((col(md.actual_n) >= complete, 1), else_=0)),
               func.sum(case((and_(func.coalesce(md.actual_n, 0) < complete,
                                   col(md.estimated_n) > 0), 1), else_=0)))
        .select_from(Meter)
        .outerjoin(mp, col(mp.meter_id) == col(Meter.id))
        .outerjoin(md, and_(col(md.point_id) == col(mp.id), col(md.day) == day))
        .where(due_clause(day)).group_by(col(Meter.area_id)))}
    # sales: every customer meter's energy that day, by the register's area
    sales = {a: int(s or 0) for a, s in session.execute(
        select(col(Meter.area_id), func.sum(md.energy_wh))
        .select_from(md).join(mp, col(mp.id) == col(md.point_id))
        .join(Meter, col(Meter.id) == col(mp.meter_id))
        .where(col(md.day) == day, col(mp.kind) == "customer")
        .group_by(col(Meter.area_id)))}
    supply = {a: (int(wh) if wh is not None else None, int(n or 0)) for a, wh, n in
              session.execute(select(col(mp.area_id), col(md.energy_wh), col(md.actual_n))
                              .select_from(mp)
                              .outerjoin(md, and_(col(md.point_id) == col(mp.id),
                                                  col(md.day) == day))
                              .where(col(mp.kind) == "supply"))}
    since = day - timedelta(days=policy.baseline_days)
    baseline = {a: float(b) for a, b in session.execute(
        select(col(AreaDay.area_id), func.avg(AreaDay.loss_rate))
        .where(col(AreaDay.day) >= since, col(AreaDay.day) < day,
               col(AreaDay.reliable).is_(True), col(AreaDay.loss_rate).is_not(None))
        .group_by(col(AreaDay.area_id)))}
    load = day_load(session, day=day, power_factor=policy.power_factor,
                    heavy_rate=policy.heavy_rate, overload_rate=policy.overload_rate,
                    sustained_minutes=policy.sustained_minutes)
    norms = load_norms(session)
    now = utcnow()
    rows = []
    for area_id, station_id, area_class in session.execute(
            select(col(TransformerArea.id), col(TransformerArea.station_id),
                   col(TransformerArea.area_class))
            .order_by(col(TransformerArea.id))):
        n_due, n_read, n_est = due.get(area_id, (0, 0, 0))
        supply_wh, supply_actual = supply.get(area_id, (None, 0))
        sold = sales.get(area_id, 0)
        rate = loss_rate(supply_wh, sold)
        reliable = reliable_day(supply_complete=supply_actual >= complete,
                                meters_due=n_due, meters_incomplete=n_due - n_read,
                                max_incomplete_share=policy.unreliable_share)
        verdict = classify_loss(rate, norms[area_class], baseline=baseline.get(area_id),
                                reliable=reliable)
        al = load.get(area_id)
        rows.append({
            "day": day, "area_id": area_id, "station_id": station_id, "meters_due": n_due,
            "meters_read": n_read, "meters_estimated": n_est, "supply_wh": supply_wh,
            "supply_complete": supply_actual >= complete, "sales_wh": sold,
            "loss_rate": rate, "baseline_loss": baseline.get(area_id),
            "loss_flag": verdict.flag.value, "loss_jump": verdict.jump,
            "reliable": verdict.reliable, "peak_load_rate": al.peak if al else None,
            "heavy_minutes": sum(r.length for r in al.heavy) * SLOT_MINUTES if al else 0,
            "overload_minutes": (sum(r.length for r in al.overload) * SLOT_MINUTES
                                 if al else 0),
            "load_flag": load_flag(heavy=al.heavy if al else [],
                                   overload=al.overload if al else [],
                                   has_data=al is not None).value,
            "computed_at": now})
    return rows
