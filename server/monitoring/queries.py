"""What the office screens read: overviews, the area drill-down, load curves, the loss
trend with its norm band, the collection heat map, failing meters and the anomaly list.

Every function takes the actor and shows only what they may see: dispatchers and managers
of a station their station (someone else's area is a 404), county-wide office staff and
admins everything; field roles and customers are refused (403). Tables come back as a
``Table`` (columns with Chinese and English headings, rows of plain values) so the JSON
endpoints and the CSV/XLSX exports (``exports``) show exactly the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, true
from sqlmodel import Session, col, select

from server.customers.models import Account
from server.meters.models import Meter
from server.monitoring.analytics import day_bounds
from server.monitoring.detect import (
    failing_evidence,
    failing_meters,
    meter_stats,
    rank_suspects,
)
from server.monitoring.load import area_curve
from server.monitoring.models import Anomaly as AnomalyRow
from server.monitoring.models import AreaDay, MeterDay, MeteringPoint
from server.monitoring.policy import load_norms, load_policy
from server.stations.models import Station, TransformerArea
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.monitoring.formulas import (
    SLOT_MINUTES,
    collection_rate,
    loss_rate,
    runs_above,
)
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

MAX_TREND_DAYS = 400
MAX_HEATMAP_DAYS = 92


@dataclass
class Table:
    name: str
    columns: list[tuple[str, str, str]]  # key, Chinese heading, English heading
    rows: list[dict[str, Any]] = field(default_factory=list)


# -- who sees what ---------------------------------------------------------------------------
def station_scope(actor: Actor) -> str | None:
    """The station an office user is limited to (None: the whole county)."""
    if actor.role == Role.ADMIN:
        return None
    if actor.role in (Role.DISPATCHER, Role.MANAGER):
        return actor.station_id
    raise DomainError(ErrorCode.FORBIDDEN)


def visible_area(session: Session, actor: Actor, area_id: str) -> TransformerArea:
    scope = station_scope(actor)
    area = session.get(TransformerArea, area_id)
    if area is None or (scope is not None and area.station_id != scope):
        raise DomainError(ErrorCode.AREA_NOT_FOUND, area=area_id)
    return area


def _station_filter(actor: Actor, station_id: str | None) -> str | None:
    """The station to show: the asked one within the actor's scope (another: 404)."""
    scope = station_scope(actor)
    if station_id is not None and scope is not None and station_id != scope:
        raise DomainError(ErrorCode.STATION_NOT_FOUND, station=station_id)
    return station_id or scope


def resolve_day(session: Session, day: date | None) -> date:
    """The asked day, or the newest computed one (yesterday before any)."""
    if day is not None:
        return day
    latest = session.exec(select(func.max(AreaDay.day))).one()
    return latest or (utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1))


def check_range(first: date, last: date, most: int) -> None:
    if first > last:
        raise DomainError(ErrorCode.MONITORING_RANGE_INVALID, reason="from is after to")
    if (last - first).days + 1 > most:
        raise DomainError(ErrorCode.MONITORING_RANGE_INVALID, reason=f"at most {most} days")


def _kwh(wh: int | None) -> float | None:
    return None if wh is None else round(wh / 1000, 3)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# -- overviews -------------------------------------------------------------------------------
STATION_COLUMNS = [
    ("station_code", "供电所编号", "Station code"), ("station", "供电所", "Station"),
    ("areas", "台区数", "Areas"), ("meters_due", "应采", "Meters due"),
    ("meters_read", "实采", "Meters read"), ("collection_rate", "采集成功率", "Collection rate"),
    ("collection_flagged", "低于目标", "Below target"),
    ("supply_kwh", "供电量 kWh", "Supply kWh"), ("sales_kwh", "售电量 kWh", "Sales kWh"),
    ("loss_rate", "线损率", "Loss rate"), ("areas_loss_high", "高损台区", "High-loss areas"),
    ("areas_loss_negative", "负损台区", "Negative-loss areas"),
    ("areas_unreliable", "数据不可靠台区", "Unreliable areas"),
    ("areas_overload", "过载台区", "Overloaded areas"),
    ("areas_heavy", "重载台区", "Heavy-load areas"),
    ("open_anomalies", "未结异常", "Open anomalies"), ("open_jobs", "在办工单", "Open jobs"),
]


