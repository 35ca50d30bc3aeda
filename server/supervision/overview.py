"""The station overview: today's jobs by state, overdue and stalled counts, the crews'
load — a handful of grouped counts, never a row per job."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.dispatch import roster as rosters
from server.dispatch.models import WorkOrderStall
from server.supervision import reviews
from server.supervision.models import ApprovalRequest
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.enums import OPEN_STATUSES, Role, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.supervision import ApprovalStatus
from shared.timeutil import LOCAL_TZ
from shared.workorders.state_machine import Actor

VIEW_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
DONE = (WorkOrderStatus.RESOLVED.value, WorkOrderStatus.CONFIRMED.value,
        WorkOrderStatus.CLOSED.value)


def overview(session: Session, *, actor: Actor, station_id: str | None, now: datetime
             ) -> dict[str, Any]:
    if actor.role not in VIEW_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    station = rosters.station_scope(actor, station_id)
    base: list[Any] = [work_orders.visible_clause(actor)]
    if station:
        base.append(WorkOrder.station_id == station)
    midnight = datetime.combine(now.astimezone(LOCAL_TZ).date(), time.min, tzinfo=LOCAL_TZ)
    open_ = [s.value for s in OPEN_STATUSES]

    def by_status(*where: Any) -> dict[str, int]:
        # today's jobs: counted here, not GROUP BY status: SQLite would walk the status
        # index (every job) instead of the narrow range of reported_at
        return dict(Counter(str(s) for s in session.exec(
            select(WorkOrder.status).where(*base, *where)).all()))

    def grouped(*where: Any) -> dict[str, int]:
        # the open jobs: a narrow range of the (station,) status index, counted in the
        # database (thousands of rows on a county: loading them made garbage enough for a
        # full collection now and then -- the overview's p95)
        rows = session.exec(select(WorkOrder.status, func.count()).where(*base, *where)
                            .group_by(WorkOrder.status)).all()
        return {str(status): int(n) for status, n in rows}

    def count(*where: Any) -> int:
        return int(session.exec(select(func.count()).select_from(WorkOrder)
                                .where(*base, *where)).one())

    overdue = count(col(WorkOrder.status).in_(open_), work_orders.overdue_clause(now))
    stall_where: list[Any] = [col(WorkOrderStall.active).is_(True)]
    if station:
        stall_where.append(WorkOrderStall.station_id == station)
    stalled = int(session.exec(select(func.count()).select_from(WorkOrderStall)
                               .where(*stall_where)).one())
    approvals: list[Any] = [ApprovalRequest.status == ApprovalStatus.PENDING.value]
    if station:
        approvals.append(ApprovalRequest.station_id == station)
    _, to_review = reviews.queue(session, actor=actor, station_id=station, limit=1)
    crews = rosters.roster(session, rosters.field_users(session, station_id=station), now)
    return {
        "station_id": station,
        "today_reported": by_status(col(WorkOrder.reported_at) >= midnight),
        "open_by_status": grouped(col(WorkOrder.status).in_(open_)),
        # on the (status, resolved_at) index: jobs resolved today and still resolved
        "resolved_today": count(col(WorkOrder.status).in_(DONE),
                                col(WorkOrder.resolved_at) >= midnight),
        "overdue": overdue,
        "stalled": stalled,
        "to_review": to_review,
        "pending_approvals": int(session.exec(select(func.count())
                                              .select_from(ApprovalRequest)
                                              .where(*approvals)).one()),
        "crews": [{"id": c.id, "display_name": c.display_name, "role": c.role.value,
                   "on_duty": c.on_duty, "open_count": c.open_count,
                   "last_seen_at": c.last_seen_at} for c in crews],
    }
