"""The crew roster: the station's field users, who is on duty, their open jobs and where
they were last seen.

**On duty** (said on the roster screen): a station manager's mark for today decides
(marks lapse at the end of the local day they were set); without a mark today, a field
user is on duty when their phone signed in or refreshed its sign-in within the last
``SIGNED_IN_HOURS`` hours (an app in use refreshes every 15 minutes).

**Last known position**: the GPS fix of their latest arrival on site (the timeline's
``arrive`` events), with when it was taken; arrivals entered by hand carry none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, text
from sqlmodel import Session, col

from server.dispatch.models import CrewDuty
from server.dispatch.schemas import CrewOut, OpenJobOut, PositionOut
from server.users.models import RefreshToken, User
from server.work_orders.models import ARRIVALS, WorkOrder, WorkOrderEvent
from shared.enums import FIELD_ROLES, OPEN_STATUSES, Role
from shared.timeutil import LOCAL_TZ, as_utc
from shared.workorders.state_machine import Actor

SIGNED_IN_HOURS = 12
#: Open jobs listed per person (all of them are counted).
OPEN_SHOWN = 10
#: Arrivals older than this are not a "last known position" any more.
POSITION_DAYS = 30
#: How many of a person's latest arrivals are looked at for one with a GPS fix.
POSITION_LOOKBACK = 5

DUTY_RULE = {
    "zh": ("值班：以所长当天的标记为准（当天有效）；当天没有标记时，{h} 小时内在手机上登录过的"
           "人员视为值班。"),
    "en": ("On duty: a station manager's mark for today decides (it lapses at the end of the "
           "day); without a mark today, whoever signed in on their phone in the last {h} hours "
           "counts as on duty."),
}


@dataclass(frozen=True)
class Duty:
    on_duty: bool
    source: str  # manager | signed_in | none
    set_at: datetime | None


def duty_of(mark: CrewDuty | None, last_seen: datetime | None, now: datetime) -> Duty:
    """Whether a field user is on duty at ``now`` (the rule above)."""
    today = now.astimezone(LOCAL_TZ).date()
    if mark is not None and mark.set_at.astimezone(LOCAL_TZ).date() == today:
        return Duty(mark.on_duty, "manager", mark.set_at)
    if last_seen is not None and now - last_seen <= timedelta(hours=SIGNED_IN_HOURS):
        return Duty(True, "signed_in", None)
    return Duty(False, "none", None)


def station_scope(actor: Actor, station_id: str | None) -> str | None:
    """The station whose crews ``actor`` sees: their own (a station's staff), or the one
    asked for (county-wide staff; None: every station)."""
    if actor.station_id is not None and actor.role != Role.ADMIN:
        return actor.station_id
    return station_id


def field_users(session: Session, *, station_id: str | None, role: Role | None = None,
                user_ids: list[str] | None = None) -> list[User]:
    roles = [role.value] if role else sorted(r.value for r in FIELD_ROLES)
    stmt = select(User).where(col(User.active).is_(True), col(User.role).in_(roles))
    if station_id is not None:
        stmt = stmt.where(col(User.station_id) == station_id)
    if user_ids is not None:
        stmt = stmt.where(User.id.in_(user_ids))  # type: ignore[attr-defined]
    return list(session.execute(stmt.order_by(User.display_name, User.id)).scalars())


def roster(session: Session, users: list[User], now: datetime) -> list[CrewOut]:
    """Each user's duty, open jobs and last position, in a few set-wise queries."""
    ids = [u.id for u in users]
    if not ids:
        return []
    marks = {m.id: m for m in session.execute(
        select(CrewDuty).where(CrewDuty.id.in_(ids))).scalars()}  # type: ignore[attr-defined]
    seen: dict[str, datetime] = {uid: at for uid, at in session.execute(
        select(col(RefreshToken.user_id), func.max(func.coalesce(col(RefreshToken.used_at),
                                                                 col(RefreshToken.issued_at))))
        .where(col(RefreshToken.user_id).in_(ids))
        .group_by(col(RefreshToken.user_id))).all()}
    open_ = [s.value for s in OPEN_STATUSES]
    mine = and_(col(WorkOrder.assignee_id).in_(ids), col(WorkOrder.status).in_(open_))
    count: dict[str, int] = {str(who): int(n) for who, n in session.execute(
        select(col(WorkOrder.assignee_id), func.count()).where(mine)
        .group_by(col(WorkOrder.assignee_id))).all()}
    areas: dict[str, set[str]] = {}
    for who, area in session.execute(
            select(col(WorkOrder.assignee_id), col(WorkOrder.area_id)).where(mine)
            .group_by(col(WorkOrder.assignee_id), col(WorkOrder.area_id))).all():
        if area:
            areas.setdefault(str(who), set()).add(area)
    jobs: dict[str, list[OpenJobOut]] = {}
    for who in count:  # the most urgent few of each (an index range per person)
        jobs[who] = [OpenJobOut(id=r.id, code=r.code, kind=r.kind, status=r.status,
                                area_id=r.area_id) for r in session.execute(
            select(col(WorkOrder.id), col(WorkOrder.code), col(WorkOrder.kind),
                   col(WorkOrder.status), col(WorkOrder.area_id))
            .where(col(WorkOrder.assignee_id) == who, col(WorkOrder.status).in_(open_))
            .order_by(col(WorkOrder.complete_by)).limit(OPEN_SHOWN)).all()]
    positions = last_positions(session, ids, now)
    out = []
    for u in users:
        last_seen = as_utc(seen[u.id]) if seen.get(u.id) else None
        duty = duty_of(marks.get(u.id), last_seen, now)
        out.append(CrewOut(
            id=u.id, display_name=u.display_name, role=u.role, phone=u.phone,
            station_id=u.station_id, on_duty=duty.on_duty,
            duty_source=duty.source,  # type: ignore[arg-type]
            duty_set_at=duty.set_at, last_seen_at=last_seen, open_count=count.get(u.id, 0),
            open_jobs=jobs.get(u.id, []), open_areas=sorted(areas.get(u.id, ())),
            last_position=positions.get(u.id)))
    return out


def last_positions(session: Session, user_ids: list[str], now: datetime
                   ) -> dict[str, PositionOut]:
    """Each user's latest arrival with a GPS fix (within ``POSITION_DAYS``)."""
    out: dict[str, PositionOut] = {}
    since = now - timedelta(days=POSITION_DAYS)
    for user_id in user_ids:  # each person's latest arrivals (their index, newest first)
        rows = session.execute(
            select(col(WorkOrderEvent.occurred_at), col(WorkOrderEvent.data),
                   col(WorkOrderEvent.work_order_id))
            .where(col(WorkOrderEvent.actor_id) == user_id,
                   text(ARRIVALS),  # the arrivals index's own condition, as written
                   col(WorkOrderEvent.occurred_at) >= since)
            .order_by(col(WorkOrderEvent.occurred_at).desc()).limit(POSITION_LOOKBACK)).all()
        for at, data, order_id in rows:
            gps: dict[str, Any] | None = (data or {}).get("gps")
            if gps:
                out[user_id] = PositionOut(lat=gps["lat"], lon=gps["lon"],
                                           accuracy_m=gps.get("accuracy_m"), at=at,
                                           work_order_id=order_id)
                break
    return out
