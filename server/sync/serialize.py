"""Rows as the devices see them: plain JSON dicts, read with Core (fast, no ORM objects)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, Table, select
from sqlmodel import Session

from server.applications.models import Application
from server.billing.models import CashHandover, LedgerEntry
from server.customers.models import Account
from server.meters.models import Meter, MeterReading, MeterSwap
from server.monitoring.models import InspectionFinding
from server.notifications.models import Notification
from server.outages.models import Outage
from server.payments.models import PaymentOrder
from server.photos.models import PhotoLink
from server.stations.models import Station, TransformerArea
from server.users.models import User
from server.work_orders.models import WorkOrder, WorkOrderEvent

MODELS: dict[str, Any] = {
    "station": Station, "transformer_area": TransformerArea, "account": Account,
    "meter": Meter, "meter_reading": MeterReading, "work_order": WorkOrder,
    "work_order_event": WorkOrderEvent, "meter_swap": MeterSwap, "photo_link": PhotoLink,
    "ledger_entry": LedgerEntry, "notification": Notification, "payment_order": PaymentOrder,
    "outage": Outage, "cash_handover": CashHandover,
    "application": Application,
    "inspection_finding": InspectionFinding,
}
#: Columns never sent to a device.
HIDDEN: dict[str, frozenset[str]] = {
    "account": frozenset({"id_card_digest", "property_cert_digest"}),
    "ledger_entry": frozenset({"dedupe_key"}),
    "notification": frozenset({"dedupe_key"}),
    "payment_order": frozenset({"idempotency_key"}),
    "application": frozenset({"id_card_digest"}),
}


def table(entity: str) -> Table:
    return MODELS[entity].__table__  # type: ignore[no-any-return]


def columns(entity: str) -> list[Any]:
    hidden = HIDDEN.get(entity, frozenset())
    return [c for c in table(entity).columns if c.name not in hidden]


def select_rows(entity: str) -> Select[Any]:
    return select(*columns(entity))


def _json_value(v: Any) -> Any:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return str(v)
    return v


_PLAIN = (str, int, float, bool, dict, list)


def _converter(entity: str, name: str) -> Callable[[Any], Any] | None:
    """How a column's values become JSON (None: as they are), from the column's type;
    ``_json_value`` when the type does not say."""
    col = table(entity).columns.get(name)
    try:
        kind = col.type.python_type if col is not None else None
    except NotImplementedError:
        kind = None
    if kind is not None and issubclass(kind, datetime | date):
        return _isoformat
    if kind is not None and issubclass(kind, Decimal):
        return str
    if kind is not None and issubclass(kind, _PLAIN):
        return None
    return _json_value


def _isoformat(v: Any) -> Any:
    return v.isoformat()


@functools.lru_cache(maxsize=256)
def _converters(entity: str, names: tuple[str, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((i, conv) for i, name in enumerate(names)
                 if (conv := _converter(entity, name)) is not None)


def to_dicts(session: Session, entity: str, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Plain dicts of Core rows, with work orders enriched by names the phone shows.
    Only the columns whose type needs it are converted (dates, decimals)."""
    if not rows:
        return []
    names = tuple(rows[0]._fields)
    convert = _converters(entity, names)
    out = []
    for row in rows:
        values = list(row)
        for i, conv in convert:
            if values[i] is not None:
                values[i] = conv(values[i])
        out.append(dict(zip(names, values, strict=True)))
    if entity == "work_order":
        _enrich_orders(session, out)
    return out


def _enrich_orders(session: Session, rows: list[dict[str, Any]]) -> None:
    users = {r["assignee_id"] for r in rows if r.get("assignee_id")}
    accounts = {r["account_id"] for r in rows if r.get("account_id")}
    meters = {r["meter_id"] for r in rows if r.get("meter_id")}
    names = {u: (n, p) for u, n, p in session.execute(
        select(User.id, User.display_name, User.phone).where(
            User.id.in_(sorted(users))))} if users else {}  # type: ignore[attr-defined]
    acc = dict(session.execute(select(Account.id, Account.account_no).where(
        Account.id.in_(sorted(accounts)))).all()) if accounts else {}  # type: ignore[attr-defined]
    mtr = dict(session.execute(select(Meter.id, Meter.meter_no).where(
        Meter.id.in_(sorted(meters)))).all()) if meters else {}  # type: ignore[attr-defined]
    for r in rows:
        name, phone = names.get(r.get("assignee_id") or "", (None, None))
        r["assignee_name"], r["assignee_phone"] = name, phone
        r["account_no"] = acc.get(r.get("account_id") or "")
        r["meter_no"] = mtr.get(r.get("meter_id") or "")


def primary_key(entity: str) -> Any:
    return table(entity).c.id


def load(session: Session, entity: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = session.execute(select_rows(entity).where(primary_key(entity).in_(ids))).all()
    return {d["id"]: d for d in to_dicts(session, entity, rows)}
