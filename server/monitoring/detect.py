"""The anomaly detector: what the day's data says is wrong, as of one day.

It reads only what a real utility has — the register (meters, areas), the interval data
and the computed days — never the simulator's ground truth. Each finding is an
``Observation``; ``server.monitoring.loop`` keeps each once and turns some into jobs.

* ``collection_failing`` — a due meter with no complete day for ``failing_days`` in a
  row (listed with its last data and last register reading); when most of an area's
  meters fail together it is one ``concentrator_silent`` observation for the area;
* ``meter_stopped`` — read every day of ``stopped_days`` and zero every day, although it
  used power before and its neighbours use power now;
* ``loss_high`` / ``loss_negative`` / ``loss_jump`` — an area's reliable loss figure out
  of its norm band or off its own baseline;
* ``loss_suspect`` — in a reliable high-loss area, the meter whose usage fell most
  against its own history (the area's trend removed) and its neighbours;
* ``mapping_suspect`` — in a negative-loss area, the customer whose move to a high-loss
  area of the same station brings both areas into their norms, and whose load curve
  follows that area's unexplained loss;
* ``overload`` / ``heavy_load`` — the area's transformer sustained > 100 % (80-100 %).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from server.meters.models import Meter
from server.monitoring.analytics import day_bounds, due_clause
from server.monitoring.models import AreaDay, MeterDay, MeteringPoint, MonitoringPolicy
from server.monitoring.policy import load_norms
from server.monitoring.series import area_residual, meter_curves
from server.stations.models import TransformerArea
from shared.meter_rules import centi_to_kwh
from shared.monitoring.formulas import (
    SLOTS_PER_DAY,
    LossFlag,
    LossNorm,
    move_fit,
    pearson,
    stopped,
    suspect_score,
)

#: Share of an area's due meters failing together that means its concentrator is silent.
CONCENTRATOR_SHARE = 0.8
CONCENTRATOR_MIN_METERS = 5
#: A top suspect must score at least this to become an inspection job.
MIN_SUSPECT_SCORE = 0.3
#: A mapping suspect's curve must follow the other area's unexplained loss this well.
MIN_MAPPING_CORRELATION = 0.3
#: The lossiest areas of the station a negative area's customers are tried against.
MAX_MAPPING_PARTNERS = 3


@dataclass
class Observation:
    kind: str
    station_id: str
    area_id: str
    meter_id: str | None = None
    account_id: str | None = None
    score: float | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.area_id}:{self.meter_id or '-'}"


@dataclass
class MeterStats:
    meter_id: str
    meter_no: str
    account_id: str | None
    area_id: str
    station_id: str
    point_id: int | None
    installed_at: Any
    register_centi: int | None
    register_at: Any
    recent_wh: int = 0
    recent_n: int = 0
    hist_wh: int = 0
    hist_n: int = 0
    zero_n: int = 0
    last_ok: date | None = None
    last_data: date | None = None

    @property
    def recent_kwh(self) -> float | None:
        return self.recent_wh / self.recent_n / 1000 if self.recent_n else None

    @property
    def hist_kwh(self) -> float | None:
        return self.hist_wh / self.hist_n / 1000 if self.hist_n else None


def meter_stats(session: Session, *, day: date, policy: MonitoringPolicy,
                area_ids: list[str] | None = None, recent_from: date | None = None
                ) -> list[MeterStats]:
    """Every customer meter due on ``day`` with its complete days: recent (from
    ``recent_from``, default the policy's recent days) and the history before them."""
    md, mp, full = MeterDay, MeteringPoint, SLOTS_PER_DAY
    r0 = recent_from or day - timedelta(days=policy.recent_days - 1)
    h0 = r0 - timedelta(days=policy.history_days)
    s0 = day - timedelta(days=policy.stopped_days - 1)
    ok = col(md.actual_n) >= full
    stats: Any = (select(
        col(md.point_id),
        func.sum(case((and_(col(md.day) >= r0, ok), md.energy_wh), else_=0)).label("rw"),
        func.sum(case((and_(col(md.day) >= r0, ok), 1), else_=0)).label("rn"),
        func.sum(case((and_(col(md.day) < r0, ok), md.energy_wh), else_=0)).label("hw"),
        func.sum(case((and_(col(md.day) < r0, ok), 1), else_=0)).label("hn"),
        func.sum(case((and_(col(md.day) >= s0, ok, col(md.energy_wh) == 0), 1),
                      else_=0)).label("zn"),
        func.max(case((ok, md.day))).label("last_ok"),
        func.max(case((col(md.actual_n) > 0, md.day))).label("last_data"))
        .where(col(md.day) >= h0, col(md.day) <= day))
    if area_ids is not None:  # only the areas' points: not every meter's history
        stats = stats.where(col(md.point_id).in_(
            select(col(mp.id)).join(Meter, col(Meter.id) == col(mp.meter_id))
            .where(col(Meter.area_id).in_(area_ids))))
    stats = stats.group_by(col(md.point_id)).subquery()
    q = (select(col(Meter.id), col(Meter.meter_no), col(Meter.account_id),
                col(Meter.area_id), col(Meter.station_id),
                col(mp.id), col(Meter.installed_at), col(Meter.last_reading_centi),
                col(Meter.last_reading_at),
                stats.c.rw, stats.c.rn, stats.c.hw, stats.c.hn, stats.c.zn, stats.c.last_ok,
                stats.c.last_data)
         .select_from(Meter)
         .outerjoin(mp, col(mp.meter_id) == col(Meter.id))
         .outerjoin(stats, stats.c.point_id == col(mp.id))
         .where(due_clause(day)).order_by(col(Meter.meter_no)))
    if area_ids is not None:
        q = q.where(col(Meter.area_id).in_(area_ids))
    out = []
    for row in session.execute(q):
        (mid, no, acc, area, station, pid, inst, reg, reg_at,
         rw, rn, hw, hn, zn, last_ok, last_data) = row
        out.append(MeterStats(mid, no, acc, area, station, pid, inst, reg, reg_at,
                              int(rw or 0), int(rn or 0), int(hw or 0), int(hn or 0),
                              int(zn or 0), _as_date(last_ok), _as_date(last_data)))
    return out


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))  # SQLite hands MAX() of a date back as text


