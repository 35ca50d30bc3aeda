"""``GET /api/v1/admin/scheduler``: each job's last run, next run, duration, last error."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from server.deps import require_roles
from server.scheduler.service import Scheduler
from shared.enums import Role
from shared.timeutil import utcnow

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class JobStatusOut(BaseModel):
    name: str
    description: str
    interval_s: float
    last_run_at: datetime | None = Field(description="When the last run started")
    last_finished_at: datetime | None
    last_duration_ms: int | None
    last_status: str | None = Field(description="ok | error")
    last_result: str | None
    last_error: str | None = Field(description="The last failure's traceback (kept after "
                                   "later successes; see last_error_at)")
    last_error_at: datetime | None
    last_worker: str | None = Field(description="host:pid of the worker that ran it last")
    next_run_at: datetime
    run_count: int
    error_count: int


class SchedulerOut(BaseModel):
    running: bool = Field(description="Whether this worker's scheduler is running")
    worker: str
    jobs: list[JobStatusOut]


@router.get("/scheduler", response_model=SchedulerOut, dependencies=[require_roles(Role.ADMIN)],
            summary="The scheduler's jobs: last run, next run, duration, errors (admin)")
def scheduler_status(request: Request) -> SchedulerOut:
    scheduler: Scheduler = request.app.state.scheduler
    rows = scheduler.rows()
    now = utcnow()
    out = []
    for job in scheduler.jobs:
        row = rows.get(job.name)
        nxt = job.slot(now) + 1
        out.append(JobStatusOut(
            name=job.name, description=job.description, interval_s=job.every.total_seconds(),
            last_run_at=row.last_started_at if row else None,
            last_finished_at=row.last_finished_at if row else None,
            last_duration_ms=row.last_duration_ms if row else None,
            last_status=row.last_status if row else None,
            last_result=row.last_result if row else None,
            last_error=row.last_error if row else None,
            last_error_at=row.last_error_at if row else None,
            last_worker=row.last_worker if row else None,
            next_run_at=job.slot_time(nxt), run_count=row.run_count if row else 0,
            error_count=row.error_count if row else 0))
    return SchedulerOut(running=scheduler.running, worker=scheduler.owner, jobs=out)
