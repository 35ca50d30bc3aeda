"""``/api/v1/monitoring``: the office's monitoring screens, exports, settings, the interval
import and the run; ``/api/v1/work-orders/{id}/inspection…``: a monitoring job's evidence
and its finding.

Office roles only (field roles and customers: 403); a station's dispatchers and managers
see their station (another station's area or anomaly is a 404), county-wide office
staff and admins everything. Imports, runs and settings changes are for admins.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from server.billing.schemas import ImportRowOut
from server.deps import CurrentUser, DatabaseDep, LangDep, SessionDep, require_roles
from server.monitoring import exports, queries
from server.monitoring.findings import FindingResult, record_finding
from server.monitoring.ingest import IntervalReport, import_intervals, json_rows, text_rows
from server.monitoring.models import Anomaly, InspectionFinding, LossNormRow, MeteringPoint
from server.monitoring.points import SUPPLY, register_supply
from server.monitoring.policy import load_norms, load_policy, update_norm, update_policy
from server.monitoring.schemas import (
    AnomalyPage,
    AreaDetailOut,
    ColumnOut,
    DayTableOut,
    FindingIn,
    FindingOut,
    InspectionOut,
    IntervalImportIn,
    IntervalImportOut,
    MasterMeterIn,
    MasterMeterOut,
    NormIn,
    NormOut,
    OverviewOut,
    PolicyIn,
    PolicyOut,
    RunIn,
    RunOut,
    TableOut,
)
from server.monitoring.service import analyse
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import centi_to_kwh

monitoring = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])
inspections = APIRouter(prefix="/api/v1/work-orders", tags=["monitoring"])
_OFFICE = require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
_ADMIN = require_roles(Role.ADMIN)
Day = Annotated[date | None, Query(description="Local day (default: newest computed)")]
StationQ = Annotated[str | None, Query(max_length=36)]
Id = Annotated[str, Query(max_length=36)]


def table_out(table: queries.Table, lang: str) -> TableOut:
    return TableOut(name=table.name, rows=table.rows, columns=[
        ColumnOut(key=k, label=en if lang == "en" else zh) for k, zh, en in table.columns])


def _default_range(session: Session, first: date | None, last: date | None, days: int
                   ) -> tuple[date, date]:
    last = last or queries.resolve_day(session, None)
    return first or last - timedelta(days=days - 1), last


# -- screens -------------------------------------------------------------------------------
@monitoring.get("/overview", response_model=OverviewOut, dependencies=[_OFFICE],
                summary="County (or my station's) overview of a day, per station")
def overview(user: CurrentUser, session: SessionDep, lang: LangDep, day: Day = None,
             station_id: StationQ = None) -> OverviewOut:
    d, table, county = queries.overview(session, user.actor, day=day, station_id=station_id)
    return OverviewOut(day=d, county=county, stations=table_out(table, lang))


@monitoring.get("/areas", response_model=DayTableOut, dependencies=[_OFFICE],
                summary="Every area's day: collection, line loss, load, flags")
def areas(user: CurrentUser, session: SessionDep, lang: LangDep, day: Day = None,
          station_id: StationQ = None) -> DayTableOut:
    d, table = queries.areas(session, user.actor, day=day, station_id=station_id)
    return DayTableOut(day=d, table=table_out(table, lang))


@monitoring.get("/areas/{area_id}", response_model=AreaDetailOut, dependencies=[_OFFICE],
                summary="Drill-down: the area's day and its meters, most suspect first")
def area_detail(area_id: str, user: CurrentUser, session: SessionDep, lang: LangDep,
                day: Day = None) -> AreaDetailOut:
    d, meters = queries.area_meters(session, user.actor, area_id=area_id, day=day)
    _, table = queries.areas(session, user.actor, day=d, area_id=area_id)
    found, _ = queries.anomalies(session, user.actor, area_id=area_id, limit=50)
    return AreaDetailOut(day=d, area=table.rows[0], meters=table_out(meters, lang),
                         anomalies=table_out(found, lang))


@monitoring.get("/areas/{area_id}/load", dependencies=[_OFFICE],
                summary="The transformer's load curve of a day (96 points) with thresholds")
def area_load(area_id: str, user: CurrentUser, session: SessionDep,
              day: Day = None) -> dict[str, Any]:
    return queries.load_day(session, user.actor, area_id=area_id, day=day)


@monitoring.get("/areas/{area_id}/loss", response_model=TableOut, dependencies=[_OFFICE],
                summary="Line-loss trend by day or month, with the area type's norm band")
def area_loss(area_id: str, user: CurrentUser, session: SessionDep, lang: LangDep,
              first: Annotated[date | None, Query(alias="from")] = None,
              last: Annotated[date | None, Query(alias="to")] = None,
              by: Literal["day", "month"] = "day") -> TableOut:
    first, last = _default_range(session, first, last, 30)
    return table_out(queries.loss_trend(session, user.actor, area_id=area_id, first=first,
                                        last=last, by=by), lang)


@monitoring.get("/collection/heatmap", dependencies=[_OFFICE],
                summary="Collection success rate by area and day")
def heatmap(user: CurrentUser, session: SessionDep,
            first: Annotated[date | None, Query(alias="from")] = None,
            last: Annotated[date | None, Query(alias="to")] = None,
            station_id: StationQ = None) -> dict[str, Any]:
    first, last = _default_range(session, first, last, 30)
    data, _ = queries.heatmap(session, user.actor, first=first, last=last,
                              station_id=station_id)
    return data


@monitoring.get("/collection/failing", response_model=DayTableOut, dependencies=[_OFFICE],
                summary="Meters failing N days in a row, with their last reading")
def failing(user: CurrentUser, session: SessionDep, lang: LangDep, day: Day = None,
            station_id: StationQ = None,
            days: Annotated[int | None, Query(ge=1, le=60)] = None) -> DayTableOut:
    d, table = queries.failing(session, user.actor, day=day, station_id=station_id,
                               days_in_row=days)
    return DayTableOut(day=d, table=table_out(table, lang))


@monitoring.get("/anomalies", response_model=AnomalyPage, dependencies=[_OFFICE],
                summary="Anomalies with their jobs and findings, newest first")
def anomaly_list(user: CurrentUser, session: SessionDep, lang: LangDep,
                 status: Annotated[str | None, Query(max_length=12)] = None,
                 kind: Annotated[str | None, Query(max_length=24)] = None,
                 station_id: StationQ = None,
                 area_id: Annotated[str | None, Query(max_length=36)] = None,
                 open: bool = False,
                 limit: Annotated[int, Query(ge=1, le=500)] = 100,
                 offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> AnomalyPage:
    table, total = queries.anomalies(session, user.actor, status=status, kind=kind,
                                     station_id=station_id, area_id=area_id, open_only=open,
                                     limit=limit, offset=offset)
    return AnomalyPage(total=total, table=table_out(table, lang))


@monitoring.get("/anomalies/{anomaly_id}", dependencies=[_OFFICE],
                summary="One anomaly with its evidence, job and finding")
def anomaly(anomaly_id: str, user: CurrentUser, session: SessionDep) -> dict[str, Any]:
    return queries.get_anomaly(session, user.actor, anomaly_id)


_TABLES = ("stations", "areas", "meters", "loss", "heatmap", "failing", "anomalies")


@monitoring.get("/export/{table}", dependencies=[_OFFICE],
                summary="CSV or XLSX of a table (same filters as its screen)",
                responses={200: {"content": {m: {} for m in exports.MEDIA.values()}}})
def export(table: Literal[_TABLES], user: CurrentUser, session: SessionDep,  # type: ignore[valid-type]
           lang: LangDep, format: Literal["csv", "xlsx"] = "csv", day: Day = None,
           station_id: StationQ = None,
           area_id: Annotated[str | None, Query(max_length=36)] = None,
           first: Annotated[date | None, Query(alias="from")] = None,
           last: Annotated[date | None, Query(alias="to")] = None,
           by: Literal["day", "month"] = "day",
           status: Annotated[str | None, Query(max_length=12)] = None,
           kind: Annotated[str | None, Query(max_length=24)] = None) -> Response:
    a = user.actor
    if table in ("meters", "loss") and not area_id:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="area_id: required")
    if table == "stations":
        t = queries.overview(session, a, day=day, station_id=station_id)[1]
    elif table == "areas":
        t = queries.areas(session, a, day=day, station_id=station_id)[1]
    elif table == "meters":
        t = queries.area_meters(session, a, area_id=area_id or "", day=day)[1]
    elif table == "loss":
        f, t_ = _default_range(session, first, last, 30)
        t = queries.loss_trend(session, a, area_id=area_id or "", first=f, last=t_, by=by)
    elif table == "heatmap":
        f, t_ = _default_range(session, first, last, 30)
        t = queries.heatmap(session, a, first=f, last=t_, station_id=station_id)[1]
    elif table == "failing":
        t = queries.failing(session, a, day=day, station_id=station_id)[1]
    else:
        t = queries.anomalies(session, a, status=status, kind=kind, station_id=station_id,
                              area_id=area_id, limit=10_000)[0]
    name = f"{t.name}.{format}"
    return Response(exports.render(t, format, lang), media_type=exports.MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- import, run, settings (admins) ------------------------------------------------------
def _import_out(report: IntervalReport) -> IntervalImportOut:
    return IntervalImportOut(summary=report.summary(), days_changed=sorted(report.days),
                             rejected=[ImportRowOut(**r.__dict__) for r in report.rejected],
                             rejected_listed=len(report.rejected))


@monitoring.post("/intervals/import", response_model=IntervalImportOut,
                 dependencies=[_ADMIN], summary="Import 15-minute interval rows (a batch)")
def import_json(body: IntervalImportIn, user: CurrentUser, db: DatabaseDep,
                lang: LangDep) -> IntervalImportOut:
    """Each row is checked on its own; rejected rows come back with code and reason, the
    others are stored (one transaction); the days they change are recomputed by the next
    run."""
    with UnitOfWork(db, user.actor) as uow:
        report = import_intervals(uow, rows=json_rows(r.model_dump() for r in body.rows),
                                  lang=lang)
        uow.commit()
    return _import_out(report)


@monitoring.post("/intervals/import-csv", response_model=IntervalImportOut,
                 dependencies=[_ADMIN], summary="Import a CSV of interval rows (text/csv)",
                 openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {
                     "type": "string"}}}, "required": True}})
async def import_csv(request: Request, user: CurrentUser, db: DatabaseDep,
                     lang: LangDep) -> IntervalImportOut:
    """Header ``meter_no,interval_start,energy_kwh,source``."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError(ErrorCode.READING_CSV_INVALID, reason="not UTF-8 text") from None

    def work() -> IntervalImportOut:
        rows = text_rows(text)
        with UnitOfWork(db, user.actor) as uow:
            report = import_intervals(uow, rows=rows, lang=lang)
            uow.commit()
        return _import_out(report)

    return await run_in_threadpool(work)


