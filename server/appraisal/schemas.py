"""Scorecards on the wire."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FigureOut(BaseModel):
    key: str
    value: float | None = Field(description="None: no job to compute it from")
    n: int = Field(description="Jobs the figure is computed from")
    unit: str
    how: str = Field(description="How it is computed, in the asker's language")
    drill: int = Field(description="Jobs behind the figure's drill-down")


class ScorecardOut(BaseModel):
    subject: str
    name: str
    role: str | None = None
    station_id: str | None = None
    period: str
    handled: int
    by_kind: dict[str, int]
    figures: list[FigureOut]


class RankedOut(BaseModel):
    rank: int
    card: ScorecardOut


class RankingOut(BaseModel):
    period: str
    level: str
    by: str
    rows: list[RankedOut]


class TrendOut(BaseModel):
    subject: str
    name: str
    months: list[ScorecardOut]


class DrillJobOut(BaseModel):
    id: str
    code: str
    kind: str
    status: str
    address: str | None
    reported_at: str
    resolved_at: str | None
    arrive_by: str | None
    complete_by: str | None
    rating: int | None
    reopen_count: int