def detect(session: Session, *, day: date, policy: MonitoringPolicy) -> list[Observation]:
    """Everything wrong as of ``day`` (its analytics must be computed)."""
    areas = {a.id: a for a in session.exec(select(TransformerArea)).scalars()}  # type: ignore[call-overload]
    days = {r.area_id: r for r in session.exec(select(AreaDay).where(  # type: ignore[call-overload]
        col(AreaDay.day) == day)).scalars()}
    norms = load_norms(session)
    meters = meter_stats(session, day=day, policy=policy)
    by_area: dict[str, list[MeterStats]] = defaultdict(list)
    for m in meters:
        by_area[m.area_id].append(m)
    out: list[Observation] = []
    out += _collection(session, day, policy, by_area)
    out += _stopped(day, policy, by_area, days)
    out += _area_flags(days)
    mapping = _mapping(session, day, policy, by_area, days, areas, norms)
    out += mapping
    explained = {o.evidence["likely_area_id"] for o in mapping}
    out += _suspects(session, day, policy, days, norms, areas, explained)
    return out


def failing_meters(meters: list[MeterStats], *, day: date, failing_days: int
                   ) -> list[MeterStats]:
    """Meters (due all along) with no complete day in the last ``failing_days`` days."""
    first = day - timedelta(days=failing_days - 1)
    window_start, _ = day_bounds(first)
    return [m for m in meters if m.installed_at is not None
            and m.installed_at <= window_start and (m.last_ok is None or m.last_ok < first)]


