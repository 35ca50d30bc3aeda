"""The review queue: resolved jobs a manager approves or returns with a reason.

Which jobs: resolved (or already confirmed by the customer) and not yet reviewed for
this resolution, picked by the review rules (data: a percentage per kind, ``*`` for the
rest; a job is in the sample when its code's last two digits are below the percentage —
``shared.supervision.sampled``). Returning reopens the job through the work-order rules
(``server.work_orders.service.act`` with ``reopen``), so the crew's phone gets it back as
reopened, with the reason, like any synced change; approving records the review only.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, and_, cast, exists, func, or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.supervision.models import JobReview, ReviewRule
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.billing.ledger import check_reason
from shared.enums import WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.supervision import (
    REVIEW_WINDOW_DAYS,
    REVIEWER_ROLES,
    ReviewOutcome,
    check_percent,
)
from shared.timeutil import utcnow
from shared.workorders.state_machine import Action, Actor

S = WorkOrderStatus
REVIEWABLE = (S.RESOLVED.value, S.CONFIRMED.value)


def _check_role(actor: Actor) -> None:
    if actor.role not in REVIEWER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)


def rules(session: Session) -> list[ReviewRule]:
    return list(session.exec(select(ReviewRule).order_by(col(ReviewRule.kind))).all())


def sample_clause(session: Session) -> ColumnElement[bool]:
    """The rules as one SQL condition on the job's kind and code."""
    by_kind = {r.kind: r.percent for r in rules(session)}
    bucket = cast(func.substr(WorkOrder.code, func.length(WorkOrder.code) - 1, 2), Integer)

    def pick(percent: int) -> ColumnElement[bool]:
        return true() if percent >= 100 else bucket < percent  # type: ignore[return-value]

    specific = {k: p for k, p in by_kind.items() if k != "*"}
    parts: list[ColumnElement[bool]] = [and_(WorkOrder.kind == k, pick(p))  # type: ignore[arg-type]
                                        for k, p in specific.items()]
    default = by_kind.get("*", 100)
    parts.append(and_(col(WorkOrder.kind).not_in(list(specific)) if specific else true(),
                      pick(default)))
    return or_(*parts)


def _reviewed() -> Any:
    return exists().where(JobReview.work_order_id == WorkOrder.id,
                          JobReview.resolved_at == WorkOrder.resolved_at)


def queue(session: Session, *, actor: Actor, kind: WorkOrderKind | None = None,
          station_id: str | None = None, limit: int = 50, offset: int = 0,
          now: datetime | None = None) -> tuple[list[WorkOrder], int]:
    """Resolved jobs waiting for review (oldest resolution first), resolved within the
    last ``REVIEW_WINDOW_DAYS``."""
    _check_role(actor)
    since = (now or utcnow()) - timedelta(days=REVIEW_WINDOW_DAYS)
    where: list[Any] = [work_orders.visible_clause(actor), col(WorkOrder.status).in_(REVIEWABLE),
                        col(WorkOrder.resolved_at) >= since, ~_reviewed(),
                        sample_clause(session)]
    if kind is not None:
        where.append(WorkOrder.kind == kind.value)
    if station_id:
        where.append(WorkOrder.station_id == station_id)
    total = session.exec(select(func.count()).select_from(WorkOrder).where(*where)).one()
    rows = session.exec(select(WorkOrder).where(*where)
                        .order_by(col(WorkOrder.resolved_at), col(WorkOrder.id))
                        .limit(limit).offset(offset)).all()
    return list(rows), int(total)


def _pending(session: Session, actor: Actor, order_id: str) -> WorkOrder:
    order = work_orders.get_visible(session, actor=actor, order_id=order_id, for_update=True)
    if order.status not in REVIEWABLE or order.resolved_at is None:
        raise DomainError(ErrorCode.REVIEW_NOT_PENDING)
    done = session.exec(select(JobReview.id).where(
        JobReview.work_order_id == order.id,
        JobReview.resolved_at == order.resolved_at)).first()
    if done is not None:
        raise DomainError(ErrorCode.REVIEW_NOT_PENDING)
    return order


def review(uow: UnitOfWork, *, actor: Actor, order_id: str, outcome: ReviewOutcome,
           reason: str | None = None, at: datetime | None = None) -> JobReview:
    """Approve a resolution, or return the job (reopened, with the reason)."""
    _check_role(actor)
    session = uow.session
    order = _pending(session, actor, order_id)
    resolved_at = order.resolved_at
    assert resolved_at is not None
    why = check_reason(reason) if (reason or outcome == ReviewOutcome.RETURNED) else None
    if outcome == ReviewOutcome.RETURNED:
        # the work-order rules decide (only a resolved job reopens; the reason is required)
        work_orders.act(uow, actor=actor, order_id=order.id, action=Action.REOPEN,
                        data={"reason": why}, at=at)
    row = JobReview(work_order_id=order.id, station_id=order.station_id,
                    resolved_at=resolved_at, outcome=outcome.value, reason=why,
                    reviewer_id=actor.user_id, reviewed_at=at or utcnow())
    session.add(row)
    uow.audit(action=f"review.{outcome.value}", entity="work_order", entity_id=order.id,
              after={"outcome": outcome.value, "code": order.code,
                     "resolved_at": resolved_at.isoformat()}, reason=why)
    return row


def set_rule(uow: UnitOfWork, *, actor: Actor, kind: str, percent: int) -> ReviewRule:
    """Set the sample percentage of ``kind`` (``*``: the default); managers and admins."""
    _check_role(actor)
    if kind != "*":
        try:
            WorkOrderKind(kind)
        except ValueError:
            raise DomainError(ErrorCode.VALIDATION_ERROR, field="kind",
                              summary="kind: unknown") from None
    percent = check_percent(percent)
    session = uow.session
    row = session.exec(select(ReviewRule).where(ReviewRule.kind == kind)).first()
    before = {"percent": row.percent} if row else {}
    if row is None:
        row = ReviewRule(kind=kind, percent=percent, updated_by=actor.user_id)
    else:
        row.percent, row.updated_by, row.updated_at = percent, actor.user_id, utcnow()
        row.version += 1
    session.add(row)
    uow.audit(action="review.rule", entity="review_rule", entity_id=kind, before=before,
              after={"percent": percent})
    return row


def history(session: Session, order_id: str) -> list[JobReview]:
    return list(session.exec(select(JobReview).where(JobReview.work_order_id == order_id)
                             .order_by(col(JobReview.reviewed_at))).all())
