"""Rows as the devices see them: plain JSON dicts, read with Core (fast, no ORM objects)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Numeric,
    Select,
    Table,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType
from sqlmodel import Session

from server.applications.models import Application
from server.billing.models import CashHandover, LedgerEntry
from server.customers.models import Account
from server.db import AwareDateTime, converted_rows
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


def select_rows(entity: str, *, raw: bool = False) -> Select[Any]:
    """The device's columns of ``entity``; ``raw``: as the database driver gives them,
    without SQLAlchemy's conversion of each value (``to_dicts`` converts them itself)."""
    if raw:
        return _raw_select(entity)
    return select(*columns(entity))


@functools.lru_cache(maxsize=64)
def _raw_select(entity: str) -> Select[Any]:
    raw: list[Any] = [type_coerce(c, _RAW).label(c.name) for c in columns(entity)]
    return select(*raw)


_RAW = NullType()


def raw_rows(session: Session) -> bool:
    """Whether pages are read raw and converted here: on SQLite, whose driver hands back
    the stored text of dates, JSON and booleans. Parsing those into Python objects (and
    datetimes made aware) only to format them again for the wire was most of a pulled
    row's cost; the text is turned into the same wire form directly (``_raw_converter``:
    the same output, checked entity by entity in tests/integration/test_sync_raw_rows.py).
    PostgreSQL's driver gives typed values: they go through the typed path."""
    return session.get_bind().dialect.name == "sqlite"


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


def _sqlite_datetime(v: str) -> str:
    """SQLite's stored UTC text (``2026-12-02 04:56:31.088700``) as the wire's ISO form
    with its zone (``2026-12-02T04:56:31.088700+00:00``; no fraction when it is zero, as
    ``datetime.isoformat`` writes it)."""
    if len(v) == 26 and v[10] == " " and v[19] == ".":
        return f"{v[:10]}T{v[11:19]}+00:00" if v.endswith(".000000") else \
            f"{v[:10]}T{v[11:]}+00:00"
    when = datetime.fromisoformat(v)  # any other stored shape: the slow, general way
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
            ).isoformat()


def _raw_converter(entity: str, name: str) -> Callable[[Any], Any] | None:
    """How a raw SQLite value of a column becomes its wire form (None: as it is)."""
    kind = table(entity).columns[name].type
    if isinstance(kind, AwareDateTime):
        return _sqlite_datetime
    if isinstance(kind, JSON):
        return orjson.loads
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, Date):
        return None  # stored as its ISO text already (YYYY-MM-DD)
    if isinstance(kind, DateTime | Numeric) and not isinstance(kind, Float):
        raise TypeError(f"{entity}.{name}: no raw SQLite form for {kind!r}")
    return None


#: Converters whose answer depends on the value alone and is immutable (a time's text, a
#: decimal's): computed once per distinct value of a page (its rows share many times).
_ONCE = frozenset({_sqlite_datetime, _isoformat, str})


@functools.lru_cache(maxsize=256)
def _converters(entity: str, names: tuple[str, ...], raw: bool = False
                ) -> tuple[tuple[int, Any], ...]:
    make = _raw_converter if raw else _converter
    return tuple((i, conv) for i, name in enumerate(names)
                 if (conv := make(entity, name)) is not None)


def to_dicts(session: Session, entity: str, rows: Sequence[Any], *, raw: bool = False
             ) -> list[dict[str, Any]]:
    """Plain dicts of Core rows (``raw``: read with ``select_rows(raw=True)``), with work
    orders enriched by names the phone shows. Only the columns whose type needs it are
    converted (dates, decimals; raw: dates, JSON, booleans)."""
    if not rows:
        return []
    names = tuple(rows[0]._fields)
    out = converted_rows(rows, names, _converters(entity, names, raw), once=_ONCE)
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
    raw = raw_rows(session)
    rows = session.connection().execute(select_rows(entity, raw=raw).where(
        primary_key(entity).in_(ids))).all()
    return {d["id"]: d for d in to_dicts(session, entity, rows, raw=raw)}