def overview(session: Session, actor: Actor, *, day: date | None,
             station_id: str | None = None) -> tuple[date, Table, dict[str, Any]]:
    """Per station (and county totals) of one day."""
    station = _station_filter(actor, station_id)
    day = resolve_day(session, day)
    target = load_policy(session).collection_target
    q = select(Station).order_by(col(Station.code))
    if station is not None:
        q = q.where(Station.id == station)
    stations = session.exec(q).all()
    days = session.exec(select(AreaDay).where(AreaDay.day == day)).all()
    open_by = dict(session.exec(select(col(AnomalyRow.station_id), func.count()).where(
        col(AnomalyRow.open_key).is_not(None)).group_by(col(AnomalyRow.station_id))).all())
    jobs_by = dict(session.exec(select(col(AnomalyRow.station_id), func.count()).where(
        AnomalyRow.status == "job").group_by(col(AnomalyRow.station_id))).all())
    table = Table("stations", STATION_COLUMNS)
    totals = {"supply": 0, "sales": 0, "supply_for_loss": 0, "sales_for_loss": 0,
              "due": 0, "read": 0}
    for st in stations:
        mine = [d for d in days if d.station_id == st.id]
        due, read = sum(d.meters_due for d in mine), sum(d.meters_read for d in mine)
        with_supply = [d for d in mine if d.supply_wh]
        supply = sum(d.supply_wh or 0 for d in with_supply)
        sales = sum(d.sales_wh for d in with_supply)
        rate = collection_rate(read, due)
        table.rows.append({
            "station_id": st.id, "station_code": st.code, "station": st.name,
            "areas": len(mine), "meters_due": due, "meters_read": read,
            "collection_rate": _rate(rate),
            "collection_flagged": rate is not None and rate < target,
            "supply_kwh": _kwh(supply), "sales_kwh": _kwh(sales),
            "loss_rate": _rate(loss_rate(supply, sales)),
            "areas_loss_high": sum(d.loss_flag == "high" for d in mine),
            "areas_loss_negative": sum(d.loss_flag == "negative" for d in mine),
            "areas_unreliable": sum(not d.reliable for d in mine),
            "areas_overload": sum(d.load_flag == "overload" for d in mine),
            "areas_heavy": sum(d.load_flag == "heavy" for d in mine),
            "open_anomalies": int(open_by.get(st.id, 0)), "open_jobs": int(jobs_by.get(st.id, 0))})
        totals["due"] += due
        totals["read"] += read
        totals["supply"] += supply
        totals["sales"] += sales
    rate = collection_rate(totals["read"], totals["due"])
    county = {"day": day.isoformat(), "meters_due": totals["due"],
              "meters_read": totals["read"], "collection_rate": _rate(rate),
              "collection_target": target,
              "collection_flagged": rate is not None and rate < target,
              "supply_kwh": _kwh(totals["supply"]), "sales_kwh": _kwh(totals["sales"]),
              "loss_rate": _rate(loss_rate(totals["supply"], totals["sales"]))}
    return day, table, county


