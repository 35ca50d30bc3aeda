"""The desk's customer lookup and account view (counter clerks, dispatchers, managers).

Find by account number, meter number, phone, name, address, or an ID-card / property
certificate number — those are matched by their keyed digest (HMAC with the server's
lookup pepper) and only ever shown masked. A station's staff find only their station's
customers (``server.customers.service.visible_clause``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from server.billing.models import LedgerEntry, PurchaseCountCorrection
from server.customers import service as customers
from server.customers.models import Account
from server.meter_commands.models import MeterCommand
from server.meters.models import Meter, MeterReading
from server.notifications.models import Notification
from server.supervision.models import ApprovalRequest
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.enums import MeterStatus, Role
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import centi_to_kwh
from shared.text import escape_like
from shared.workorders.state_machine import Actor

DESK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


def _check(actor: Actor) -> None:
    if actor.role not in DESK_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)


def search(session: Session, *, actor: Actor, q: str, pepper: str, limit: int, offset: int
           ) -> tuple[list[tuple[Account, Meter | None]], int]:
    """Exact: account no., meter no., phone, ID-card / certificate digest; partial: name,
    address (not for a run of six or more digits). Ordered by account number."""
    _check(actor)
    q = q.strip()
    digest = customers.document_digest(q, pepper=pepper)
    like = f"%{escape_like(q)}%"
    by_meter = select(Meter.account_id).where(Meter.meter_no == q,
                                              col(Meter.account_id).is_not(None))
    exact = [Account.account_no == q, Account.phone == q, Account.id_card_digest == digest,
             Account.property_cert_digest == digest, col(Account.id).in_(by_meter)]
    # a long run of digits (account, phone, ID number) is looked up exactly, on the
    # indexes; anything else also matches a part of the name or the address (a scan)
    partial = [] if (q.isdigit() and len(q) >= 6) else [
        col(Account.name).like(like, escape="\\"),
        col(Account.address).like(like, escape="\\")]
    match = or_(*exact, *partial)
    where = [customers.visible_clause(actor), match]
    total = int(session.exec(select(func.count()).select_from(Account).where(*where)).one())
    rows = list(session.exec(select(Account).where(*where).order_by(col(Account.account_no))
                             .limit(limit).offset(offset)).all())
    return [(a, m) for a, m in zip(rows, _meters(session, rows), strict=True)], total


def _meters(session: Session, accounts: list[Account]) -> list[Meter | None]:
    ids = [a.id for a in accounts]
    found = {m.account_id: m for m in session.exec(select(Meter).where(
        col(Meter.account_id).in_(ids), Meter.status == MeterStatus.INSTALLED.value)).all()
    } if ids else {}
    return [found.get(a.id) for a in accounts]


def account_view(session: Session, *, actor: Actor, account_id: str, now: datetime,
                 days: int = 90) -> dict[str, Any]:
    """Everything the desk shows of one account, in one answer (a few queries each
    bounded by a limit)."""
    _check(actor)
    account = customers.get_visible(session, actor=actor, account_id=account_id)
    meter = _meters(session, [account])[0]
    ledger = session.exec(select(LedgerEntry).where(LedgerEntry.account_id == account.id)
                          .order_by(col(LedgerEntry.seq).desc()).limit(30)).all()
    ledger_total = session.exec(select(func.count()).select_from(LedgerEntry)
                                .where(LedgerEntry.account_id == account.id)).one()
    readings = session.exec(select(MeterReading).where(
        MeterReading.account_id == account.id,
        MeterReading.read_date >= (now - timedelta(days=days)).date())
        .order_by(col(MeterReading.read_at))).all()
    jobs = list(session.exec(select(WorkOrder).where(WorkOrder.account_id == account.id)
                             .order_by(col(WorkOrder.reported_at).desc()).limit(10)).all())
    events: dict[str, list[dict[str, Any]]] = {}
    if jobs:
        for ev in session.exec(select(WorkOrderEvent).where(
                col(WorkOrderEvent.work_order_id).in_([j.id for j in jobs]))
                .order_by(col(WorkOrderEvent.occurred_at))).all():
            events.setdefault(ev.work_order_id, []).append({
                "action": ev.action, "to_status": ev.to_status, "actor_role": ev.actor_role,
                "occurred_at": ev.occurred_at, "reason": (ev.data or {}).get("reason")})
    commands = session.exec(select(MeterCommand).where(MeterCommand.account_id == account.id)
                            .order_by(col(MeterCommand.created_at).desc()).limit(10)).all()
    messages = session.exec(select(Notification).where(Notification.account_id == account.id)
                            .order_by(col(Notification.created_at).desc()).limit(20)).all()
    corrections = session.exec(select(PurchaseCountCorrection).where(
        PurchaseCountCorrection.account_id == account.id)
        .order_by(col(PurchaseCountCorrection.at).desc()).limit(20)).all()
    pending = session.exec(select(ApprovalRequest).where(
        ApprovalRequest.account_id == account.id, ApprovalRequest.status == "pending")
        .order_by(col(ApprovalRequest.requested_at).desc()).limit(20)).all()
    return {
        "account": account_out(account, meter),
        "meter": None if meter is None else {
            "id": meter.id, "meter_no": meter.meter_no, "model": meter.model,
            "status": meter.status, "purchase_count": meter.purchase_count,
            "balance_fen": meter.balance_fen, "installed_at": meter.installed_at,
            "last_reading_kwh": str(centi_to_kwh(meter.last_reading_centi))
            if meter.last_reading_centi is not None else None,
            "last_reading_at": meter.last_reading_at},
        "ledger": [{"seq": e.seq, "kind": e.kind, "amount_fen": e.amount_fen,
                    "balance_after_fen": e.balance_after_fen, "reason": e.reason,
                    "occurred_at": e.occurred_at} for e in ledger],
        "ledger_total": int(ledger_total),
        "readings": [{"read_date": r.read_date, "kwh": str(centi_to_kwh(r.value_centi))}
                     for r in readings],
        "jobs": [{"id": j.id, "code": j.code, "kind": j.kind, "status": j.status,
                  "reported_at": j.reported_at, "description": j.description,
                  "timeline": events.get(j.id, [])} for j in jobs],
        "commands": [{"id": c.id, "kind": c.kind, "state": c.state, "origin": c.origin,
                      "reason": c.reason, "created_at": c.created_at} for c in commands],
        "messages": [{"id": n.id, "kind": n.kind, "title_zh": n.title_zh,
                      "title_en": n.title_en, "created_at": n.created_at,
                      "read_at": n.read_at} for n in messages],
        "purchase_count_corrections": [
            {"id": c.id, "old_count": c.old_count, "new_count": c.new_count,
             "reason": c.reason, "actor_id": c.actor_id, "at": c.at} for c in corrections],
        "pending_approvals": [
            {"id": p.id, "kind": p.kind, "amount_fen": p.amount_fen,
             "new_count": p.new_count, "reason": p.reason, "requested_at": p.requested_at}
            for p in pending],
    }


def account_out(a: Account, meter: Meter | None) -> dict[str, Any]:
    return {"id": a.id, "account_no": a.account_no, "name": a.name, "phone": a.phone,
            "address": a.address, "customer_type": a.customer_type,
            "station_id": a.station_id, "area_id": a.area_id,
            "id_card_masked": a.id_card_masked, "property_cert_masked": a.property_cert_masked,
            "care_flag": a.care_flag, "care_reason": a.care_reason,
            "balance_fen": a.balance_fen, "alert_level": a.alert_level,
            "supply_state": a.supply_state, "capacity_kw": a.capacity_kw,
            "status": a.status, "closed_at": a.closed_at,
            "meter_no": meter.meter_no if meter else None,
            "meter_id": meter.id if meter else None, "version": a.version}
