"""An agent's end-of-day cash hand-over: the station counter (a manager, or an admin)
counts the cash and the paper receipts of the agent's day and enters what it counted;
``shared.billing.handover.decide_handover`` compares it with the receipts recorded. Equal:
confirmed; different: refused unless a note explains the difference, then confirmed with
a discrepancy (both figures kept, audited). Once per agent and day. The agent's phone gets
the confirmation."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from server.billing.models import CashHandover, CashReceipt
from server.billing.recharges import cash_summary
from server.uow import Scope, UnitOfWork
from server.users.models import User
from shared.billing.handover import Tally, decide_handover
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.workorders.state_machine import Actor

COUNTER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


def confirm(uow: UnitOfWork, *, actor: Actor, agent_id: str, day: date, receipt_count: int,
            total_fen: int, note: str | None = None) -> CashHandover:
    """``receipt_count`` and ``total_fen``: what the counter counted."""
    if actor.role not in COUNTER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    if agent_id == actor.user_id:  # nobody confirms their own cash
        raise DomainError(ErrorCode.FORBIDDEN)
    session = uow.session
    summary = cash_summary(session, actor=actor, day=day, agent_id=agent_id)
    done = session.exec(select(CashHandover).where(
        CashHandover.agent_id == agent_id, CashHandover.day == day)).first()
    if done is not None:
        raise DomainError(ErrorCode.HANDOVER_CONFIRMED, by=done.confirmed_by_name)
    decision = decide_handover(day=day, recorded=Tally(summary["count"], summary["total_fen"]),
                               counted=Tally(receipt_count, total_fen), note=note)
    agent = session.get(User, agent_id)
    me = session.get(User, actor.user_id)
    assert agent is not None and me is not None
    row = CashHandover(agent_id=agent_id, station_id=agent.station_id or "", day=day,
                       receipt_count=receipt_count, total_fen=total_fen,
                       recorded_count=decision.recorded.receipts,
                       recorded_fen=decision.recorded.total_fen,
                       confirmed_by=actor.user_id, confirmed_by_name=me.display_name,
                       note=decision.note)
    uow.changed(row, scope=Scope(agent.station_id, None, agent_id))
    uow.audit(action="cash.handover_confirm", entity="cash_handover", entity_id=row.id,
              after={"agent_id": agent_id, "day": day.isoformat(),
                     "counted_count": receipt_count, "counted_fen": total_fen,
                     "recorded_count": decision.recorded.receipts,
                     "recorded_fen": decision.recorded.total_fen,
                     "discrepancy": decision.discrepancy,
                     "difference_fen": decision.difference_fen},
              reason=decision.note)
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
        out.append({**summary, **_confirmation(done.get(agent_id))})
    return out


def _confirmation(h: CashHandover | None) -> dict[str, Any]:
    """How the counter confirmed a day (all None: not yet): what it counted, and whether
    that differed from the receipts recorded (then with the note that explains it)."""
    if h is None:
        return {"confirmed_by_name": None, "confirmed_at": None, "counted_count": None,
                "counted_fen": None, "recorded_count": None, "recorded_fen": None,
                "discrepancy": False, "difference_fen": 0, "note": None}
    recorded = (h.recorded_count if h.recorded_count is not None else h.receipt_count,
                h.recorded_fen if h.recorded_fen is not None else h.total_fen)
    return {"confirmed_by_name": h.confirmed_by_name, "confirmed_at": h.confirmed_at,
            "counted_count": h.receipt_count, "counted_fen": h.total_fen,
            "recorded_count": recorded[0], "recorded_fen": recorded[1],
            "discrepancy": (h.receipt_count, h.total_fen) != recorded,
            "difference_fen": h.total_fen - recorded[1], "note": h.note}
