"""The dispatch board's queries: its lists, their counts, paged rows, one job's panel.

Everything is filtered on the server by who is asking (``visible_clause``: a station's
dispatcher sees that station's jobs only), the list, and the desk's filters (station,
area, kind, priority, a search over code, account number, phone and address). Rows come
with what the board shows (area name, account number, assignee, stall reasons, the
deadline that counts now) from one query per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from server.customers.models import Account
from server.dispatch.models import WorkOrderStall
from server.dispatch.schemas import BoardList, BoardRow
from server.stations.models import TransformerArea
from server.users.models import User
from server.work_orders.models import WorkOrder
from server.work_orders.schemas import PersonOut
from server.work_orders.service import visible_clause
from shared.enums import OPEN_STATUSES, Priority, Role, WorkOrderKind, WorkOrderStatus
from shared.workorders import deadlines
from shared.workorders.state_machine import Actor

S = WorkOrderStatus
W = WorkOrder.__table__.c  # type: ignore[attr-defined]
_OPEN = sorted(s.value for s in OPEN_STATUSES)
_NOT_ARRIVED = sorted(s.value for s in deadlines.NOT_ARRIVED)
#: Statuses any board list can show.
_ON_BOARD = sorted({*_OPEN, S.RESOLVED.value})
_PRIORITY_RANK = case({p.value: i for i, p in enumerate(Priority)}, value=W.priority, else_=9)


@dataclass(frozen=True)
class BoardFilter:
    station_id: str | None = None
    area_id: str | None = None
    kind: WorkOrderKind | None = None
    priority: Priority | None = None
    q: str | None = None


def overdue_now(now: datetime) -> ColumnElement[bool]:
    """Open and past the deadline that counts (arrival until on site, then completion)."""
    return and_(W.status.in_(_OPEN), or_(
        W.complete_by < now,
        and_(W.status.in_(_NOT_ARRIVED), W.arrive_by.is_not(None), W.arrive_by < now)))


STALLED_IDS = select(col(WorkOrderStall.id)).where(
    WorkOrderStall.active.is_(True))  # type: ignore[attr-defined]


def list_clause(name: BoardList, now: datetime) -> ColumnElement[bool]:
    if name == BoardList.UNASSIGNED:
        return W.status == S.REPORTED.value  # type: ignore[no-any-return]
    if name == BoardList.DISPATCHED:
        return W.status == S.DISPATCHED.value  # type: ignore[no-any-return]
    if name == BoardList.IN_PROGRESS:
        return W.status.in_([S.ACCEPTED.value, S.EN_ROUTE.value,  # type: ignore[no-any-return]
                             S.ON_SITE.value])
    if name == BoardList.OVERDUE:
        return overdue_now(now)
    if name == BoardList.STALLED:
        return and_(W.status.in_(_OPEN), W.id.in_(STALLED_IDS))
    return W.status == S.RESOLVED.value  # type: ignore[no-any-return]


def search_clause(q: str) -> ColumnElement[bool]:
    """Code, account number, contact phone (exact) or a part of the address."""
    q = q.strip()
    accounts = select(col(Account.id)).where(col(Account.account_no) == q)
    like = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return or_(W.code == q.upper(), W.contact_phone == q, W.account_id.in_(accounts),
               W.address.like(f"%{like}%", escape="\\"))


def filter_clauses(actor: Actor, f: BoardFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [visible_clause(actor)]
    if f.station_id:
        conds.append(W.station_id == f.station_id)
    if f.area_id:
        conds.append(W.area_id == f.area_id)
    if f.kind:
        conds.append(W.kind == f.kind.value)
    if f.priority:
        conds.append(W.priority == f.priority.value)
    if f.q and f.q.strip():
        conds.append(search_clause(f.q))
    return conds


def _urgency(name: BoardList) -> list[Any]:
    if name == BoardList.AWAITING_CONFIRMATION:
        return [W.resolved_at, W.code]
    if name == BoardList.UNASSIGNED:
        return [_PRIORITY_RANK, W.reported_at, W.code]
    deadline = case((and_(W.status.in_(_NOT_ARRIVED), W.arrive_by.is_not(None)), W.arrive_by),
                    else_=W.complete_by)
    return [deadline, _PRIORITY_RANK, W.code]


_ASSIGNEE = aliased(User)


def page(session: Session, *, actor: Actor, name: BoardList, f: BoardFilter, now: datetime,
         limit: int, offset: int) -> tuple[list[BoardRow], int]:
    where = and_(*filter_clauses(actor, f), list_clause(name, now))
    total = session.execute(select(func.count()).select_from(WorkOrder).where(where)).scalar()
    stmt = (select(WorkOrder, col(TransformerArea.name), col(Account.account_no),  # type: ignore[call-overload]
                   _ASSIGNEE.display_name, _ASSIGNEE.role, _ASSIGNEE.phone,
                   col(WorkOrderStall.reasons), col(WorkOrderStall.active))
            .outerjoin(TransformerArea, TransformerArea.id == W.area_id)
            .outerjoin(Account, Account.id == W.account_id)
            .outerjoin(_ASSIGNEE, _ASSIGNEE.id == W.assignee_id)
            .outerjoin(WorkOrderStall, WorkOrderStall.id == W.id)
            .where(where).order_by(*_urgency(name)).limit(limit).offset(offset))
    rows = [_row(*r, now=now) for r in session.execute(stmt).all()]
    return rows, int(total or 0)


def _row(o: WorkOrder, area_name: str | None, account_no: str | None, a_name: str | None,
         a_role: str | None, a_phone: str | None, reasons: list[dict[str, Any]] | None,
         stall_active: bool | None, *, now: datetime) -> BoardRow:
    status = S(o.status)
    when, which = deadlines.next_deadline(status=status, arrive_by=o.arrive_by,
                                          complete_by=o.complete_by)
    is_open = status in OPEN_STATUSES
    return BoardRow(
        id=o.id, code=o.code, kind=o.kind, status=status, priority=o.priority,
        station_id=o.station_id, area_id=o.area_id, area_name=area_name,
        area_class=o.area_class, address=o.address, account_no=account_no,
        contact_phone=o.contact_phone,
        assignee=PersonOut(id=o.assignee_id, display_name=a_name or "", role=Role(a_role),
                           phone=a_phone) if o.assignee_id and a_role else None,
        reported_at=o.reported_at, dispatched_at=o.dispatched_at, resolved_at=o.resolved_at,
        arrive_by=o.arrive_by, complete_by=o.complete_by,
        next_deadline=when if is_open else None,
        next_deadline_kind=("arrival" if which == "arrival" else "completion")
        if is_open else None,
        overdue=bool(is_open and when is not None and when < now),
        stall_reasons=[r.get("trigger", "") for r in reasons or []]
        if stall_active and is_open else [],
        help_requested=o.help_requested, lat=o.lat, lon=o.lon, version=o.version)


def counts(session: Session, *, actor: Actor, f: BoardFilter, now: datetime
           ) -> dict[BoardList, int]:
    """Every list's count in one pass over the board's jobs."""
    one, zero = literal(1), literal(0)
    stalled = WorkOrderStall.active.is_(True)  # type: ignore[attr-defined]
    cols = [func.coalesce(func.sum(case((list_clause(name, now) if name != BoardList.STALLED
                                          else and_(W.status.in_(_OPEN), stalled), one),
                                         else_=zero)), 0)
            for name in BoardList]
    stmt = (select(*cols).select_from(WorkOrder)
            .outerjoin(WorkOrderStall, WorkOrderStall.id == W.id)
            .where(*filter_clauses(actor, f), W.status.in_(_ON_BOARD)))
    values = session.execute(stmt).one()
    return {name: int(v) for name, v in zip(BoardList, values, strict=True)}