AREA_COLUMNS = [
    ("area_code", "台区编号", "Area code"), ("area", "台区", "Area"),
    ("station", "供电所", "Station"), ("area_class", "类别", "Type"),
    ("rated_kva", "容量 kVA", "Rated kVA"), ("meters_due", "应采", "Meters due"),
    ("meters_read", "实采", "Meters read"), ("meters_estimated", "估算", "Estimated"),
    ("collection_rate", "采集成功率", "Collection rate"),
    ("collection_flagged", "低于目标", "Below target"),
    ("supply_kwh", "供电量 kWh", "Supply kWh"), ("sales_kwh", "售电量 kWh", "Sales kWh"),
    ("loss_rate", "线损率", "Loss rate"), ("norm_low", "标准下限", "Norm low"),
    ("norm_high", "标准上限", "Norm high"), ("baseline_loss", "基准线损", "Baseline"),
    ("loss_flag", "线损状态", "Loss flag"), ("loss_jump", "突变", "Jump"),
    ("reliable", "数据可靠", "Reliable"), ("peak_load_rate", "最大负载率", "Peak load rate"),
    ("heavy_minutes", "重载分钟", "Heavy minutes"),
    ("overload_minutes", "过载分钟", "Overload minutes"), ("load_flag", "负载状态", "Load flag"),
    ("open_anomalies", "未结异常", "Open anomalies"),
]


def areas(session: Session, actor: Actor, *, day: date | None, station_id: str | None = None,
          area_id: str | None = None) -> tuple[date, Table]:
    """Every visible area's day (the station overview's table)."""
    station = _station_filter(actor, station_id)
    day = resolve_day(session, day)
    target = load_policy(session).collection_target
    norms = load_norms(session)
    q = (select(TransformerArea, col(Station.name), AreaDay)
         .join(Station, col(Station.id) == col(TransformerArea.station_id))
         .outerjoin(AreaDay, and_(col(AreaDay.area_id) == col(TransformerArea.id),
                                  col(AreaDay.day) == day))
         .order_by(col(TransformerArea.code)))
    if station is not None:
        q = q.where(TransformerArea.station_id == station)
    if area_id is not None:
        q = q.where(TransformerArea.id == area_id)
    open_by = dict(session.exec(select(col(AnomalyRow.area_id), func.count()).where(
        col(AnomalyRow.open_key).is_not(None)).group_by(col(AnomalyRow.area_id))).all())
    table = Table("areas", AREA_COLUMNS)
    for area, station_name, d in session.exec(q).all():
        norm = norms[area.area_class]
        rate = collection_rate(d.meters_read, d.meters_due) if d else None
        table.rows.append({
            "area_id": area.id, "area_code": area.code, "area": area.name,
            "station_id": area.station_id, "station": station_name,
            "area_class": area.area_class, "rated_kva": area.rated_kva,
            "meters_due": d.meters_due if d else None, "meters_read": d.meters_read if d else None,
            "meters_estimated": d.meters_estimated if d else None,
            "collection_rate": _rate(rate),
            "collection_flagged": rate is not None and rate < target,
            "supply_kwh": _kwh(d.supply_wh) if d else None,
            "sales_kwh": _kwh(d.sales_wh) if d else None,
            "loss_rate": _rate(d.loss_rate) if d else None, "norm_low": norm.low,
            "norm_high": norm.high, "baseline_loss": _rate(d.baseline_loss) if d else None,
            "loss_flag": d.loss_flag if d else None, "loss_jump": d.loss_jump if d else None,
            "reliable": d.reliable if d else None,
            "peak_load_rate": _rate(d.peak_load_rate) if d else None,
            "heavy_minutes": d.heavy_minutes if d else None,
            "overload_minutes": d.overload_minutes if d else None,
            "load_flag": d.load_flag if d else None,
            "open_anomalies": int(open_by.get(area.id, 0))})
    return day, table


# -- drill-down: an area's meters ----------------------------------------------------------
METER_COLUMNS = [
    ("meter_no", "表号", "Meter"), ("account_no", "户号", "Account"),
    ("customer", "户名", "Customer"), ("customer_type", "用户类别", "Customer type"),
    ("day_kwh", "当日电量 kWh", "Day kWh"), ("actual_intervals", "实采点数", "Actual intervals"),
    ("estimated_intervals", "估算点数", "Estimated intervals"), ("read", "采集成功", "Read"),
    ("recent_kwh_per_day", "近期日均 kWh", "Recent kWh/day"),
    ("history_kwh_per_day", "此前日均 kWh", "Earlier kWh/day"),
    ("suspect_score", "嫌疑分", "Suspect score"), ("anomalies", "异常", "Anomalies"),
]


