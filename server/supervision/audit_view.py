"""The audit viewer: who changed what, when, from which device — read-only, paged on the
server, filtered by person, account, job, kind and date, exportable to CSV.

Managers of a station see the entries made by their station's staff and the entries about
their station's jobs, accounts and meters; admins and county-wide managers see all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from server.audit.models import AuditLog
from server.customers.models import Account
from server.meters.models import Meter
from server.supervision.models import ApprovalRequest
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ
from shared.workorders.state_machine import Actor

VIEW_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
CSV_MAX_ROWS = 50_000
#: A page says "N entries" up to this many; past it, "more than N" (counting a county's
#: whole log on every page would cost more than the page).
COUNT_CAP = 1_000
CSV_COLUMNS = ("seq", "at", "actor_id", "actor_name", "actor_role", "device_id", "action",
               "entity", "entity_id", "reason", "before", "after")


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=LOCAL_TZ)


def _about_account(account_id: str) -> Any:
    """Entries about an account: itself, its jobs, its meters, its requests (an account has
    few of each: short id lists, looked up by the entity index)."""
    return or_(
        col(AuditLog.entity_id) == account_id,
        col(AuditLog.entity_id).in_(select(WorkOrder.id).where(
            WorkOrder.account_id == account_id)),
        col(AuditLog.entity_id).in_(select(Meter.id).where(Meter.account_id == account_id)),
        col(AuditLog.entity_id).in_(select(ApprovalRequest.id).where(
            ApprovalRequest.account_id == account_id)))


def _about_station(station_id: str) -> Any:
    """Entries by the station's staff, or about its jobs, accounts, meters, requests."""
    e = AuditLog.entity_id
    return or_(
        exists().where(User.id == AuditLog.actor_id, User.station_id == station_id),
        exists().where(WorkOrder.id == e, WorkOrder.station_id == station_id),
        exists().where(Account.id == e, Account.station_id == station_id),
        exists().where(Meter.id == e, Meter.station_id == station_id),
        exists().where(ApprovalRequest.id == e, ApprovalRequest.station_id == station_id))


def filters(session: Session, *, actor: Actor, person: str | None = None,
            account: str | None = None, job: str | None = None, kind: str | None = None,
            since: date | None = None, until: date | None = None) -> list[Any]:
    """The WHERE of a query; ``person`` a user id or user name, ``account`` an account id
    or number, ``job`` a job id or code, ``kind`` an action (``ledger.refund``) or its
    prefix (``ledger``)."""
    if actor.role not in VIEW_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    where: list[Any] = []
    if actor.role == Role.MANAGER and actor.station_id is not None:
        where.append(_about_station(actor.station_id))
    if person:
        uid = session.exec(select(User.id).where(
            or_(User.id == person, User.username == person))).first()
        where.append(col(AuditLog.actor_id) == (uid or person))
    if account:
        aid = session.exec(select(Account.id).where(
            or_(Account.id == account, Account.account_no == account))).first()
        where.append(_about_account(aid or account))
    if job:
        jid = session.exec(select(WorkOrder.id).where(
            or_(WorkOrder.id == job, WorkOrder.code == job))).first()
        where.append(col(AuditLog.entity_id) == (jid or job))
    if kind:
        where.append(or_(col(AuditLog.action) == kind,
                         col(AuditLog.action).startswith(kind.rstrip(".") + ".")))
    if since:
        where.append(col(AuditLog.at) >= _day_start(since))
    if until:
        where.append(col(AuditLog.at) < _day_start(until + timedelta(days=1)))
    return where


def page(session: Session, where: list[Any], *, limit: int, offset: int
         ) -> tuple[list[AuditLog], int, dict[str, str]]:
    """Newest first; with the display names of the people in the page. The total is
    counted up to ``COUNT_CAP + 1`` (more than ``COUNT_CAP``: there are more)."""
    matching = select(AuditLog.id).where(*where).limit(COUNT_CAP + 1).subquery()
    total = session.exec(select(func.count()).select_from(matching)).one()
    rows = list(session.exec(select(AuditLog).where(*where)
                             .order_by(col(AuditLog.seq).desc(), col(AuditLog.id).desc())
                             .limit(limit).offset(offset)).all())
    return rows, int(total), names(session, rows)


def names(session: Session, rows: list[AuditLog]) -> dict[str, str]:
    ids = sorted({r.actor_id for r in rows if r.actor_id})
    if not ids:
        return {}
    return {uid: name for uid, name in session.exec(
        select(User.id, User.display_name).where(col(User.id).in_(ids))).all()}


def csv_rows(session: Session, where: list[Any], *, batch: int = 2000) -> Iterator[str]:
    """The entries as CSV text (a header, then at most ``CSV_MAX_ROWS``), in batches."""
    import json

    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    yield "\ufeff" + buf.getvalue()  # a BOM: spreadsheet programs then read UTF-8
    sent = 0
    last_seq: int | None = None
    while sent < CSV_MAX_ROWS:
        stmt = select(AuditLog).where(*where)
        if last_seq is not None:
            stmt = stmt.where(col(AuditLog.seq) < last_seq)
        rows = list(session.exec(stmt.order_by(col(AuditLog.seq).desc())
                                 .limit(min(batch, CSV_MAX_ROWS - sent))).all())
        if not rows:
            return
        who = names(session, rows)
        buf.seek(0)
        buf.truncate()
        for r in rows:
            writer.writerow([r.seq, r.at.isoformat(), r.actor_id or "",
                             who.get(r.actor_id or "", ""), r.actor_role or "",
                             r.device_id or "", r.action, r.entity, r.entity_id,
                             r.reason or "", json.dumps(r.before, ensure_ascii=False),
                             json.dumps(r.after, ensure_ascii=False)])
        yield buf.getvalue()
        sent += len(rows)
        last_seq = rows[-1].seq
        if last_seq is None:
            return
