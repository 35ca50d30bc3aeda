"""The scheduler's state: one row per job, shared by every API worker."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from server.columns import when


class SchedulerJob(SQLModel, table=True):
    """What the admin sees of a job, and the claim that lets one worker run each tick.

    ``last_slot`` is the number of the last tick claimed (ticks are numbered from a fixed
    anchor in steps of the job's interval), so a tick is run once however many workers
    fire it. ``lease_owner``/``lease_until`` is the SQLite lock; on PostgreSQL an advisory
    lock is held while the job runs.
    """

    __tablename__ = "scheduler_job"

    name: str = Field(primary_key=True, max_length=64)
    interval_s: float
    last_slot: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    last_started_at: datetime | None = when()
    last_finished_at: datetime | None = when()
    last_duration_ms: int | None = None
    last_status: str | None = Field(default=None, max_length=8)  # ok | error
    last_result: str | None = Field(default=None, max_length=500)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error_at: datetime | None = when()
    last_worker: str | None = Field(default=None, max_length=80)
    next_run_at: datetime | None = when()
    run_count: int = 0
    error_count: int = 0
    lease_owner: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = when()
