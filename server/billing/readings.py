"""Importing meter readings (the metering system's export), row by row.

Each row is checked on its own — fields, the meter, whether it was installed at a
customer at that time, the register rules of ``shared.meter_rules.validate_reading``
against the meter's earlier and later non-estimated readings (in the database and in
the file) — and rejected rows are reported with a code and reason while the others are
imported. A row for a meter, day and source already recorded is a duplicate (same value:
nothing to do) or a correction (another value: the reading is replaced and the change
audited). All accepted rows, and the re-rating of months already charged that they
touch, are written in one transaction: the import is applied whole or not at all.

CSV shape: a header line with ``meter_no,read_at,value_kwh,source`` (other columns are
ignored; ``source`` may be left out: actual). ``read_at`` is ISO 8601; a time without a
UTC offset is the county's local time (UTC+8), as metering systems export it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func
from sqlmodel import Session, col, select

from server.billing.charging import rerate_month
from server.errors import error_body
from server.meters.models import Meter, MeterReading
from server.uow import Scope, UnitOfWork
from shared.enums import ReadingSource
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import centi_to_kwh, kwh_to_centi, validate_reading
from shared.numbers import NumberError, parse_decimal
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

COLUMNS = ("meter_no", "read_at", "value_kwh", "source")
IMPORT_SOURCES = {ReadingSource.ACTUAL, ReadingSource.ESTIMATED, ReadingSource.MANUAL}
MAX_ROWS = 100_000
#: Readings that bound a new reading (an estimate is a guess and bounds nothing).
_FIRM = {ReadingSource.ACTUAL, ReadingSource.MANUAL, ReadingSource.SWAP_FINAL,
         ReadingSource.SWAP_START}


@dataclass
class RowOutcome:
    line: int
    meter_no: str
    status: str  # imported | corrected | duplicate | rejected
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImportReport:
    rows: list[RowOutcome] = field(default_factory=list)
    rerated_accounts: int = 0
    adjusted_fen: int = 0

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def rejected(self) -> list[RowOutcome]:
        return [r for r in self.rows if r.status == "rejected"]

    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in ("imported", "corrected", "duplicate", "rejected")}


@dataclass
class _Parsed:
    line: int
    meter_no: str
    at: datetime
    value: Decimal
    source: ReadingSource

    @property
    def day(self) -> date:
        return self.at.astimezone(LOCAL_TZ).date()


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Rows of a CSV export as dicts, with ``line`` (the file's line number)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise DomainError(ErrorCode.READING_CSV_INVALID,
                          reason=f"header must name {', '.join(COLUMNS)}; missing "
                                 f"{', '.join(missing)}")
    reader.fieldnames = header
    rows: list[dict[str, Any]] = []
    try:
        for row in reader:
            if len(rows) >= MAX_ROWS:
                raise DomainError(ErrorCode.READING_CSV_INVALID,
                                  reason=f"more than {MAX_ROWS} rows")
            if not any((v or "").strip() for k, v in row.items() if k is not None):
                continue
            rows.append({"line": reader.line_num, **{c: row.get(c) for c in COLUMNS},
                         "_extra": row.get(None)})  # type: ignore[call-overload]
    except csv.Error as exc:
        raise DomainError(ErrorCode.READING_CSV_INVALID, reason=str(exc)) from exc
    return rows


def _parse(raw: dict[str, Any], line: int) -> _Parsed:
    def bad(name: str, problem: str) -> DomainError:
        return DomainError(ErrorCode.READING_FIELD_INVALID, field=name, problem=problem)

    if raw.get("_extra"):
        raise bad("row", "more values than header columns")
    meter_no = str(raw.get("meter_no") or "").strip()
    if not meter_no or len(meter_no) > 24:
        raise bad("meter_no", "missing or longer than 24 characters")
    text = str(raw.get("read_at") or "").strip()
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad("read_at", f"not an ISO 8601 time: {text[:40]!r}") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=LOCAL_TZ)
    if isinstance(raw.get("value_kwh"), float | bool):  # issue 8, item 7: never a float
        raise bad("value_kwh", 'a JSON number: send the reading as text, e.g. "4711.50"')
    value_text = str(raw.get("value_kwh") if raw.get("value_kwh") is not None else "").strip()
    try:  # full-width digits normalised, other scripts' digits refused (shared.numbers)
        value = parse_decimal(value_text, max_places=15)
    except NumberError:
        raise bad("value_kwh", f"not a number: {value_text[:40]!r}") from None
    validate_reading(value)  # negative, beyond the register
    if value != value.quantize(Decimal("0.01")):
        raise bad("value_kwh", "at most two decimals")
    source_text = str(raw.get("source") or "actual").strip().lower()
    try:
        source = ReadingSource(source_text)
    except ValueError:
        source = None  # type: ignore[assignment]
    if source not in IMPORT_SOURCES:
        raise DomainError(ErrorCode.READING_SOURCE_INVALID, source=source_text[:20])
    return _Parsed(line, meter_no, at, value, source)


def _installed_at(meter: Meter, at: datetime) -> bool:
    if meter.account_id is None or meter.installed_at is None or at < meter.installed_at:
        return False
    return meter.removed_at is None or at <= meter.removed_at


@dataclass
class _MeterState:
    meter: Meter
    rows: list[MeterReading]  # the readings that matter for the file's rows, kept up to date


def import_rows(uow: UnitOfWork, *, rows: Iterable[dict[str, Any]], actor: Actor | None,
                lang: str = "zh", now: datetime | None = None) -> ImportReport:
    """Check every row, import the good ones, re-rate charged months they touch."""
    session = uow.session
    now = now or utcnow()
    report = ImportReport()
    parsed: list[tuple[_Parsed | None, RowOutcome]] = []
    for i, raw in enumerate(rows, start=1):
        line = int(raw.get("line") or i)
        outcome = RowOutcome(line, str(raw.get("meter_no") or "")[:24], "pending")
        try:
            parsed.append((_parse(raw, line), outcome))
        except DomainError as exc:
            _reject(outcome, exc, lang)
            parsed.append((None, outcome))
        report.rows.append(outcome)
    good = [p for p, _ in parsed if p is not None]
    meters = _load_meters(session, good)
    seen: dict[tuple[str, date, str], tuple[int, Decimal]] = {}
    touched: dict[tuple[str, date], date] = {}  # (account, month) -> earliest day touched
    # in time order per meter, so rows of one file bound each other like stored ones
    for p, outcome in sorted(((p, o) for p, o in parsed if p is not None),
                             key=lambda po: (po[0].meter_no, po[0].at, po[0].line)):
        try:
            state = _meter_state(meters, p.meter_no)
            key = (state.meter.id, p.day, p.source.value)
            if key in seen:
                first_line, first_value = seen[key]
                if first_value != p.value:
                    raise DomainError(ErrorCode.READING_DUPLICATE_IN_FILE, first=first_line)
                outcome.status = "duplicate"
                continue
            seen[key] = (p.line, p.value)
            outcome.status = _apply(uow, state, p, now, actor)
            if outcome.status != "duplicate":
                assert state.meter.account_id is not None
                _touch(touched, state.meter.account_id, p.day, now)
        except DomainError as exc:
            _reject(outcome, exc, lang)
    session.flush()
    for (account_id, month_first), earliest in sorted(touched.items()):
        rated = rerate_month(uow, account_id=account_id, month_first=month_first,
                             earliest=earliest, now=now)
        if rated is not None and rated.charged_fen:
            report.rerated_accounts += 1
            report.adjusted_fen += rated.charged_fen
    return report


def _touch(touched: dict[tuple[str, date], date], account_id: str, day: date,
           now: datetime) -> None:
    """A reading of ``day`` changes the usage of its day and of the meter's next reading,
    which may fall in a later month: every month from ``day``'s to this one is touched
    (a later month from its first day)."""
    month, this_month = day.replace(day=1), now.astimezone(LOCAL_TZ).date().replace(day=1)
    earliest = day
    for _ in range(25):
        key = (account_id, month)
        touched[key] = min(touched.get(key, earliest), earliest)
        if month >= this_month:
            break
        month = (month + timedelta(days=32)).replace(day=1)
        earliest = month


def _reject(outcome: RowOutcome, exc: DomainError, lang: str) -> None:
    outcome.status, outcome.code = "rejected", exc.code.value
    outcome.message = error_body(exc.code, lang, exc.details)["message"]
    outcome.details = {k: v for k, v in exc.details.items()
                       if isinstance(v, str | int | float | bool)}


def _load_meters(session: Session, rows: list[_Parsed]) -> dict[str, _MeterState | None]:
    """The file's meters (locked), each with the stored readings that can bound or repeat
    its rows: those of the days the file covers, and the nearest firm reading before and
    after them. A few queries per 500 meters, whatever the file's size."""
    numbers = sorted({p.meter_no for p in rows})
    out: dict[str, _MeterState | None] = dict.fromkeys(numbers)
    if not rows:
        return out
    lo_day = min(p.day for p in rows)
    hi_day = max(p.day for p in rows)
    firm = [src.value for src in _FIRM]
    for i in range(0, len(numbers), 500):
        meters = {m.id: m for m in session.exec(select(Meter).where(
            col(Meter.meter_no).in_(numbers[i:i + 500])).with_for_update()).all()}
        ids = sorted(meters)
        found: dict[str, list[MeterReading]] = {m: [] for m in ids}
        for r in session.exec(select(MeterReading).where(
                col(MeterReading.meter_id).in_(ids), MeterReading.read_date >= lo_day,
                MeterReading.read_date <= hi_day)).all():
            found[r.meter_id].append(r)
        for edge, cond, pick in (("prev", MeterReading.read_date < lo_day, func.max),
                                 ("next", MeterReading.read_date > hi_day, func.min)):
            bound = select(MeterReading.meter_id, pick(MeterReading.read_at).label("at")).where(
                col(MeterReading.meter_id).in_(ids), col(MeterReading.source).in_(firm),
                cond).group_by(col(MeterReading.meter_id)).subquery(edge)
            for r in session.exec(select(MeterReading).join(bound, and_(
                    col(MeterReading.meter_id) == bound.c.meter_id,
                    col(MeterReading.read_at) == bound.c.at)).where(
                    col(MeterReading.source).in_(firm))).all():
                found[r.meter_id].append(r)
        for meter_id, meter in meters.items():
            out[meter.meter_no] = _MeterState(meter, found[meter_id])
    return out


