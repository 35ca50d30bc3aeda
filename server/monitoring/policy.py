"""The monitoring thresholds and the line-loss norms per area type, as data.

The migration writes the defaults (those of ``../shared/product.md``: collection target
98 %, heavy load 80-100 % and overload above 100 % sustained 2 h, normal loss 0-10 %);
admins change them through the API, every change audited.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from server.monitoring.models import LossNormRow, MonitoringPolicy
from server.uow import UnitOfWork
from shared.enums import AreaClass
from shared.errors import DomainError, ErrorCode
from shared.monitoring.formulas import LossNorm
from shared.timeutil import utcnow

#: Allowed ranges of each setting (inclusive).
_RANGES: dict[str, tuple[float, float]] = {
    "collection_target": (0.5, 1.0), "failing_days": (1, 60), "heavy_rate": (0.3, 1.5),
    "overload_rate": (0.5, 2.0), "sustained_minutes": (15, 24 * 60),
    "power_factor": (0.5, 1.0), "unreliable_share": (0.0, 0.5), "baseline_days": (3, 60),
    "stopped_days": (1, 30), "recent_days": (1, 30), "history_days": (7, 120),
    "quiet_days": (0, 365),
}
_INT_FIELDS = frozenset({"failing_days", "sustained_minutes", "baseline_days", "stopped_days",
                         "recent_days", "history_days", "quiet_days"})


def load_policy(session: Session) -> MonitoringPolicy:
    row = session.get(MonitoringPolicy, "default")
    return row if row is not None else MonitoringPolicy()


def load_norms(session: Session) -> dict[str, LossNorm]:
    """Loss norm by area class (a class without a row gets the product's 0-10 %)."""
    rows = {r.area_class: LossNorm(r.low, r.high, r.jump)
            for r in session.exec(select(LossNormRow)).all()}
    return {c.value: rows.get(c.value, LossNorm()) for c in AreaClass}


def _bad(reason: str) -> DomainError:
    return DomainError(ErrorCode.MONITORING_POLICY_INVALID, reason=reason)


def update_policy(uow: UnitOfWork, *, values: dict[str, Any]) -> MonitoringPolicy:
    session = uow.session
    row = session.get(MonitoringPolicy, "default", with_for_update=True) or MonitoringPolicy()
    before = row.model_dump(mode="json", exclude={"updated_at"})
    for name, value in values.items():
        if name == "auto_dispatch":
            if not isinstance(value, bool):
                raise _bad("auto_dispatch: true or false")
        elif name in _RANGES:
            lo, hi = _RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    lo <= value <= hi) or (name in _INT_FIELDS and value != int(value)):
                raise _bad(f"{name}: from {lo} to {hi}")
        else:
            raise _bad(f"unknown setting {name}")
        setattr(row, name, int(value) if name in _INT_FIELDS else value)
    if row.heavy_rate >= row.overload_rate:
        raise _bad("heavy_rate must be below overload_rate")
    row.updated_at = utcnow()
    row.version += 1
    session.add(row)
    uow.audit(action="monitoring.policy", entity="monitoring_policy", entity_id="default",
              before=before, after=row.model_dump(mode="json", exclude={"updated_at"}))
    return row


def update_norm(uow: UnitOfWork, *, area_class: str, low: float, high: float,
                jump: float) -> LossNormRow:
    try:
        AreaClass(area_class)
    except ValueError:
        raise _bad(f"unknown area type {area_class!r}") from None
    if not (-0.2 <= low < high <= 0.5 and 0 < jump <= 0.5):
        raise _bad("norms: -0.2 <= low < high <= 0.5 and 0 < jump <= 0.5")
    session = uow.session
    row = session.get(LossNormRow, area_class, with_for_update=True)
    before = None if row is None else {"low": row.low, "high": row.high, "jump": row.jump}
    row = row or LossNormRow(area_class=area_class)
    row.low, row.high, row.jump, row.updated_at = low, high, jump, utcnow()
    session.add(row)
    uow.audit(action="monitoring.loss_norm", entity="loss_norm", entity_id=area_class,
              before=before, after={"low": low, "high": high, "jump": jump})
    return row
