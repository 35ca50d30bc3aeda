"""Customer accounts: visibility, identity-document digests and masking."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, select

from server.customers.models import Account
from shared.enums import FIELD_ROLES, Role
from shared.errors import DomainError, ErrorCode
from shared.workorders.state_machine import Actor


def normalize_document(value: str) -> str:
    return "".join(value.split()).upper()


def document_digest(value: str, *, pepper: str) -> str:
    """Keyed digest of an ID-card / certificate number: exact lookup without storing it."""
    return hmac.new(pepper.encode(), normalize_document(value).encode(),
                    hashlib.sha256).hexdigest()


def mask_document(value: str, *, keep_start: int = 4, keep_end: int = 4) -> str:
    v = normalize_document(value)
    if len(v) <= keep_start + keep_end:
        return "*" * len(v)
    return v[:keep_start] + "*" * (len(v) - keep_start - keep_end) + v[-keep_end:]


def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """Accounts ``actor`` may see.

    Customers: their own. Crews and meter technicians: the accounts their visible jobs
    touch. Agents and office staff: their station's (office without a station: all).
    """
    from server.work_orders.models import WorkOrder
    from server.work_orders.service import visible_clause as jobs_visible

    if actor.role == Role.CUSTOMER:
        return Account.id.in_(sorted(actor.account_ids))  # type: ignore[attr-defined]
    if actor.role in (Role.CREW, Role.METER_TECH):
        return Account.id.in_(  # type: ignore[attr-defined]
            select(WorkOrder.account_id).where(jobs_visible(actor)))
    if actor.role == Role.ADMIN or (actor.station_id is None and actor.role not in FIELD_ROLES):
        return true()
    if actor.station_id is None:
        return false()
    return Account.station_id == actor.station_id  # type: ignore[return-value]


def get_visible(session: Session, *, actor: Actor, account_id: str) -> Account:
    account = session.exec(select(Account).where(Account.id == account_id,
                                                 visible_clause(actor))).first()
    if account is None:
        raise DomainError(ErrorCode.ACCOUNT_NOT_FOUND, account=account_id)
    return account
