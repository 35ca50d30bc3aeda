"""``/api/v1/dispatch``: the dispatch board, one job's panel and its suggested crew, several
jobs at once, the crew roster and duty marks, the board's change feed (a long poll), the
map, and the stall rules (administrators edit them).

Office staff only (dispatchers, managers, administrators; counter clerks read the desk's
settings). A station's staff see and change their station's jobs and crews only: anything
else is not found.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from server.deps import CurrentUser, DatabaseDep, LangDep, SessionDep, SettingsDep, require_roles
from server.dispatch import board as board_q
from server.dispatch import roster as roster_q
from server.dispatch import service
from server.dispatch.models import StallRule
from server.dispatch.schemas import (
    AreaRef,
    BoardCounts,
    BoardList,
    BoardPage,
    BulkIn,
    BulkOut,
    ChangesOut,
    DeskSettings,
    DutyIn,
    JobPanel,
    MapCrew,
    MapJob,
    MapOut,
    PriorityIn,
    RosterOut,
    StallOut,
    StallRuleCreate,
    StallRuleIn,
    StallRuleOut,
    StallRunOut,
    StationRef,
    SuggestionsOut,
)
from server.dispatch.stalls import run_stall_rules
from server.errors import error_response
from server.stations.models import Station, TransformerArea
from server.uow import UnitOfWork
from server.work_orders import router as wo_router
from server.work_orders import service as wo
from server.work_orders.models import WorkOrder
from server.work_orders.schemas import WorkOrderDetail
from shared.enums import OPEN_STATUSES, Priority, Role, WorkOrderKind
from shared.errors import ErrorCode
from shared.timeutil import utcnow
from shared.workorders import deadlines
from shared.workorders.stalls import TRIGGER_LABELS, Trigger

api = APIRouter(prefix="/api/v1/dispatch", tags=["dispatch desk"])
OFFICE = require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
ADMIN = require_roles(Role.ADMIN)
Id = Annotated[str, Query(max_length=36)]
#: Longest a change-feed request waits, and how often it looks meanwhile even without a
#: wake-up from the change notifier (``server.changes.notify``).
MAX_WAIT_S = 25.0
RELOOK_S = 5.0
MAP_LIMIT = 1000


def _filter(station_id: str | None, area_id: str | None, kind: WorkOrderKind | None,
            priority: Priority | None, q: str | None) -> board_q.BoardFilter:
    return board_q.BoardFilter(station_id=station_id, area_id=area_id, kind=kind,
                               priority=priority, q=q)


Q = Annotated[str | None, Query(max_length=64, description="code, account no., phone or a "
                                                           "part of the address")]


@api.get("/board", response_model=BoardPage, dependencies=[OFFICE],
            summary="One list of the dispatch board, paged on the server")
def board(user: CurrentUser, session: SessionDep,
          list_: Annotated[BoardList, Query(alias="list")] = BoardList.UNASSIGNED,
          station_id: Id | None = None, area_id: Id | None = None,
          kind: WorkOrderKind | None = None, priority: Priority | None = None, q: Q = None,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> BoardPage:
    """Unassigned and urgent lists are sorted by priority then age; the others by the
    deadline that counts now; waiting for confirmation by resolution time."""
    seq = service.high_water(session)
    now = utcnow()
    rows, total = board_q.page(session, actor=user.actor, name=list_,
                               f=_filter(station_id, area_id, kind, priority, q), now=now,
                               limit=limit, offset=offset)
    return BoardPage(items=rows, total=total, limit=limit, offset=offset, seq=seq,
                     server_time=now)


@api.get("/board/counts", response_model=BoardCounts, dependencies=[OFFICE],
            summary="How many jobs each list of the board holds (same filters)")
def board_counts(user: CurrentUser, session: SessionDep, station_id: Id | None = None,
                 area_id: Id | None = None, kind: WorkOrderKind | None = None,
                 priority: Priority | None = None, q: Q = None) -> BoardCounts:
    seq = service.high_water(session)
    counts = board_q.counts(session, actor=user.actor,
                            f=_filter(station_id, area_id, kind, priority, q), now=utcnow())
    return BoardCounts(counts=counts, seq=seq)


@api.get("/jobs/{order_id}", response_model=JobPanel, dependencies=[OFFICE],
            summary="One job for the side panel: detail, timeline, stall mark")
def job(order_id: str, user: CurrentUser, session: SessionDep) -> JobPanel:
    order = wo.get_visible(session, actor=user.actor, order_id=order_id)
    stall = service.stall_of(session, order.id)
    area = session.get(TransformerArea, order.area_id) if order.area_id else None
    station = session.get(Station, order.station_id)
    when, which = deadlines.next_deadline(status=order.status, arrive_by=order.arrive_by,
                                          complete_by=order.complete_by)
    is_open = order.status in OPEN_STATUSES
    return JobPanel(
        job=wo_router.detail(session, order, user.actor),
        area_name=area.name if area else None, station_name=station.name if station else None,
        stall=StallOut(**stall.model_dump(warnings=False)) if stall else None,
        overdue=bool(is_open and when is not None and when < utcnow()),
        next_deadline=when if is_open else None,
        next_deadline_kind=("arrival" if which == "arrival" else "completion")
        if is_open else None)


@api.get("/jobs/{order_id}/suggestions", response_model=SuggestionsOut,
            dependencies=[OFFICE], summary="Who could take the job, best first, and why")
def suggestions(order_id: str, user: CurrentUser, session: SessionDep, lang: LangDep
                ) -> SuggestionsOut:
    order = wo.get_visible(session, actor=user.actor, order_id=order_id)
    ranked = service.candidates(session, order, utcnow())
    return SuggestionsOut(rule=service.SUGGEST_RULE[lang], candidates=ranked,
                          suggested=ranked[0] if ranked else None)


@api.post("/jobs/{order_id}/priority", response_model=WorkOrderDetail,
             dependencies=[OFFICE], summary="Set an open job's priority (office)")
def set_priority(order_id: str, body: PriorityIn, user: CurrentUser, db: DatabaseDep
                 ) -> WorkOrderDetail:
    with UnitOfWork(db, user.actor) as uow:
        order = service.set_priority(uow, actor=user.actor, order_id=order_id,
                                     priority=body.priority, reason=body.reason, at=utcnow())
        uow.commit()
        return wo_router.detail(uow.session, order, user.actor)


@api.post("/bulk", response_model=BulkOut, dependencies=[OFFICE],
             summary="One action on several jobs (each through the same service)")
def bulk(body: BulkIn, user: CurrentUser, db: DatabaseDep, lang: LangDep) -> BulkOut:
    """``dispatch`` / ``reassign`` (``assignee_id``; reassign and cancel need ``reason``),
    ``cancel``, ``set_priority`` (``priority``). Each job in its own transaction: a refusal
    is listed for that job with its code and message, the others are done."""
    results = service.bulk(db, actor=user.actor, body=body, lang=lang, at=utcnow())
    done = sum(1 for r in results if r.ok)
    return BulkOut(results=results, done=done, failed=len(results) - done)


@api.get("/roster", response_model=RosterOut, dependencies=[OFFICE],
            summary="The crews: on duty, open jobs, last known position")
def roster(user: CurrentUser, session: SessionDep, lang: LangDep,
           station_id: Id | None = None, role: Role | None = None) -> RosterOut:
    station = roster_q.station_scope(user.actor, station_id)
    users = roster_q.field_users(session, station_id=station, role=role)
    return RosterOut(items=roster_q.roster(session, users, utcnow()),
                     duty_rule=roster_q.DUTY_RULE[lang].format(h=roster_q.SIGNED_IN_HOURS),
                     signed_in_hours=roster_q.SIGNED_IN_HOURS)


@api.put("/roster/{user_id}/duty", response_model=RosterOut, dependencies=[OFFICE],
            summary="Mark a field user of my station on or off duty for today (managers)")
def set_duty(user_id: str, body: DutyIn, user: CurrentUser, db: DatabaseDep, lang: LangDep
             ) -> RosterOut:
    with UnitOfWork(db, user.actor) as uow:
        crew = service.set_duty(uow, actor=user.actor, user_id=user_id, on_duty=body.on_duty,
                                at=utcnow())
        uow.commit()
        items = roster_q.roster(uow.session, [crew], utcnow())
    return RosterOut(items=items,
                     duty_rule=roster_q.DUTY_RULE[lang].format(h=roster_q.SIGNED_IN_HOURS),
                     signed_in_hours=roster_q.SIGNED_IN_HOURS)


@api.get("/changes", response_model=ChangesOut, dependencies=[OFFICE],
            summary="What changed on my board after `since` (a long poll)")
async def changes(request: Request, user: CurrentUser, session: SessionDep, db: DatabaseDep,
                  since: Annotated[int, Query(ge=-1, le=2**62)] = -1,
                  wait: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0.0) -> ChangesOut:
    """Answers as soon as a job of my station (or its stall mark, or a crew's duty mark)
    changed after ``since``, or after ``wait`` seconds with no change. ``since=-1``: the
    feed's current position, at once. The wait holds no database connection."""
    await run_in_threadpool(session.close)  # the user is known: give the connection back
    actor = user.actor

    def look() -> service.Changes:
        with Session(db.reader) as s:
            return service.changes_since(s, actor=actor, since=since)

    deadline = time.monotonic() + (wait if since >= 0 else 0)
    while True:
        mark = db.notifier.mark()  # before looking: a commit meanwhile is not missed
        found = await run_in_threadpool(look)
        left = deadline - time.monotonic()
        if found.order_ids or found.crews or found.more or left <= 0:
            break
        if await request.is_disconnected():
            break
        await db.notifier.wait(mark, min(left, RELOOK_S))  # woken by a commit (any worker)
    return ChangesOut(seq=found.seq, order_ids=found.order_ids, crews=found.crews,
                      more=found.more)


@api.get("/map", response_model=MapOut, dependencies=[OFFICE],
            summary="Open jobs with a position, and where the crews were last seen")
def map_data(user: CurrentUser, session: SessionDep, station_id: Id | None = None,
             kind: WorkOrderKind | None = None) -> MapOut:
    now = utcnow()
    f = board_q.BoardFilter(station_id=station_id, kind=kind)
    stalled = set(session.execute(board_q.STALLED_IDS).scalars())
    w = WorkOrder.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
        select(w.id, w.code, w.kind, w.status, w.priority, w.lat, w.lon, w.arrive_by,
               w.complete_by)
        .where(*board_q.filter_clauses(user.actor, f),
               w.status.in_([s.value for s in OPEN_STATUSES]), w.lat.is_not(None),
               w.lon.is_not(None))
        .order_by(w.complete_by).limit(MAP_LIMIT + 1)).all()
    jobs = []
    for o in rows[:MAP_LIMIT]:
        when, _ = deadlines.next_deadline(status=o.status, arrive_by=o.arrive_by,
                                          complete_by=o.complete_by)
        jobs.append(MapJob(id=o.id, code=o.code, kind=o.kind, status=o.status,
                           priority=o.priority, lat=o.lat, lon=o.lon,
                           overdue=bool(when and when < now), stalled=o.id in stalled))
    station = roster_q.station_scope(user.actor, station_id)
    crews = [MapCrew(id=c.id, display_name=c.display_name, role=c.role, on_duty=c.on_duty,
                     lat=c.last_position.lat, lon=c.last_position.lon, at=c.last_position.at)
             for c in roster_q.roster(session, roster_q.field_users(session, station_id=station),
                                      now) if c.last_position]
    return MapOut(jobs=jobs, crews=crews, truncated=len(rows) > MAP_LIMIT)


