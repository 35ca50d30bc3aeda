"""``/api/v1/appraisal``: scorecards, rankings, trends, drill-down and exports.

Office staff (dispatchers, managers, administrators) see their station's people and the
station (county-wide staff: every station and the county); everyone sees their own
scorecard at ``/me``. Anything else is not found.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from server.appraisal import service
from server.appraisal.schemas import (
    DrillJobOut,
    FigureOut,
    RankedOut,
    RankingOut,
    ScorecardOut,
    TrendOut,
)
from server.deps import CurrentUser, LangDep, SessionDep
from server.monitoring import exports
from server.monitoring.queries import Table
from shared.appraisal.figures import EXPLAIN, FIGURE_NAMES, RANK_BY, Scorecard, month_of
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow

router = APIRouter(prefix="/api/v1/appraisal", tags=["appraisal"])

_MONTH = re.compile(r"^20[0-9]{2}-(0[1-9]|1[0-2])$")
Month = Annotated[str | None, Query(max_length=7, description="YYYY-MM (default: this month)",
                                    pattern=r"^[0-9]{4}-[0-9]{2}$")]
SubjectQ = Annotated[str, Query(max_length=48, description="user:<id>, station:<id> or county")]
ByQ = Annotated[Literal[tuple(RANK_BY)], Query(description="The figure to rank by")]  # type: ignore[valid-type]
FigureQ = Annotated[Literal[tuple(EXPLAIN)], Query(description="The figure to drill into")]  # type: ignore[valid-type]


def _month(value: str | None) -> str:
    if value is None:
        return month_of(utcnow())
    if not _MONTH.match(value):
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="month: YYYY-MM")
    return value


def card_out(subject: service.Subject, sc: Scorecard, lang: str) -> ScorecardOut:
    figures = [FigureOut(key=f.key, value=f.value, n=f.n, unit=f.unit,
                         how=EXPLAIN[f.key][1 if lang == "en" else 0], drill=len(f.job_ids))
               for f in sc.figures.values()]
    return ScorecardOut(subject=subject.key, name=subject.name, role=subject.role,
                        station_id=subject.station_id, period=sc.period, handled=sc.handled,
                        by_kind=sc.by_kind, figures=figures)


@router.get("/me", response_model=ScorecardOut, summary="My own scorecard (work summary)")
def my_scorecard(user: CurrentUser, session: SessionDep, lang: LangDep,
                 month: Month = None) -> ScorecardOut:
    subject, sc = service.card(session, user.actor, subject_key=f"user:{user.id}",
                               month=_month(month))
    return card_out(subject, sc, lang)


@router.get("/scorecard", response_model=ScorecardOut, summary="One subject's scorecard")
def one_scorecard(user: CurrentUser, session: SessionDep, lang: LangDep, subject: SubjectQ,
                  month: Month = None) -> ScorecardOut:
    subj, sc = service.card(session, user.actor, subject_key=subject, month=_month(month))
    return card_out(subj, sc, lang)


@router.get("/ranking", response_model=RankingOut, summary="People or stations, ranked")
def ranking(user: CurrentUser, session: SessionDep, lang: LangDep, month: Month = None,
            level: Literal["people", "stations"] = "people", by: ByQ = "conformity",
            station_id: Annotated[str | None, Query(max_length=36)] = None) -> RankingOut:
    period = _month(month)
    rows = service.ranking(session, user.actor, month=period, level=level, by=by,
                           station_id=station_id)
    return RankingOut(period=period, level=level, by=by,
                      rows=[RankedOut(rank=r, card=card_out(s, c, lang)) for r, s, c in rows])


@router.get("/trend", response_model=TrendOut, summary="A subject's figures month by month")
def trend(user: CurrentUser, session: SessionDep, lang: LangDep, subject: SubjectQ,
          month: Month = None,
          months: Annotated[int, Query(ge=1, le=24)] = 6) -> TrendOut:
    subj, cards = service.trend(session, user.actor, subject_key=subject,
                                month=_month(month), months=months)
    return TrendOut(subject=subj.key, name=subj.name,
                    months=[card_out(subj, c, lang) for c in cards])


@router.get("/jobs", response_model=list[DrillJobOut],
            summary="The jobs behind a figure (drill-down)")
def drill_down(user: CurrentUser, session: SessionDep, subject: SubjectQ, figure: FigureQ,
               month: Month = None) -> list[DrillJobOut]:
    orders = service.drill_down(session, user.actor, subject_key=subject,
                                month=_month(month), figure=figure)
    return [DrillJobOut(id=o.id, code=o.code, kind=str(o.kind), status=str(o.status),
                        address=o.address, reported_at=o.reported_at.isoformat(),
                        resolved_at=o.resolved_at.isoformat() if o.resolved_at else None,
                        arrive_by=o.arrive_by.isoformat() if o.arrive_by else None,
                        complete_by=o.complete_by.isoformat() if o.complete_by else None,
                        rating=o.rating, reopen_count=o.reopen_count) for o in orders]


#: Export column keys (not "..._rate": the XLSX writer would take a percentage for a fraction).
_EXPORT_KEY = {k: k.replace("_rate", "_share") for k in EXPLAIN}
_COLUMNS = [("rank", "排名", "Rank"), ("name", "姓名/站所", "Name"), ("role", "角色", "Role"),
            ("handled", "完成工单", "Jobs handled")] + [
    (_EXPORT_KEY[k], FIGURE_NAMES[k][0], FIGURE_NAMES[k][1]) for k in EXPLAIN
    if k != "handled"]


@router.get("/export", summary="The ranking as CSV or XLSX",
            responses={200: {"content": {m: {} for m in exports.MEDIA.values()}}})
def export(user: CurrentUser, session: SessionDep, lang: LangDep, month: Month = None,
           level: Literal["people", "stations"] = "people", by: ByQ = "conformity",
           format: Literal["csv", "xlsx"] = "csv",
           station_id: Annotated[str | None, Query(max_length=36)] = None) -> Response:
    period = _month(month)
    rows = service.ranking(session, user.actor, month=period, level=level, by=by,
                           station_id=station_id)
    table = Table(name=f"appraisal-{level}-{period}", columns=_COLUMNS, rows=[
        {"rank": r, "name": s.name, "role": s.role or "", "handled": c.handled,
         **{_EXPORT_KEY[k]: f.value for k, f in c.figures.items() if k != "handled"}}
        for r, s, c in rows])
    return Response(exports.render(table, format, lang), media_type=exports.MEDIA[format],
                    headers={"Content-Disposition":
                             f'attachment; filename="{table.name}.{format}"'})