@monitoring.post("/runs", response_model=RunOut, dependencies=[_ADMIN],
                 summary="Compute the changed days now, detect, raise jobs (the daily job)")
def run(body: RunIn, db: DatabaseDep) -> RunOut:
    report = analyse(db, days=body.days)
    loop = report.loop
    return RunOut(days=[{"day": d.day, "points": d.points, "areas": d.areas,
                         "seconds": round(d.seconds, 3)} for d in report.days],
                  as_of=loop.as_of if loop else None, new=loop.new if loop else {},
                  jobs=loop.jobs if loop else [], cleared=loop.cleared if loop else 0,
                  cancelled=loop.cancelled if loop else [])


def _policy_out(session: Session) -> PolicyOut:
    return PolicyOut(**load_policy(session).model_dump())


@monitoring.get("/policy", response_model=PolicyOut, dependencies=[_OFFICE],
                summary="The monitoring thresholds")
def get_policy(session: SessionDep) -> PolicyOut:
    return _policy_out(session)


@monitoring.put("/policy", response_model=PolicyOut, dependencies=[_ADMIN],
                summary="Change monitoring thresholds (audited)")
def put_policy(body: PolicyIn, user: CurrentUser, db: DatabaseDep) -> PolicyOut:
    with UnitOfWork(db, user.actor) as uow:
        update_policy(uow, values=body.model_dump(exclude_none=True))
        uow.commit()
        return _policy_out(uow.session)