def _meter_state(cache: dict[str, _MeterState | None], meter_no: str) -> _MeterState:
    state = cache.get(meter_no)
    if state is None:
        raise DomainError(ErrorCode.METER_NOT_FOUND, meter=meter_no)
    return state


def _apply(uow: UnitOfWork, state: _MeterState, p: _Parsed, now: datetime,
           actor: Actor | None) -> str:
    meter = state.meter
    if not _installed_at(meter, p.at):
        raise DomainError(ErrorCode.READING_METER_NOT_INSTALLED, meter=meter.meter_no)
    same = next((r for r in state.rows if r.read_date == p.day and r.source == p.source.value
                 and r.account_id == meter.account_id), None)
    value_c = kwh_to_centi(p.value)
    if same is not None and same.value_centi == value_c:
        return "duplicate"
    others = [r for r in state.rows if r is not same and r.account_id == meter.account_id
              and ReadingSource(r.source) in _FIRM]
    before = max((r for r in others if r.read_at <= p.at), key=lambda r: r.read_at,
                 default=None)
    after = min((r for r in others if r.read_at > p.at), key=lambda r: r.read_at,
                default=None)
    validate_reading(p.value, last=centi_to_kwh(before.value_centi) if before else None,
                     last_at=before.read_at if before else None, at=p.at, now=now)
    if after is not None and value_c > after.value_centi:
        raise DomainError(ErrorCode.READING_ABOVE_NEXT, value=str(p.value),
                          next=str(centi_to_kwh(after.value_centi)))
    scope = Scope(meter.station_id, meter.account_id, None)
    if same is not None:
        old = same.value_centi
        same.value_centi, same.read_at = value_c, p.at
        uow.changed(same, scope=scope)
        uow.audit(action="meter_reading.correct", entity="meter_reading", entity_id=same.id,
                  before={"value_centi": old}, after={"value_centi": value_c,
                                                      "read_at": p.at.isoformat()},
                  reason=f"re-imported ({p.source.value})")
        status = "corrected"
    else:
        reading = MeterReading(meter_id=meter.id, account_id=meter.account_id, read_date=p.day,
                               read_at=p.at, value_centi=value_c, source=p.source)
        uow.changed(reading, scope=scope)
        state.rows.append(reading)
        status = "imported"
    if p.source != ReadingSource.ESTIMATED and (
            meter.last_reading_at is None or p.at >= meter.last_reading_at):
        meter.last_reading_centi, meter.last_reading_at = value_c, p.at
        meter.version += 1
        meter.updated_at = now
        uow.changed(meter)
    return status