def failing_evidence(session: Session, failing: list[MeterStats], *, day: date,
                     policy: MonitoringPolicy) -> dict[str, dict[str, Any]]:
    """Per failing meter: the days failed, its last data and last register reading."""
    last = _last_data(session, [m.point_id for m in failing if m.point_id], day)
    out = {}
    for m in failing:
        streak = (day - m.last_ok).days if m.last_ok else None
        out[m.meter_id] = {
            "day": day.isoformat(), "meter_no": m.meter_no, "failed_days": streak,
            "failing_days": policy.failing_days,
            "since_at_least": (None if streak else (day - timedelta(
                days=policy.recent_days + policy.history_days - 1)).isoformat()),
            "last_data_at": last.get(m.point_id) if m.point_id else None,
            "last_register_kwh": (str(centi_to_kwh(m.register_centi))
                                  if m.register_centi is not None else None),
            "last_register_at": m.register_at.isoformat() if m.register_at else None}
    return out


def _collection(session: Session, day: date, policy: MonitoringPolicy,
                by_area: dict[str, list[MeterStats]]) -> list[Observation]:
    out = []
    for area_id, meters in sorted(by_area.items()):
        failing = failing_meters(meters, day=day, failing_days=policy.failing_days)
        if not failing:
            continue
        station = meters[0].station_id
        if (len(meters) >= CONCENTRATOR_MIN_METERS
                and len(failing) >= CONCENTRATOR_SHARE * len(meters)):
            out.append(Observation("concentrator_silent", station, area_id, evidence={
                "day": day.isoformat(), "failing": len(failing), "due": len(meters),
                "failing_days": policy.failing_days,
                "meters": [m.meter_no for m in failing[:20]]}))
            continue
        evidence = failing_evidence(session, failing, day=day, policy=policy)
        for m in failing:
            out.append(Observation("collection_failing", m.station_id, area_id, m.meter_id,
                                   m.account_id, evidence=evidence[m.meter_id]))
    return out


def _last_data(session: Session, point_ids: list[int], day: date) -> dict[int, str]:
    """The end time of each point's last actual interval up to ``day`` (ISO, local)."""
    if not point_ids:
        return {}
    md = MeterDay
    last = (select(col(md.point_id), func.max(md.day).label("d")).where(
        col(md.point_id).in_(point_ids), col(md.actual_n) > 0, col(md.day) <= day)
        .group_by(col(md.point_id)).subquery())
    out = {}
    for pid, d, slot in session.execute(
            select(col(md.point_id), col(md.day), col(md.last_actual_slot)).join(
                last, and_(last.c.point_id == col(md.point_id), last.c.d == col(md.day)))):
        start, _ = day_bounds(_as_date(d))  # type: ignore[arg-type]
        out[pid] = (start + timedelta(minutes=15 * ((slot or 0) + 1))).isoformat()
    return out


def _stopped(day: date, policy: MonitoringPolicy, by_area: dict[str, list[MeterStats]],
             days: dict[str, AreaDay]) -> list[Observation]:
    out = []
    for area_id, meters in sorted(by_area.items()):
        others_use = sum(m.recent_wh for m in meters) > 0
        for m in meters:
            if stopped(recent_zero_days=m.zero_n, window_days=policy.stopped_days,
                       baseline_kwh=m.hist_kwh, neighbours_use=others_use):
                out.append(Observation("meter_stopped", m.station_id, area_id, m.meter_id,
                                       m.account_id, evidence={
                    "day": day.isoformat(), "meter_no": m.meter_no,
                    "zero_days": m.zero_n, "history_kwh_per_day": round(m.hist_kwh or 0, 2)}))
    return out