@monitoring.get("/loss-norms", response_model=list[NormOut], dependencies=[_OFFICE],
                summary="Line-loss norms per area type")
def get_norms(session: SessionDep) -> list[NormOut]:
    return [NormOut(area_class=c, low=n.low, high=n.high, jump=n.jump)
            for c, n in load_norms(session).items()]


@monitoring.put("/loss-norms/{area_class}", response_model=NormOut, dependencies=[_ADMIN],
                summary="Change an area type's loss norm (audited)")
def put_norm(area_class: str, body: NormIn, user: CurrentUser, db: DatabaseDep) -> NormOut:
    with UnitOfWork(db, user.actor) as uow:
        row: LossNormRow = update_norm(uow, area_class=area_class, low=body.low,
                                       high=body.high, jump=body.jump)
        uow.commit()
    return NormOut(area_class=row.area_class, low=row.low, high=row.high, jump=row.jump)


@monitoring.put("/areas/{area_id}/master-meter", response_model=MasterMeterOut,
                dependencies=[_ADMIN], summary="Register an area's master (supply) meter")
def put_master(area_id: str, body: MasterMeterIn, user: CurrentUser,
               db: DatabaseDep) -> MasterMeterOut:
    with UnitOfWork(db, user.actor) as uow:
        point: MeteringPoint = register_supply(uow, area_id=area_id, meter_no=body.meter_no,
                                               power_factor=body.power_factor)
        uow.commit()
    assert point.kind == SUPPLY
    return MasterMeterOut(area_id=area_id, meter_no=point.meter_no,
                          power_factor=point.power_factor)