def area_meters(session: Session, actor: Actor, *, area_id: str, day: date | None
                ) -> tuple[date, Table]:
    """The area's meters on the day, most suspect first."""
    area = visible_area(session, actor, area_id)
    day = resolve_day(session, day)
    policy = load_policy(session)
    stats = meter_stats(session, day=day, policy=policy, area_ids=[area.id])
    ranked = rank_suspects(stats)
    scores = {m.meter_id: s.score for m, s in ranked}
    md = {pid: (wh, a, e) for pid, wh, a, e in session.exec(
        select(col(MeterDay.point_id), col(MeterDay.energy_wh), col(MeterDay.actual_n),
               col(MeterDay.estimated_n))
        .join(MeteringPoint, col(MeteringPoint.id) == col(MeterDay.point_id))
        .join(Meter, col(Meter.id) == col(MeteringPoint.meter_id))
        .where(MeterDay.day == day, Meter.area_id == area.id)).all()}
    accounts = {a.id: a for a in session.exec(select(Account).where(
        col(Account.id).in_([m.account_id for m in stats if m.account_id]))).all()}
    flags: dict[str, list[str]] = {}
    for meter_id, kind in session.exec(select(col(AnomalyRow.meter_id), col(AnomalyRow.kind)).where(
            AnomalyRow.area_id == area.id, col(AnomalyRow.meter_id).is_not(None),
            or_(col(AnomalyRow.open_key).is_not(None),
                col(AnomalyRow.last_day) >= day - timedelta(days=30)))).all():
        flags.setdefault(meter_id or "", []).append(kind)
    table = Table("meters", METER_COLUMNS)
    order = {m.meter_id: i for i, (m, _) in enumerate(ranked)}
    for m in sorted(stats, key=lambda m: (order.get(m.meter_id, 10**9), m.meter_no)):
        wh, actual, est = md.get(m.point_id or -1, (None, 0, 0))
        acc = accounts.get(m.account_id or "")
        table.rows.append({
            "meter_id": m.meter_id, "meter_no": m.meter_no, "account_id": m.account_id,
            "account_no": acc.account_no if acc else None, "customer": acc.name if acc else None,
            "customer_type": acc.customer_type if acc else None, "day_kwh": _kwh(wh),
            "actual_intervals": actual, "estimated_intervals": est, "read": actual >= 96,
            "recent_kwh_per_day": None if m.recent_kwh is None else round(m.recent_kwh, 3),
            "history_kwh_per_day": None if m.hist_kwh is None else round(m.hist_kwh, 3),
            "suspect_score": scores.get(m.meter_id),
            "anomalies": ", ".join(sorted(set(flags.get(m.meter_id, [])))) or None})
    return day, table