@api.get("/settings", response_model=DeskSettings,
            dependencies=[require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN, Role.AGENT)],
            summary="What the desk needs to start: stations, areas, the map's tile server")
def desk_settings(user: CurrentUser, session: SessionDep, settings: SettingsDep
                  ) -> DeskSettings:
    county = user.role == Role.ADMIN or user.station_id is None
    stations = session.execute(select(Station).order_by(Station.code)).scalars().all()
    areas = session.execute(select(TransformerArea).order_by(TransformerArea.code)).scalars()
    return DeskSettings(
        map_tile_url=settings.map_tile_url or None, county_wide=county,
        stations=[StationRef(id=s.id, name=s.name) for s in stations
                  if county or s.id == user.station_id],
        areas=[AreaRef(id=a.id, name=a.name, station_id=a.station_id, area_class=a.area_class)
               for a in areas if county or a.station_id == user.station_id])


# -- stall rules (administrators) ---------------------------------------------------------------
def _rule_out(r: StallRule, lang: str) -> StallRuleOut:
    zh, en = TRIGGER_LABELS[Trigger(r.trigger)]
    return StallRuleOut(**r.model_dump(warnings=False), description=en if lang == "en" else zh)


@api.get("/stall-rules", response_model=list[StallRuleOut], dependencies=[OFFICE],
            summary="The stall rules (office staff read them; administrators edit them)")