# -- the finding of a monitoring job --------------------------------------------------------
def finding_out(session: Session, row: InspectionFinding, *, duplicate: bool = False
                ) -> FindingOut:
    order = session.get(WorkOrder, row.work_order_id)
    anomaly_row = session.get(Anomaly, row.anomaly_id) if row.anomaly_id else None
    follow = (session.get(WorkOrder, row.follow_up_work_order_id)
              if row.follow_up_work_order_id else None)
    assert order is not None
    return FindingOut(
        id=row.id, work_order_id=row.work_order_id, work_order_status=order.status,
        outcome=row.outcome,
        register_kwh=(str(centi_to_kwh(row.register_centi))
                      if row.register_centi is not None else None),
        measured_load_kw=(f"{row.measured_load_w / 1000:.2f}"
                          if row.measured_load_w is not None else None),
        photos=list(row.photos), note=row.note, previous_area_id=row.previous_area_id,
        correct_area_id=row.correct_area_id, anomaly_id=row.anomaly_id,
        anomaly_status=anomaly_row.status if anomaly_row else None,
        follow_up_work_order_id=row.follow_up_work_order_id,
        follow_up_code=follow.code if follow else None, recorded_by=row.recorded_by,
        recorded_at=row.recorded_at, duplicate=duplicate)


@inspections.post("/{order_id}/inspection-finding", response_model=FindingOut,
                  status_code=201, summary="Record what the inspection found (the "
                  "assignee, on site; resolves the job)",
                  responses={200: {"description": "This finding id was already recorded"}})
def post_finding(order_id: str, body: FindingIn, user: CurrentUser, db: DatabaseDep,
                 response: Response) -> FindingOut:
    with UnitOfWork(db, user.actor) as uow:
        result: FindingResult = record_finding(
            uow, actor=user.actor, order_id=order_id, finding_id=body.id,
            data=body.model_dump(exclude={"id", "recorded_at"}), at=body.recorded_at)
        uow.commit()
        out = finding_out(uow.session, result.finding, duplicate=result.duplicate)
    if result.duplicate:
        response.status_code = 200
    return out


@inspections.get("/{order_id}/inspection", response_model=InspectionOut,
                 summary="A monitoring job's evidence and its finding (staff who see the job; "
                         "not the customer: the evidence may name a suspicion)")
def get_inspection(order_id: str, user: CurrentUser, session: SessionDep) -> InspectionOut:
    order = work_orders.get_visible(session, actor=user.actor, order_id=order_id)
    if user.role == Role.CUSTOMER:
        raise DomainError(ErrorCode.FORBIDDEN)
    row = session.exec(select(Anomaly).where(Anomaly.work_order_id == order.id)).first()
    found = session.exec(select(InspectionFinding).where(
        InspectionFinding.work_order_id == order.id)).first()
    return InspectionOut(
        work_order_id=order.id,
        anomaly=queries.anomaly_rows(session, [row])[0] if row else None,
        finding=finding_out(session, found) if found else None)


router = APIRouter()
router.include_router(monitoring)
router.include_router(inspections)
