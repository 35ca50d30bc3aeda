"""Tariff versions (data in the ``tariff`` table) and the alert/disconnect policy."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from server.billing.models import BillingPolicy, Tariff
from server.uow import UnitOfWork
from shared.billing.alerts import Policy
from shared.billing.tariff import Schedule, TariffError, TariffVersion, default_versions
from shared.enums import CustomerType
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor


def version_of(row: Tariff) -> TariffVersion:
    return TariffVersion.from_data(code=row.code, customer_type=row.customer_type,
                                   effective_from=row.effective_from, data=row.data,
                                   name=row.name)


def schedule(session: Session, customer_type: CustomerType | str) -> Schedule:
    """Every version of the customer type's tariff (the built-in default if none)."""
    rows = session.exec(select(Tariff).where(
        Tariff.customer_type == CustomerType(customer_type).value)).all()
    versions = [version_of(r) for r in rows] or [
        v for v in default_versions() if v.customer_type == CustomerType(customer_type)]
    return Schedule(versions)


def list_versions(session: Session) -> list[Tariff]:
    return list(session.exec(select(Tariff).order_by(col(Tariff.customer_type),
                                                     col(Tariff.effective_from))).all())


def add_version(uow: UnitOfWork, *, actor: Actor, code: str, name: str,
                customer_type: CustomerType, effective_from: date, data: dict[str, Any],
                today: date | None = None) -> Tariff:
    """A new version from a future day. Past days keep the prices they were charged at,
    so a re-rating of a late reading never reprices history."""
    today = today or utcnow().astimezone(LOCAL_TZ).date()
    try:
        version = TariffVersion.from_data(code=code, customer_type=customer_type,
                                          effective_from=effective_from, data=data, name=name)
    except TariffError as exc:
        raise DomainError(ErrorCode.TARIFF_INVALID, reason=str(exc)) from exc
    if effective_from <= today:
        raise DomainError(ErrorCode.TARIFF_EFFECTIVE_IN_PAST,
                          effective_from=effective_from.isoformat())
    clash = uow.session.exec(select(Tariff.id).where(
        Tariff.customer_type == customer_type.value,
        Tariff.effective_from == effective_from)).first()
    if clash:
        raise DomainError(ErrorCode.TARIFF_VERSION_EXISTS,
                          effective_from=effective_from.isoformat())
    row = Tariff(code=code, name=name, customer_type=customer_type,
                 effective_from=effective_from, data=version.to_data(),
                 created_by=actor.user_id)
    uow.session.add(row)
    uow.audit(action="tariff.add_version", entity="tariff", entity_id=row.id,
              after={"code": code, "customer_type": customer_type.value,
                     "effective_from": effective_from.isoformat(), "data": row.data})
    return row


# -- policy -------------------------------------------------------------------------------
def policy_row(session: Session) -> BillingPolicy:
    return session.get(BillingPolicy, "default") or BillingPolicy()


def policy(session: Session) -> Policy:
    row = policy_row(session)
    return Policy(low_balance_fen=row.low_balance_fen, low_days=row.low_days,
                  overdraft_limit_fen=row.overdraft_limit_fen, recent_days=row.recent_days)


def update_policy(uow: UnitOfWork, *, actor: Actor, values: dict[str, int]) -> BillingPolicy:
    session = uow.session
    row = session.get(BillingPolicy, "default", with_for_update=True)
    if row is None:
        row = BillingPolicy()
    before = row.model_dump(include=set(values))
    merged = {**row.model_dump(include={"low_balance_fen", "low_days",
                                        "overdraft_limit_fen", "recent_days"}), **values}
    try:
        Policy(**merged)
    except ValueError as exc:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary=str(exc)) from exc
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_by, row.updated_at = actor.user_id, utcnow()
    row.version += 1
    session.add(row)
    uow.audit(action="billing_policy.update", entity="billing_policy", entity_id=row.id,
              before=before, after=values)
    return row


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


def day_end(day: date) -> datetime:
    """The last instant of a local day, as an aware UTC time."""
    return (datetime.combine(day + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
            - timedelta(microseconds=1))
