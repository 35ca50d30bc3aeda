"""The server's periodic jobs, as data (see ``server.scheduler.registry``).

These replace the cron lines that ``gridone billing-tick`` and ``gridone charge-daily``
needed; the commands still exist for running a tick by hand.
"""

from __future__ import annotations

from datetime import timedelta

from server.billing.charging import charge_day, yesterday
from server.billing.setup import tick
from server.care.service import review_due
from server.dispatch.stalls import run_stall_rules
from server.monitoring.service import analyse
from server.ratelimit.service import sweep
from server.scheduler.registry import Job, JobContext
from server.uow import UnitOfWork
from shared.timeutil import LOCAL_TZ

#: Days before yesterday that the nightly charge run looks at again (late readings).
CHARGE_CATCH_UP_DAYS = 2


def billing_tick(ctx: JobContext) -> str:
    """Deliver messages, (re)send meter commands, take acknowledgements and payment
    notifications, credit paid orders."""
    report = tick(ctx.services["billing"])
    return (f"messages {report.messages}, commands sent {report.commands_sent} failed "
            f"{report.commands_failed}, acks {report.acks}, provider notifications "
            f"{report.provider_notifications}, orders credited {report.orders_credited}")


def charge_daily(ctx: JobContext) -> str:
    """Charge every account for yesterday, and re-run the days before (idempotent)."""
    target = yesterday()
    parts = []
    for back in range(CHARGE_CATCH_UP_DAYS, -1, -1):
        report = charge_day(ctx.db, day=target - timedelta(days=back))
        parts.append(f"{report.day}: {report.charged}/{report.accounts} charged, "
                     f"{report.total_fen} fen, {len(report.errors)} errors")
    return "; ".join(parts)


def rate_limit_sweep(ctx: JobContext) -> str:
    removed = sweep(ctx.db, settings=ctx.settings)
    return f"{removed} expired rate-limit rows removed"


def stall_check(ctx: JobContext) -> str:
    """Mark stalled jobs with their reasons and escalate (issue 10: rules as data)."""
    return str(run_stall_rules(ctx.db, ctx.now))


def monitoring_daily(ctx: JobContext) -> str:
    """Recompute the days that changed (late metering data), detect anomalies and raise
    inspection jobs (issue 12)."""
    report = analyse(ctx.db, now=ctx.now)
    loop = report.loop
    return (f"{len(report.days)} day(s) computed; new anomalies {loop.new if loop else {}}, "
            f"jobs {len(loop.jobs) if loop else 0}")


def care_review(ctx: JobContext) -> str:
    """A care-visit job for each care-list account whose review date has come (issue 13)."""
    with UnitOfWork(ctx.db) as uow:
        raised = review_due(uow, on=ctx.now.astimezone(LOCAL_TZ).date())
        uow.commit()
    return f"{raised} care-list review visit(s) raised"


DEFAULT_JOBS: tuple[Job, ...] = (
    Job("billing-tick", timedelta(minutes=1), billing_tick,
        description="messages, meter commands, acknowledgements, payment notifications"),
    # 18:30 UTC is 02:30 in China: after the metering system's nightly export.
    Job("charge-daily", timedelta(days=1), charge_daily, offset=timedelta(hours=18, minutes=30),
        description="charge yesterday's usage (and re-rate the two days before)"),
    Job("rate-limit-sweep", timedelta(minutes=10), rate_limit_sweep,
        description="forget expired sign-in failures and sync budgets"),
    Job("stall-check", timedelta(minutes=1), stall_check,
        description="mark stalled jobs and escalate to the station manager and the county"),
    # 19:30 UTC is 03:30 in China: after the night's metering import.
    Job("monitoring-daily", timedelta(days=1), monitoring_daily,
        offset=timedelta(hours=19, minutes=30),
        description="metering analytics of changed days, anomaly detection, inspection jobs"),
    # 00:30 UTC is 08:30 in China: the day's care-list reviews, at the start of work.
    Job("care-review", timedelta(days=1), care_review, offset=timedelta(minutes=30),
        description="care-list accounts due for review get a care-visit job"),
)