def _area_flags(days: dict[str, AreaDay]) -> list[Observation]:
    out = []
    for area_id, d in sorted(days.items()):
        base = {"day": d.day.isoformat(), "loss_rate": d.loss_rate,
                "baseline_loss": d.baseline_loss, "supply_kwh": (d.supply_wh or 0) / 1000,
                "sales_kwh": d.sales_wh / 1000}
        if d.reliable and d.loss_flag == LossFlag.HIGH:
            out.append(Observation("loss_high", d.station_id, area_id, evidence=base))
        if d.reliable and d.loss_flag == LossFlag.NEGATIVE:
            out.append(Observation("loss_negative", d.station_id, area_id, evidence=base))
        if d.reliable and d.loss_jump:
            out.append(Observation("loss_jump", d.station_id, area_id, evidence=base))
        load = {"day": d.day.isoformat(), "peak_load_rate": d.peak_load_rate,
                "heavy_minutes": d.heavy_minutes, "overload_minutes": d.overload_minutes}
        if d.load_flag == "overload":
            out.append(Observation("overload", d.station_id, area_id, evidence=load))
        elif d.load_flag == "heavy":
            out.append(Observation("heavy_load", d.station_id, area_id, evidence=load))
    return out


def rank_suspects(meters: list[MeterStats]) -> list[tuple[MeterStats, Any]]:
    """The area's meters, most suspect first (``shared.monitoring.formulas.suspect_score``)."""
    recent = [m.recent_kwh for m in meters if m.recent_kwh is not None]
    median = statistics.median(recent) if recent else None
    ratios = [m.recent_kwh / m.hist_kwh for m in meters
              if m.recent_kwh is not None and m.hist_kwh and m.hist_kwh >= 1.0]
    trend = statistics.median(ratios) if ratios else 1.0
    scored = []
    for m in meters:
        if m.recent_kwh is None:
            continue
        s = suspect_score(recent_kwh=m.recent_kwh, baseline_kwh=m.hist_kwh,
                          neighbour_median_kwh=median, area_trend=trend)
        scored.append((m, s))
    scored.sort(key=lambda ms: (-ms[1].score, ms[0].meter_no))
    return scored


def onset(session: Session, *, area_id: str, day: date, high: float, max_days: int) -> date:
    """The first day of the area's current run of days above ``high`` (at most
    ``max_days`` back): the usage drop that explains a loss is measured from there."""
    rows: dict[date, float | None] = dict(session.execute(select(  # type: ignore[arg-type]
        col(AreaDay.day), col(AreaDay.loss_rate)).where(
        col(AreaDay.area_id) == area_id, col(AreaDay.day) > day - timedelta(days=max_days),
        col(AreaDay.day) <= day)).all())
    first = day
    while first - timedelta(days=1) in rows and (rows[first - timedelta(days=1)] or 0) > high:
        first -= timedelta(days=1)
    return first


def _suspects(session: Session, day: date, policy: MonitoringPolicy,
              days: dict[str, AreaDay], norms: dict[str, LossNorm],
              areas: dict[str, TransformerArea], explained: set[str]) -> list[Observation]:
    out = []
    for area_id, d in sorted(days.items()):
        if not (d.reliable and d.loss_flag == LossFlag.HIGH) or area_id in explained:
            continue
        norm = norms[areas[area_id].area_class]
        since = onset(session, area_id=area_id, day=day, high=norm.high,
                      max_days=policy.recent_days)
        ranked = rank_suspects(meter_stats(session, day=day, policy=policy,
                                           area_ids=[area_id], recent_from=since))
        if not ranked or ranked[0][1].score < MIN_SUSPECT_SCORE:
            continue
        top, s = ranked[0]
        out.append(Observation("loss_suspect", d.station_id, area_id, top.meter_id,
                               top.account_id, s.score, evidence={
            "day": day.isoformat(), "meter_no": top.meter_no, "loss_rate": d.loss_rate,
            "norm_high": norm.high, "high_since": since.isoformat(),
            "recent_kwh_per_day": round(top.recent_kwh or 0, 2),
            "history_kwh_per_day": round(top.hist_kwh or 0, 2),
            "own_drop": round(s.own_drop, 3), "below_neighbours": round(s.below_neighbours, 3),
            "ranking": [{"meter_no": m.meter_no, "score": sc.score} for m, sc in ranked[:5]]}))
    return out


