"""The suggested crew for a job: who may take it, best first, and why.

Candidates are the active users of the job's station whose role works the job's kind
(``state_machine.assignee_problem``). They are ranked by, in this order:

1. on duty before off duty;
2. in the job's area (their last known position was at a job in that area, or they have
   an open job there) before elsewhere;
3. fewer open jobs;
4. nearer last known position (great-circle distance to the job; unknown positions last);
5. name (so the order is stable).

The first is the suggestion; the screen shows the rule and each candidate's figures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from shared.enums import Role, WorkOrderKind
from shared.workorders.state_machine import assignee_problem

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Candidate:
    user_id: str
    display_name: str
    role: Role
    station_id: str | None
    active: bool = True
    on_duty: bool = False
    open_jobs: int = 0
    #: transformer areas of their open jobs
    open_areas: frozenset[str] = field(default_factory=frozenset)
    last_lat: float | None = None
    last_lon: float | None = None
    last_at: datetime | None = None
    #: the area of the job where the last position was taken
    last_area_id: str | None = None


@dataclass(frozen=True)
class JobSpot:
    kind: WorkOrderKind
    station_id: str
    area_id: str | None
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    same_area: bool
    distance_km: float | None


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def eligible(job: JobSpot, c: Candidate) -> bool:
    return assignee_problem(job.kind, role=c.role, active=c.active, station_id=c.station_id,
                            job_station_id=job.station_id) is None


def rank(job: JobSpot, candidates: Iterable[Candidate]) -> list[Ranked]:
    """Eligible candidates, best first (see the module's rule)."""
    out: list[Ranked] = []
    for c in candidates:
        if not eligible(job, c):
            continue
        same_area = job.area_id is not None and (
            c.last_area_id == job.area_id or job.area_id in c.open_areas)
        dist = None
        if None not in (job.lat, job.lon, c.last_lat, c.last_lon):
            dist = distance_km(job.lat, job.lon, c.last_lat, c.last_lon)  # type: ignore[arg-type]
        out.append(Ranked(c, same_area, dist))
    out.sort(key=lambda r: (not r.candidate.on_duty, not r.same_area, r.candidate.open_jobs,
                            r.distance_km is None, r.distance_km or 0.0,
                            r.candidate.display_name, r.candidate.user_id))
    return out
