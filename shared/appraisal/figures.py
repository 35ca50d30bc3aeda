"""Performance appraisal (绩效考核, product module 14): the figures of a scorecard, computed
from the facts of the jobs a person (or a station, or the county) handled in a period.

Pure: the server loads ``JobFacts`` and hands them here; tests check the figures against
hand-computed values. Every figure carries how it is computed (``EXPLAIN``), shown next to
it on the office desk and on the phone.

* A job counts in the period in which it was **resolved** (the crew's time of resolving,
  recorded on the phone and clock-corrected), not when it reached the server: a job that
  synced a day late still counts on the day it was done.
* Times are minutes between the job's own recorded times; a missing time leaves the job
  out of that figure (said by the figure's ``n``), never counted as zero.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shared.timeutil import LOCAL_TZ

#: A repair counts as fixed the first time if it is not reopened within this long.
FIRST_FIX_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class JobFacts:
    id: str
    code: str
    kind: str
    station_id: str
    assignee_id: str | None
    dispatched_at: datetime | None
    accepted_at: datetime | None
    arrived_at: datetime | None
    resolved_at: datetime
    arrive_by: datetime | None
    complete_by: datetime | None
    rating: int | None
    #: times the job was reopened (by the customer or the manager's review) after resolving
    reopened_at: tuple[datetime, ...] = ()
    #: times the manager's review returned it
    returned: int = 0


@dataclass(frozen=True)
class StepFacts:
    """One step of a business application that someone ended (accepted it, decided the
    scheme, …): when, and by when it was due."""

    application_id: str
    code: str
    step: str
    station_id: str
    ended_by: str | None
    ended_at: datetime
    due_at: datetime | None
    work_order_id: str | None = None


@dataclass(frozen=True)
class Figure:
    key: str
    value: float | None       # None: no job to compute it from
    n: int                    # jobs the figure is computed from
    unit: str                 # "count", "min", "h", "%", "stars"
    job_ids: tuple[str, ...] = ()  # the drill-down: the jobs behind the figure's "bad" side


@dataclass(frozen=True)
class Scorecard:
    subject: str              # "user:<id>", "station:<id>", "county"
    period: str               # "2026-11"
    handled: int
    by_kind: dict[str, int]
    figures: dict[str, Figure] = field(default_factory=dict)


#: How each figure is computed: shown next to it (zh, en).
EXPLAIN: dict[str, tuple[str, str]] = {
    "handled": ("本期完成（已修复）的工单数，按完成时间（手机记录、校时后）计入月份",
                "Jobs resolved in the period, counted in the month of the resolve time "
                "recorded on the phone (clock-corrected)"),
    "accept_min": ("接单用时中位数：派单到接单的分钟数",
                   "Median minutes from dispatch to accept"),
    "arrive_min": ("到场用时中位数：派单到到场的分钟数",
                   "Median minutes from dispatch to arrival on site"),
    "arrive_on_time": ("按时到场率：有到场承诺的工单中，在承诺时间内到场的比例",
                       "Of the jobs with an arrival commitment, the share that arrived "
                       "within it"),
    "finish_h": ("完成用时中位数：派单到修复的小时数",
                 "Median hours from dispatch to resolve"),
    "conformity": ("承诺达标率：到场（如有承诺）和完成都在承诺时间内的工单比例",
                   "Share of jobs that met both the arrival commitment (if any) and the "
                   "completion deadline"),
    "first_fix": ("一次修复率：修复后 7 天内未被重开的工单比例",
                  "Share of jobs not reopened within 7 days of being resolved"),
    "satisfaction": ("满意度：客户评价的平均星级（1–5）",
                     "Average of the customers' ratings (1–5 stars)"),
    "response_rate": ("评价率：有客户评价的工单比例", "Share of jobs the customer rated"),
    "returned": ("审核退回：被站长审核退回重做的次数",
                 "Times the manager's review returned a job"),
    "app_steps_on_time": ("业扩环节按时率：本期办结的业扩/变更申请环节中，在环节时限内办结的比例",
                          "Of the business-application steps ended in the period, the share "
                          "ended within the step's deadline"),
}


#: Short names of the figures (zh, en), with their unit in brackets.
FIGURE_NAMES: dict[str, tuple[str, str]] = {
    "handled": ("完成工单", "Jobs handled"),
    "accept_min": ("接单用时（分钟）", "Time to accept (min)"),
    "arrive_min": ("到场用时（分钟）", "Time to arrive (min)"),
    "arrive_on_time": ("按时到场率（%）", "Arrived on time (%)"),
    "finish_h": ("完成用时（小时）", "Time to finish (h)"),
    "conformity": ("承诺达标率（%）", "Within commitment (%)"),
    "first_fix": ("一次修复率（%）", "First-time fix (%)"),
    "satisfaction": ("满意度（星）", "Satisfaction (stars)"),
    "response_rate": ("评价率（%）", "Rated by customer (%)"),
    "returned": ("审核退回（次）", "Returned by review"),
    "app_steps_on_time": ("业扩环节按时率（%）", "Application steps on time (%)"),
}


_UNITS = {"min": ("分钟", "min"), "h": ("小时", "h"), "stars": ("星", "★")}


def format_value(value: float | None, unit: str, lang: str) -> str:
    """A figure as shown: "75.0 %", "40 min" / "40 分钟", "—" when there is none."""
    if value is None:
        return "—"
    if unit == "count":
        return str(int(value))
    if unit == "%":
        return f"{value:.1f} %"
    words = _UNITS.get(unit)
    if words is None:
        return f"{value:g}"
    return f"{value:g} {words[1] if lang == 'en' else words[0]}"


def month_of(at: datetime) -> str:
    """The county-local month of an instant, ``YYYY-MM``."""
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a county-local month, as aware datetimes."""
    year, mon = (int(p) for p in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=LOCAL_TZ)
    end = datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=LOCAL_TZ)
    return start, end