def _mapping(session: Session, day: date, policy: MonitoringPolicy,
             by_area: dict[str, list[MeterStats]], days: dict[str, AreaDay],
             areas: dict[str, TransformerArea], norms: dict[str, LossNorm]
             ) -> list[Observation]:
    """For each reliable negative-loss area A: the customer that best explains it as
    belonging to a lossy area B of the same station."""
    out = []
    first = day - timedelta(days=policy.recent_days - 1)
    window = [first + timedelta(days=i) for i in range(policy.recent_days)]
    totals = _window_totals(session, first, day)
    residuals: dict[str, Any] = {}
    for a_id, da in sorted(days.items()):
        if not (da.reliable and da.loss_flag == LossFlag.NEGATIVE):
            continue
        norm_a = norms[areas[a_id].area_class]
        lossy = sorted((b for b, db in days.items() if b != a_id
                        and db.station_id == da.station_id and db.loss_rate is not None
                        and db.loss_rate > (norms[areas[b].area_class].low
                                            + norms[areas[b].area_class].high) / 2),
                       key=lambda b: -(days[b].loss_rate or 0))[:MAX_MAPPING_PARTNERS]
        if not lossy or a_id not in totals:
            continue
        candidates = [m for m in by_area.get(a_id, []) if m.point_id and m.recent_n]
        curves = meter_curves(session, [m.point_id for m in candidates if m.point_id], window)
        best: tuple[float, MeterStats, str, Any, float] | None = None
        for b_id in lossy:
            if b_id not in totals:
                continue
            if b_id not in residuals:
                residuals[b_id] = area_residual(session, b_id, window)
            residual = residuals[b_id]
            (sa, la), (sb, lb) = totals[a_id], totals[b_id]
            for m in candidates:
                fit = move_fit(supply_a=sa, sales_a=la, supply_b=sb, sales_b=lb,
                               meter_wh=m.recent_wh, norm_a=norm_a,
                               norm_b=norms[areas[b_id].area_class])
                if fit is None or fit.improvement <= 0:
                    continue
                corr = pearson(*_aligned(curves.get(m.point_id or 0, {}), residual))
                if corr < MIN_MAPPING_CORRELATION:
                    continue
                score = fit.improvement * corr
                if best is None or score > best[0]:
                    best = (score, m, b_id, fit, corr)
        if best is not None:
            score, m, b_id, fit, corr = best
            out.append(Observation("mapping_suspect", m.station_id, a_id, m.meter_id,
                                   m.account_id, round(score, 6), evidence={
                "day": day.isoformat(), "meter_no": m.meter_no, "registered_area_id": a_id,
                "registered_area": areas[a_id].name, "likely_area_id": b_id,
                "likely_area": areas[b_id].name, "loss_registered": da.loss_rate,
                "loss_likely": days[b_id].loss_rate,
                "loss_registered_after_move": round(fit.loss_a_after, 4),
                "loss_likely_after_move": round(fit.loss_b_after, 4),
                "correlation": round(corr, 3)}))
    return out


def _window_totals(session: Session, first: date, last: date) -> dict[str, tuple[int, int]]:
    """(supply, sales) Wh of each area over the days, from the computed days."""
    rows = session.execute(select(col(AreaDay.area_id), func.sum(AreaDay.supply_wh),
                                  func.sum(AreaDay.sales_wh))
                           .where(col(AreaDay.day) >= first, col(AreaDay.day) <= last)
                           .group_by(col(AreaDay.area_id)))
    return {a: (int(s or 0), int(t or 0)) for a, s, t in rows}


def _aligned(curve: dict[tuple[date, int], int], residual: dict[tuple[date, int], int]
             ) -> tuple[list[float], list[float]]:
    keys = sorted(curve.keys() & residual.keys())
    return [float(curve[k]) for k in keys], [float(residual[k]) for k in keys]
