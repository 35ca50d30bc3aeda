"""The monitoring run: compute the days that changed, then detect as of the newest day and
close the loop. What the daily job (``gridone ami analyse``) and the API's run call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.db import Database
from server.monitoring.analytics import DayReport, compute_day
from server.monitoring.days import dirty_days
from server.monitoring.detect import detect
from server.monitoring.loop import LoopReport, apply
from server.monitoring.models import AreaDay
from server.monitoring.policy import load_policy
from server.uow import UnitOfWork


@dataclass
class RunReport:
    days: list[DayReport] = field(default_factory=list)
    loop: LoopReport | None = None

    def describe(self) -> str:
        lines = [f"{d.day}: {d.points} metering points, {d.areas} areas in {d.seconds:.2f} s"
                 for d in self.days]
        if self.loop is not None:
            lp = self.loop
            lines.append(
                f"as of {lp.as_of}: {lp.observed} observations; new "
                f"{', '.join(f'{k} {v}' for k, v in sorted(lp.new.items())) or 'none'}; "
                f"jobs {len(lp.jobs)} {' '.join(lp.jobs)}; refreshed {lp.refreshed}; "
                f"cleared {lp.cleared}; cancelled {len(lp.cancelled)}; quiet {lp.quiet}")
        return "\n".join(lines) or "nothing to compute"


def latest_day(session: Session) -> date | None:
    return session.exec(select(func.max(AreaDay.day))).one()  # type: ignore[no-any-return]


def _dependents(session: Session, days: list[date]) -> set[date]:
    """Computed days after ``days`` whose baseline (the area's loss over the days before)
    includes one of them: they are recomputed too (their intervals did not change)."""
    if not days:
        return set()
    span = timedelta(days=load_policy(session).baseline_days)
    computed = session.exec(select(col(AreaDay.day)).where(
        col(AreaDay.day) > min(days), col(AreaDay.day) <= max(days) + span).distinct()).all()
    return {d for d in computed if d not in days and any(x < d <= x + span for x in days)}


def analyse(db: Database, *, days: list[date] | None = None, loop: bool = True,
            now: datetime | None = None) -> RunReport:
    """Compute ``days`` (default: every dirty day), oldest first, one transaction each;
    then detect as of the newest computed day and apply the loop."""
    report = RunReport()
    with Session(db.reader) as session:
        days = dirty_days(session) if days is None else days
        later = _dependents(session, days)
    for day in sorted(set(days) | later):
        with UnitOfWork(db) as uow:
            report.days.append(compute_day(uow.session, day=day, meters=day in days))
            uow.commit()
    if loop:
        with UnitOfWork(db) as uow:
            as_of = latest_day(uow.session)
            if as_of is not None:
                policy = load_policy(uow.session)
                observations = detect(uow.session, day=as_of, policy=policy)
                report.loop = apply(uow, observations=observations, as_of=as_of,
                                    policy=policy, now=now)
                uow.commit()
    return report