def previous_months(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    year, mon = (int(p) for p in month.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
    return out[::-1]


def _minutes(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (end - start).total_seconds() / 60


def _median(values: Iterable[float | None]) -> tuple[float | None, int]:
    from statistics import median  # here: ~40 ms of the browser app's start otherwise

    present = [v for v in values if v is not None]
    return (round(median(present), 1) if present else None), len(present)


def _share(hits: int, n: int) -> float | None:
    return round(100 * hits / n, 1) if n else None


def arrived_on_time(job: JobFacts) -> bool | None:
    if job.arrive_by is None:
        return None
    return job.arrived_at is not None and job.arrived_at <= job.arrive_by


def conforms(job: JobFacts) -> bool:
    on_time = arrived_on_time(job)
    finished = job.complete_by is None or job.resolved_at <= job.complete_by
    return finished and on_time is not False


def fixed_first_time(job: JobFacts) -> bool:
    return not any(job.resolved_at <= r <= job.resolved_at + FIRST_FIX_WINDOW
                   for r in job.reopened_at)


def scorecard(subject: str, period: str, jobs: Sequence[JobFacts],
              steps: Sequence[StepFacts] = ()) -> Scorecard:
    """The figures for ``jobs`` (those resolved in ``period`` by the subject) and ``steps``
    (application steps the subject ended in ``period``)."""
    accept, n_accept = _median(_minutes(j.dispatched_at, j.accepted_at) for j in jobs)
    arrive, n_arrive = _median(_minutes(j.dispatched_at, j.arrived_at) for j in jobs)
    finish_min, n_finish = _median(_minutes(j.dispatched_at, j.resolved_at) for j in jobs)
    with_commitment = [j for j in jobs if j.arrive_by is not None]
    late_arrivals = [j for j in with_commitment if not arrived_on_time(j)]
    nonconforming = [j for j in jobs if not conforms(j)]
    reopened = [j for j in jobs if not fixed_first_time(j)]
    rated = [j for j in jobs if j.rating is not None]
    low_rated = [j for j in rated if (j.rating or 0) <= 3]
    returned = [j for j in jobs if j.returned]
    timed = [s for s in steps if s.due_at is not None]
    late_steps = [s for s in timed if s.due_at is not None and s.ended_at > s.due_at]
    n = len(jobs)
    figures = {
        "handled": Figure("handled", float(n), n, "count", tuple(j.id for j in jobs)),
        "accept_min": Figure("accept_min", accept, n_accept, "min"),
        "arrive_min": Figure("arrive_min", arrive, n_arrive, "min"),
        "arrive_on_time": Figure(
            "arrive_on_time", _share(len(with_commitment) - len(late_arrivals),
                                     len(with_commitment)),
            len(with_commitment), "%", tuple(j.id for j in late_arrivals)),
        "finish_h": Figure("finish_h", None if finish_min is None else round(finish_min / 60, 1),
                           n_finish, "h"),
        "conformity": Figure("conformity", _share(n - len(nonconforming), n), n, "%",
                             tuple(j.id for j in nonconforming)),
        "first_fix": Figure("first_fix", _share(n - len(reopened), n), n, "%",
                            tuple(j.id for j in reopened)),
        "satisfaction": Figure(
            "satisfaction", round(sum(j.rating or 0 for j in rated) / len(rated), 2)
            if rated else None, len(rated), "stars", tuple(j.id for j in low_rated)),
        "response_rate": Figure("response_rate", _share(len(rated), n), n, "%"),
        "returned": Figure("returned", float(sum(j.returned for j in jobs)), n, "count",
                           tuple(j.id for j in returned)),
        "app_steps_on_time": Figure(
            "app_steps_on_time", _share(len(timed) - len(late_steps), len(timed)), len(timed),
            "%", tuple(s.work_order_id for s in late_steps if s.work_order_id)),
    }
    return Scorecard(subject=subject, period=period, handled=n,
                     by_kind=dict(sorted(Counter(j.kind for j in jobs).items())),
                     figures=figures)


#: The figure a ranking orders by, and whether higher is better.
RANK_BY: dict[str, bool] = {"conformity": True, "first_fix": True, "satisfaction": True,
                            "handled": True, "arrive_on_time": True, "accept_min": False,
                            "arrive_min": False, "finish_h": False, "returned": False,
                            "response_rate": True, "app_steps_on_time": True}


def ranked(cards: Sequence[Scorecard], by: str = "conformity") -> list[tuple[int, Scorecard]]:
    """Cards best first by ``by`` (ties: more jobs first); a card without the figure last.
    Equal values share a rank (1, 2, 2, 4)."""
    higher_better = RANK_BY[by]

    def key(card: Scorecard) -> tuple[int, float, int]:
        value = card.figures[by].value
        if value is None:
            return (1, 0.0, -card.handled)
        return (0, -value if higher_better else value, -card.handled)

    ordered = sorted(cards, key=key)
    out: list[tuple[int, Scorecard]] = []
    for i, card in enumerate(ordered):
        if out and card.figures[by].value == out[-1][1].figures[by].value:
            out.append((out[-1][0], card))
        else:
            out.append((i + 1, card))
    return out


def period_label(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, 1)