# -- load curve --------------------------------------------------------------------------------
def load_day(session: Session, actor: Actor, *, area_id: str, day: date | None
             ) -> dict[str, Any]:
    """The area transformer's 96 points: kW, kVA and load rate, with the thresholds and the
    sustained heavy / overload runs."""
    area = visible_area(session, actor, area_id)
    day = resolve_day(session, day)
    policy = load_policy(session)
    pf = session.exec(select(col(MeteringPoint.power_factor)).where(
        MeteringPoint.kind == "supply", MeteringPoint.area_id == area.id)).first()
    pf = pf or policy.power_factor
    start, _ = day_bounds(day)
    points = []
    rates = {}
    for slot, wh, est, rate in area_curve(session, area_id=area.id, day=day,
                                          power_factor=policy.power_factor):
        kw = wh * 4 / 1000
        rates[slot] = rate
        points.append({"slot": slot, "time": (start + timedelta(minutes=SLOT_MINUTES * slot))
                       .strftime("%H:%M"), "kw": round(kw, 3), "kva": round(kw / pf, 3),
                       "load_rate": round(rate, 4), "estimated": est})
    min_slots = -(-policy.sustained_minutes // SLOT_MINUTES)

    def runs(thr: float, strict: bool) -> list[dict[str, Any]]:
        return [{"start": (start + timedelta(minutes=SLOT_MINUTES * r.start)).strftime("%H:%M"),
                 "minutes": r.minutes} for r in runs_above(rates, thr, strict=strict,
                                                             min_slots=min_slots)]

    return {"area_id": area.id, "area": area.name, "day": day.isoformat(),
            "rated_kva": area.rated_kva, "power_factor": pf, "heavy_rate": policy.heavy_rate,
            "overload_rate": policy.overload_rate,
            "sustained_minutes": policy.sustained_minutes, "points": points,
            "heavy_runs": runs(policy.heavy_rate, False),
            "overload_runs": runs(policy.overload_rate, True)}


# -- loss trend ------------------------------------------------------------------------------
TREND_COLUMNS = [
    ("period", "日期", "Period"), ("supply_kwh", "供电量 kWh", "Supply kWh"),
    ("sales_kwh", "售电量 kWh", "Sales kWh"), ("loss_rate", "线损率", "Loss rate"),
    ("norm_low", "标准下限", "Norm low"), ("norm_high", "标准上限", "Norm high"),
    ("baseline_loss", "基准线损", "Baseline"), ("loss_flag", "线损状态", "Loss flag"),
    ("loss_jump", "突变", "Jump"), ("reliable", "数据可靠", "Reliable"),
    ("days", "天数", "Days"), ("unreliable_days", "不可靠天数", "Unreliable days"),
]


def loss_trend(session: Session, actor: Actor, *, area_id: str, first: date, last: date,
               by: str = "day") -> Table:
    """The area's loss by day (or month: sums of supply and sales) with its norm band."""
    area = visible_area(session, actor, area_id)
    check_range(first, last, MAX_TREND_DAYS)
    norm = load_norms(session)[area.area_class]
    rows = session.exec(select(AreaDay).where(
        AreaDay.area_id == area.id, col(AreaDay.day) >= first, col(AreaDay.day) <= last)
        .order_by(col(AreaDay.day))).all()
    table = Table("loss_trend", TREND_COLUMNS)
    if by == "day":
        for d in rows:
            table.rows.append({
                "period": d.day.isoformat(), "supply_kwh": _kwh(d.supply_wh),
                "sales_kwh": _kwh(d.sales_wh), "loss_rate": _rate(d.loss_rate),
                "norm_low": norm.low, "norm_high": norm.high,
                "baseline_loss": _rate(d.baseline_loss), "loss_flag": d.loss_flag,
                "loss_jump": d.loss_jump, "reliable": d.reliable, "days": 1,
                "unreliable_days": 0 if d.reliable else 1})
        return table
    months: dict[str, list[AreaDay]] = {}
    for d in rows:
        months.setdefault(f"{d.day:%Y-%m}", []).append(d)
    for month, ds in sorted(months.items()):
        with_supply = [d for d in ds if d.supply_wh]
        supply = sum(d.supply_wh or 0 for d in with_supply)
        sales = sum(d.sales_wh for d in with_supply)
        rate = loss_rate(supply, sales)
        flag = ("no_supply" if rate is None else "negative" if rate < 0
                else "high" if rate > norm.high else "low" if rate < norm.low else "normal")
        unreliable = sum(not d.reliable for d in ds)
        table.rows.append({
            "period": month, "supply_kwh": _kwh(supply), "sales_kwh": _kwh(sales),
            "loss_rate": _rate(rate), "norm_low": norm.low, "norm_high": norm.high,
            "baseline_loss": None, "loss_flag": flag, "loss_jump": None,
            "reliable": unreliable == 0, "days": len(ds), "unreliable_days": unreliable})
    return table


# -- collection heat map and failing meters --------------------------------------------------
def heatmap(session: Session, actor: Actor, *, first: date, last: date,
            station_id: str | None = None) -> tuple[dict[str, Any], Table]:
    """Collection success rate by area (rows) and day (columns)."""
    station = _station_filter(actor, station_id)
    check_range(first, last, MAX_HEATMAP_DAYS)
    target = load_policy(session).collection_target
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    q = select(TransformerArea).order_by(col(TransformerArea.code))
    if station is not None:
        q = q.where(TransformerArea.station_id == station)
    area_list = session.exec(q).all()
    cells = {(a, d): (r, n) for a, d, r, n in session.exec(
        select(col(AreaDay.area_id), col(AreaDay.day), col(AreaDay.meters_read),
               col(AreaDay.meters_due)).where(
            col(AreaDay.day) >= first, col(AreaDay.day) <= last)).all()}
    columns = [("area_code", "台区编号", "Area code"), ("area", "台区", "Area")] + [
        (d.isoformat(), d.isoformat(), d.isoformat()) for d in days]
    table = Table("collection_heatmap", columns)
    matrix = []
    for a in area_list:
        rates = [_rate(collection_rate(*cells[(a.id, d)])) if (a.id, d) in cells else None
                 for d in days]
        matrix.append(rates)
        table.rows.append({"area_id": a.id, "area_code": a.code, "area": a.name,
                           **{d.isoformat(): r for d, r in zip(days, rates, strict=True)}})
    data = {"from": first.isoformat(), "to": last.isoformat(), "target": target,
            "days": [d.isoformat() for d in days],
            "areas": [{"id": a.id, "code": a.code, "name": a.name, "station_id": a.station_id}
                      for a in area_list], "rates": matrix}
    return data, table


FAILING_COLUMNS = [
    ("meter_no", "表号", "Meter"), ("area_code", "台区编号", "Area code"),
    ("area", "台区", "Area"), ("account_no", "户号", "Account"),
    ("failed_days", "连续失败天数", "Days failed"), ("at_least", "至少", "At least"),
    ("last_data_at", "最后数据时间", "Last data at"),
    ("last_register_kwh", "最后示数 kWh", "Last register kWh"),
    ("last_register_at", "最后示数时间", "Last register at"),
]


def failing(session: Session, actor: Actor, *, day: date | None,
            station_id: str | None = None, days_in_row: int | None = None
            ) -> tuple[date, Table]:
    """Meters with no complete day for N days in a row (N: the policy's, or asked)."""
    station = _station_filter(actor, station_id)
    day = resolve_day(session, day)
    policy = load_policy(session)
    n = days_in_row or policy.failing_days
    area_q = select(TransformerArea)
    if station is not None:
        area_q = area_q.where(TransformerArea.station_id == station)
    area_map = {a.id: a for a in session.exec(area_q).all()}
    stats = meter_stats(session, day=day, policy=policy, area_ids=sorted(area_map))
    bad = failing_meters(stats, day=day, failing_days=n)
    evidence = failing_evidence(session, bad, day=day, policy=policy)
    accounts = dict(session.exec(select(col(Account.id), col(Account.account_no)).where(
        col(Account.id).in_([m.account_id for m in bad if m.account_id]))).all())
    table = Table("failing_meters", FAILING_COLUMNS)
    for m in sorted(bad, key=lambda m: (area_map[m.area_id].code, m.meter_no)):
        ev = evidence[m.meter_id]
        table.rows.append({
            "meter_id": m.meter_id, "meter_no": m.meter_no, "area_id": m.area_id,
            "area_code": area_map[m.area_id].code, "area": area_map[m.area_id].name,
            "account_no": accounts.get(m.account_id or ""),
            "failed_days": ev["failed_days"] or policy.recent_days + policy.history_days,
            "at_least": ev["failed_days"] is None,
            "last_data_at": ev["last_data_at"], "last_register_kwh": ev["last_register_kwh"],
            "last_register_at": ev["last_register_at"]})
    return day, table


# -- anomalies ----------------------------------------------------------------------------
ANOMALY_COLUMNS = [
    ("kind", "异常类型", "Kind"), ("status", "状态", "Status"),
    ("area_code", "台区编号", "Area code"),
    ("area", "台区", "Area"), ("meter_no", "表号", "Meter"), ("first_day", "首次", "First day"),
    ("last_day", "最近", "Last day"), ("score", "分值", "Score"),
    ("work_order_code", "工单", "Job"), ("work_order_status", "工单状态", "Job status"),
    ("assignee", "处理人", "Assignee"), ("finding", "检查结果", "Finding"),
    ("follow_up_code", "后续工单", "Follow-up job"),
]


def anomalies(session: Session, actor: Actor, *, status: str | None = None,
              kind: str | None = None, station_id: str | None = None,
              area_id: str | None = None, open_only: bool = False, limit: int = 100,
              offset: int = 0) -> tuple[Table, int]:
    station = _station_filter(actor, station_id)
    a = AnomalyRow
    conds: list[Any] = []
    if station is not None:
        conds.append(a.station_id == station)
    if status:
        conds.append(a.status == status)
    if kind:
        conds.append(a.kind == kind)
    if area_id:
        conds.append(a.area_id == area_id)
    if open_only:
        conds.append(col(a.open_key).is_not(None))
    where = and_(*conds) if conds else true()
    total = session.exec(select(func.count()).select_from(a).where(where)).one()
    rows = session.exec(select(a).where(where).order_by(col(a.last_day).desc(),
                                                        col(a.created_at).desc())
                        .limit(limit).offset(offset)).all()
    return Table("anomalies", ANOMALY_COLUMNS, anomaly_rows(session, list(rows))), int(total)


def anomaly_rows(session: Session, rows: list[AnomalyRow]) -> list[dict[str, Any]]:
    areas_ = {x.id: x for x in session.exec(select(TransformerArea).where(
        col(TransformerArea.id).in_({r.area_id for r in rows}))).all()}
    meters = dict(session.exec(select(col(Meter.id), col(Meter.meter_no)).where(
        col(Meter.id).in_({r.meter_id for r in rows if r.meter_id}))).all())
    order_ids = {r.work_order_id for r in rows if r.work_order_id} | {
        r.follow_up_work_order_id for r in rows if r.follow_up_work_order_id}
    orders = {o.id: o for o in session.exec(select(WorkOrder).where(
        col(WorkOrder.id).in_(order_ids))).all()}
    people = dict(session.exec(select(col(User.id), col(User.display_name)).where(
        col(User.id).in_({o.assignee_id for o in orders.values() if o.assignee_id}))).all())
    out = []
    for r in rows:
        job = orders.get(r.work_order_id or "")
        follow = orders.get(r.follow_up_work_order_id or "")
        out.append({
            "id": r.id, "kind": r.kind, "status": r.status, "area_id": r.area_id,
            "area_code": areas_[r.area_id].code, "area": areas_[r.area_id].name,
            "station_id": r.station_id, "meter_id": r.meter_id,
            "meter_no": meters.get(r.meter_id or ""), "account_id": r.account_id,
            "first_day": r.first_day.isoformat(), "last_day": r.last_day.isoformat(),
            "score": r.score, "work_order_id": r.work_order_id,
            "work_order_code": job.code if job else None,
            "work_order_status": job.status if job else None,
            "assignee": people.get(job.assignee_id or "") if job else None,
            "finding": r.finding_outcome, "follow_up_work_order_id": r.follow_up_work_order_id,
            "follow_up_code": follow.code if follow else None, "evidence": r.evidence})
    return out


def get_anomaly(session: Session, actor: Actor, anomaly_id: str) -> dict[str, Any]:
    scope = station_scope(actor)
    row = session.get(AnomalyRow, anomaly_id)
    if row is None or (scope is not None and row.station_id != scope):
        raise DomainError(ErrorCode.ANOMALY_NOT_FOUND, anomaly=anomaly_id)
    return anomaly_rows(session, [row])[0]
