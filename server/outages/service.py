"""Publish and cancel planned outage notices; list them. Each customer of a covered area
is told once per notice (inbox and SMS) in the same transaction. Services never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from server.customers.models import Account
from server.notifications.service import notify
from server.outages.models import Outage, OutageArea
from server.stations.models import TransformerArea
from server.uow import Scope, UnitOfWork
from shared.billing.notices import NoticeKind
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.outages import OutageDraft, check_cancel_reason, check_draft
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

OFFICE = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


def _local(at: datetime) -> str:
    return f"{at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}"


def _may_manage(actor: Actor, station_id: str) -> bool:
    return actor.role in OFFICE and (actor.role == Role.ADMIN or actor.station_id in (
        None, station_id))


def _tell(uow: UnitOfWork, outage: Outage, kind: NoticeKind) -> int:
    names = "、".join(a["name"] for a in outage.areas)
    accounts = uow.session.exec(select(Account).where(
        col(Account.area_id).in_(outage.area_ids)).order_by(col(Account.id))).all()
    params = {"outage_id": outage.id, "areas": names, "start": _local(outage.starts_at),
              "end": _local(outage.ends_at), "reason": outage.reason}
    if outage.cancel_reason:  # the notice ends the sentence with its own full stop
        params["cancel_reason"] = outage.cancel_reason.rstrip("。.!！ ")
    told = 0
    for account in accounts:
        note = notify(uow, account=account, kind=kind,
                      dedupe_key=f"{kind.value}:{outage.id}:{account.id}", params=params)
        told += note is not None
    return told


def publish(uow: UnitOfWork, *, actor: Actor, data: dict[str, Any],
            now: datetime | None = None) -> tuple[Outage, int]:
    """A new notice for one station's areas; returns it and how many accounts were told."""
    if actor.role not in OFFICE:
        raise DomainError(ErrorCode.FORBIDDEN)
    draft = check_draft(OutageDraft(tuple(data["area_ids"]), data["starts_at"],
                                    data["ends_at"], data["reason"]), now=now or utcnow())
    session = uow.session
    areas = session.exec(select(TransformerArea).where(
        col(TransformerArea.id).in_(draft.area_ids))).all()
    by_id = {a.id: a for a in areas}
    missing = [a for a in draft.area_ids if a not in by_id]
    if missing:
        raise DomainError(ErrorCode.AREA_NOT_FOUND, area=missing[0])
    stations = {a.station_id for a in areas}
    if len(stations) != 1:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="areas")
    station_id = stations.pop()
    if not _may_manage(actor, station_id):
        raise DomainError(ErrorCode.FORBIDDEN)
    outage = Outage(station_id=station_id, starts_at=draft.starts_at, ends_at=draft.ends_at,
                    reason=draft.reason, area_ids=list(draft.area_ids),
                    areas=[{"id": a, "name": by_id[a].name} for a in draft.area_ids],
                    created_by=actor.user_id)
    uow.changed(outage, scope=Scope(station_id, None, None))
    session.flush()
    session.add_all(OutageArea(outage_id=outage.id, area_id=a) for a in draft.area_ids)
    told = _tell(uow, outage, NoticeKind.OUTAGE_PLANNED)
    uow.audit(action="outage.publish", entity="outage", entity_id=outage.id,
              after={"areas": list(draft.area_ids), "starts_at": _local(outage.starts_at),
                     "ends_at": _local(outage.ends_at), "accounts_told": told})
    return outage, told


def cancel(uow: UnitOfWork, *, actor: Actor, outage_id: str, reason: str | None) -> Outage:
    """Cancel a notice with a reason (required: OUTAGE_CANCEL_REASON_INVALID otherwise,
    nothing changed): stored, audited, and stated in the notice each customer told of the
    outage gets. Cancelling a cancelled notice again changes nothing."""
    outage = uow.session.get(Outage, outage_id, with_for_update=True)
    if outage is None or not _may_manage(actor, outage.station_id):
        raise DomainError(ErrorCode.OUTAGE_NOT_FOUND, outage=outage_id)
    if outage.status == "cancelled":
        return outage
    why = check_cancel_reason(reason)
    outage.status, outage.cancelled_at, outage.cancel_reason = "cancelled", utcnow(), why
    outage.version += 1
    uow.changed(outage, scope=Scope(outage.station_id, None, None))
    told = _tell(uow, outage, NoticeKind.OUTAGE_CANCELLED)
    uow.audit(action="outage.cancel", entity="outage", entity_id=outage.id,
              before={"status": "published"},
              after={"status": "cancelled", "cancel_reason": why, "accounts_told": told},
              reason=why)
    return outage


def list_outages(session: Session, *, actor: Actor, current: bool = True,
                 limit: int = 100) -> list[Outage]:
    """The notices the actor may see, latest start first (``current``: not over yet)."""
    stmt = select(Outage)
    if actor.role == Role.CUSTOMER:
        areas = select(Account.area_id).where(col(Account.id).in_(sorted(actor.account_ids)))
        stmt = stmt.where(col(Outage.id).in_(
            select(OutageArea.outage_id).where(col(OutageArea.area_id).in_(areas))))
    elif actor.role != Role.ADMIN and actor.station_id is not None:
        stmt = stmt.where(Outage.station_id == actor.station_id)
    if current:
        stmt = stmt.where(col(Outage.ends_at) > utcnow())
    return list(session.exec(stmt.order_by(col(Outage.starts_at).desc()).limit(limit)).all())