def stall_rules(session: SessionDep, lang: LangDep) -> list[StallRuleOut]:
    rows = session.execute(select(StallRule).order_by(StallRule.trigger, StallRule.kind)
                           ).scalars()
    return [_rule_out(r, lang) for r in rows]


@api.put("/stall-rules/{rule_id}", response_model=StallRuleOut, dependencies=[ADMIN],
            summary="Change a stall rule's threshold, escalation delay or switch it off")
def update_stall_rule(rule_id: str, body: StallRuleIn, user: CurrentUser, db: DatabaseDep,
                      lang: LangDep) -> StallRuleOut:
    with UnitOfWork(db, user.actor) as uow:
        rule = service.update_rule(uow, actor=user.actor, rule_id=rule_id,
                                   changes=body.model_dump(exclude_unset=True), at=utcnow())
        uow.commit()
        return _rule_out(rule, lang)


@api.post("/stall-rules", response_model=StallRuleOut, status_code=201,
             dependencies=[ADMIN], summary="A rule for one kind (replaces the * rule for it)")
def create_stall_rule(body: StallRuleCreate, user: CurrentUser, db: DatabaseDep,
                      lang: LangDep) -> StallRuleOut:
    with UnitOfWork(db, user.actor) as uow:
        rule = service.create_rule(uow, actor=user.actor, at=utcnow(), **body.model_dump())
        uow.commit()
        return _rule_out(rule, lang)


@api.post("/stall-rules/run", response_model=StallRunOut, dependencies=[ADMIN],
             summary="Run the stall rules now (the scheduler runs them every minute)")
def run_now(db: DatabaseDep) -> StallRunOut:
    report = run_stall_rules(db)
    return StallRunOut(checked=report.checked, stalled=report.stalled,
                       newly_stalled=report.newly_stalled, cleared=report.cleared,
                       level1_sent=report.level1_sent, level2_sent=report.level2_sent)


router = APIRouter()
router.include_router(api)


@router.get("/office", include_in_schema=False)
def office(request: Request, settings: SettingsDep) -> Response:
    """The office desk is the app (web) at ``/office``; the API sends a browser there."""
    if not settings.office_url:
        return error_response(request, ErrorCode.NOT_FOUND)
    return RedirectResponse(settings.office_url, status_code=307)
