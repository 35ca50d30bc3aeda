"""An agent's end-of-day cash hand-over: the station counter (a manager, or an admin)
counts the cash against the day's receipts and confirms it — once, and only when the
count and total agree with what was recorded. The agent's phone gets the confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from server.billing.models import CashHandover, CashReceipt
from server.billing.recharges import cash_summary
from server.uow import Scope, UnitOfWork
from server.users.models import User
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.money import format_fen
from shared.workorders.state_machine import Actor

COUNTER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def confirm(uow: UnitOfWork, *, actor: Actor, agent_id: str, day: date, receipt_count: int,
            total_fen: int, note: str | None = None) -> CashHandover:
    if actor.role not in COUNTER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    if agent_id == actor.user_id:  # nobody confirms their own cash
        raise DomainError(ErrorCode.FORBIDDEN)
    session = uow.session
    summary = cash_summary(session, actor=actor, day=day, agent_id=agent_id)
    if summary["count"] == 0:
        raise DomainError(ErrorCode.HANDOVER_INVALID, summary="no cash recorded that day")
    if (receipt_count, total_fen) != (summary["count"], summary["total_fen"]):
        raise DomainError(ErrorCode.HANDOVER_INVALID, summary=(
            f"counted {receipt_count} / {format_fen(total_fen)}, recorded "
            f"{summary['count']} / {format_fen(summary['total_fen'])}"))
    done = session.exec(select(CashHandover).where(
        CashHandover.agent_id == agent_id, CashHandover.day == day)).first()
    if done is not None:
        raise DomainError(ErrorCode.HANDOVER_CONFIRMED, by=done.confirmed_by_name)
    agent = session.get(User, agent_id)
    me = session.get(User, actor.user_id)
    assert agent is not None and me is not None
    row = CashHandover(agent_id=agent_id, station_id=agent.station_id or "", day=day,
                       receipt_count=receipt_count, total_fen=total_fen,
                       confirmed_by=actor.user_id, confirmed_by_name=me.display_name,
                       note=(note or "").strip()[:200] or None)
    uow.changed(row, scope=Scope(agent.station_id, None, agent_id))
    uow.audit(action="cash.handover_confirm", entity="cash_handover", entity_id=row.id,
              after={"agent_id": agent_id, "day": day.isoformat(), "count": receipt_count,
                     "total_fen": total_fen})
    return row


def day_sheet(session: Session, *, actor: Actor, day: date) -> list[dict[str, Any]]:
    """Every agent of the actor's station (admins: all) with cash that day: the summary
    and the confirmation, if any."""
    if actor.role not in COUNTER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    stmt = select(CashReceipt.agent_id).where(CashReceipt.collected_day == day).distinct()
    if actor.role != Role.ADMIN and actor.station_id is not None:
        stmt = stmt.where(CashReceipt.station_id == actor.station_id)
    agents = sorted(session.exec(stmt).all())
    done = {h.agent_id: h for h in session.exec(select(CashHandover).where(
        CashHandover.day == day, col(CashHandover.agent_id).in_(agents))).all()}
    out = []
    for agent_id in agents:
        summary = cash_summary(session, actor=actor, day=day, agent_id=agent_id)
        h = done.get(agent_id)
        out.append({**summary, "confirmed_by_name": h.confirmed_by_name if h else None,
                    "confirmed_at": h.confirmed_at if h else None})
    return out
