"""Importing the AMI's interval data (15-minute energy), row by row, set-wise.

The sibling of ``server.billing.readings`` (register readings) in the same style: each
row is checked on its own and a rejected row is reported with a stable code and reason
while the others are imported. Rows are one interval each, customer and master meters
mixed, as head-ends export them::

    meter_no,interval_start,energy_kwh,source
    430612345678,2026-11-30T19:15:00+08:00,0.412,actual

``interval_start`` is ISO 8601 on a 15-minute boundary (without an offset: local time,
UTC+8); ``energy_kwh`` has at most three decimals (stored as integer Wh); ``source`` is
``actual`` (default) or ``estimated`` (filled in by the head-end for a missing interval).

Idempotent: a row equal to the stored one is a duplicate and changes nothing. A late
actual reading replaces an estimate (back-filling after a communication outage); an
estimate never replaces an actual reading (rejected); a different actual value replaces
the stored one and the correction is audited. Every day that changed is marked dirty, so
the next analytics run recomputes it (``server.monitoring.analytics``).

Set-wise (style rule 17): a batch's points and stored rows are loaded in a few queries,
decided in memory and written with one bulk statement per table (COPY on PostgreSQL).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Date, bindparam, text
from sqlmodel import Session

from server.billing.readings import RowOutcome
from server.errors import error_body
from server.monitoring.days import lock, mark_dirty
from server.monitoring.points import PointInfo, resolve
from server.uow import UnitOfWork
from shared.errors import DomainError, ErrorCode
from shared.monitoring.formulas import SLOT_MINUTES
from shared.timeutil import LOCAL_TZ, utcnow

COLUMNS = ("meter_no", "interval_start", "energy_kwh", "source")
#: Rows per transaction when a file is imported (``ingest_stream``).
CHUNK_ROWS = 50_000
#: Rejected rows listed in a report (all are counted).
MAX_LISTED = 1000
_SLOT = timedelta(minutes=SLOT_MINUTES)
_CLOCK_SLACK = timedelta(minutes=5)
_CHUNK_POINTS = 500
_STATUSES = ("imported", "corrected", "duplicate", "rejected")

Key = tuple[int, date, int]  # point, day, slot


@dataclass
class IntervalReport:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STATUSES, 0))
    rejected: list[RowOutcome] = field(default_factory=list)
    days: set[date] = field(default_factory=set)  # days whose data changed

    def reject(self, line: int, meter_no: str, exc: DomainError, lang: str) -> None:
        self.counts["rejected"] += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(RowOutcome(
                line, meter_no[:24], "rejected", exc.code.value,
                error_body(exc.code, lang, exc.details)["message"],
                {k: v for k, v in exc.details.items() if isinstance(v, str | int | float)}))

    def merge(self, other: IntervalReport) -> None:
        for k, v in other.counts.items():
            self.counts[k] += v
        room = MAX_LISTED - len(self.rejected)
        self.rejected.extend(other.rejected[:max(0, room)])
        self.days |= other.days

    def summary(self) -> dict[str, int]:
        return dict(self.counts)


@dataclass(slots=True)
class _Row:
    line: int
    meter_no: str
    day: date
    slot: int
    start: datetime
    ts: float  # start as POSIX seconds
    wh: int
    estimated: bool


def _bad(name: str, problem: str) -> DomainError:
    return DomainError(ErrorCode.INTERVAL_FIELD_INVALID, field=name, problem=problem)


def _wh(value: str) -> int:
    """kWh text with at most three decimals as integer Wh."""
    whole, dot, frac = value.partition(".")
    if whole.isascii() and whole.isdigit() and (not dot or (
            frac.isascii() and frac.isdigit() and len(frac) <= 3)):
        return int(whole) * 1000 + (int(frac.ljust(3, "0")) if dot else 0)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise _bad("energy_kwh", f"not a number: {value[:40]!r}") from None
    if not number.is_finite():
        raise _bad("energy_kwh", f"not a number: {value[:40]!r}")
    if number < 0:
        raise _bad("energy_kwh", "negative")
    if number != number.quantize(Decimal("0.001")):
        raise _bad("energy_kwh", "at most three decimals")
    return int(number * 1000)


class _Parser:
    """Parses rows; the few distinct interval times of a file are parsed once each."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._times: dict[str, tuple[date, int, datetime, float] | DomainError] = {}

    def _time(self, value: str) -> tuple[date, int, datetime, float]:
        hit = self._times.get(value)
        if hit is None:
            hit = self._parse_time(value)
            if len(self._times) < 200_000:
                self._times[value] = hit
        if isinstance(hit, DomainError):
            raise hit
        return hit

    def _parse_time(self, value: str) -> tuple[date, int, datetime, float] | DomainError:
        try:
            at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return _bad("interval_start", f"not an ISO 8601 time: {value[:40]!r}")
        if at.tzinfo is None:
            at = at.replace(tzinfo=LOCAL_TZ)
        local = at.astimezone(LOCAL_TZ)
        if local.second or local.microsecond or local.minute % SLOT_MINUTES:
            return _bad("interval_start", "not on a 15-minute boundary")
        if at + _SLOT > self.now + _CLOCK_SLACK:
            return DomainError(ErrorCode.READING_IN_FUTURE)
        return (local.date(), (local.hour * 60 + local.minute) // SLOT_MINUTES, at,
                at.timestamp())

    def parse(self, line: int, raw: Sequence[str]) -> _Row:
        """``raw``: four strings (``json_rows`` makes them so)."""
        meter_no, start, energy, source = raw
        meter_no = meter_no.strip()
        if not meter_no or len(meter_no) > 24:
            raise _bad("meter_no", "missing or longer than 24 characters")
        day, slot, at, ts = self._time(start.strip())
        wh = _wh(energy.strip())
        source = source.strip().lower() or "actual"
        if source not in ("actual", "estimated"):
            raise _bad("source", f"actual or estimated (got {source[:20]!r})")
        return _Row(line, meter_no, day, slot, at, ts, wh, source == "estimated")


# -- input shapes ---------------------------------------------------------------------------
def csv_rows(lines: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
    """``(line number, [meter_no, interval_start, energy_kwh, source])`` of a CSV export.
    Raises READING_CSV_INVALID when the header lacks a column or the CSV is broken."""
    reader = csv.reader(lines)
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader, [])]
    except csv.Error as exc:
        raise DomainError(ErrorCode.READING_CSV_INVALID, reason=str(exc)) from exc
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise DomainError(ErrorCode.READING_CSV_INVALID,
                          reason=f"header must name {', '.join(COLUMNS)}; missing "
                                 f"{', '.join(missing)}")
    at = [header.index(c) if c in header else None for c in COLUMNS]
    width = len(header)
    try:
        for row in reader:
            if not row or not any(v.strip() for v in row):
                continue
            if len(row) > width:
                yield reader.line_num, ["", "", "", "__extra__"]
                continue
            yield reader.line_num, [row[i] if i is not None and i < len(row) else ""
                                    for i in at]
    except csv.Error as exc:
        raise DomainError(ErrorCode.READING_CSV_INVALID, reason=str(exc)) from exc


def json_rows(items: Iterable[dict[str, Any]]) -> Iterator[tuple[int, list[str]]]:
    for i, item in enumerate(items, start=1):
        yield i, ["" if item.get(c) is None else str(item.get(c)) for c in COLUMNS]


def text_rows(body: str) -> list[tuple[int, list[str]]]:
    return list(csv_rows(io.StringIO(body)))


# -- the import ------------------------------------------------------------------------------
def import_intervals(uow: UnitOfWork, *, rows: Iterable[tuple[int, Sequence[Any]]],
                     lang: str = "zh", now: datetime | None = None) -> IntervalReport:
    """Check every row, store the good ones, mark the days they change dirty."""
    session = uow.session
    now = now or utcnow()
    lock(session, exclusive=False)
    report = IntervalReport()
    parser = _Parser(now)
    parsed: list[_Row] = []
    for line, raw in rows:
        try:
            if len(raw) == 4 and raw[3] == "__extra__":
                raise _bad("row", "more values than header columns")
            parsed.append(parser.parse(line, raw))
        except DomainError as exc:
            report.reject(line, str(raw[0] or ""), exc, lang)
    points = resolve(session, {r.meter_no for r in parsed})
    windows = {no: p.window for no, p in points.items()}
    seen: dict[Key, tuple[int, int, bool]] = {}
    good: list[tuple[Key, _Row]] = []
    for r in parsed:
        try:
            key = _check(points.get(r.meter_no), windows.get(r.meter_no), r)
        except DomainError as exc:
            report.reject(r.line, r.meter_no, exc, lang)
            continue
        first = seen.get(key)
        if first is not None:
            if (first[1], first[2]) != (r.wh, r.estimated):
                report.reject(r.line, r.meter_no, DomainError(
                    ErrorCode.INTERVAL_DUPLICATE_IN_FILE, first=first[0]), lang)
            else:
                report.counts["duplicate"] += 1
            continue
        seen[key] = (r.line, r.wh, r.estimated)
        good.append((key, r))
    stored = _stored(session, [k for k, _ in good])
    inserts: list[tuple[date, int, int, int, bool]] = []
    updates: list[dict[str, Any]] = []
    for key, r in good:
        old = stored.get(key)
        if old is None:
            inserts.append((r.day, key[0], r.slot, r.wh, r.estimated))
            report.counts["imported"] += 1
        elif old == (r.wh, r.estimated):
            report.counts["duplicate"] += 1
            continue
        elif r.estimated and not old[1]:
            report.reject(r.line, r.meter_no,
                          DomainError(ErrorCode.INTERVAL_ESTIMATE_OVER_ACTUAL), lang)
            continue
        else:
            updates.append({"day": r.day, "p": key[0], "s": r.slot, "wh": r.wh,
                            "est": r.estimated})
            report.counts["corrected"] += 1
            if not old[1] and not r.estimated:  # a firm value changed: audited one by one
                uow.audit(action="interval_reading.correct", entity="interval_reading",
                          entity_id=f"{r.meter_no}@{r.start.isoformat()}",
                          before={"energy_wh": old[0]}, after={"energy_wh": r.wh},
                          reason="re-imported from the metering system")
        report.days.add(r.day)
    _write(session, inserts, updates)
    if report.days:
        mark_dirty(session, report.days, now)
        uow.audit(action="monitoring.intervals_import", entity="interval_import",
                  entity_id=f"{min(report.days)}..{max(report.days)}",
                  after={k: v for k, v in report.counts.items() if v},
                  reason=f"{len(report.days)} day(s) changed")
    report.rejected.sort(key=lambda o: o.line)
    return report


def _check(point: PointInfo | None, window: tuple[float, float] | None, r: _Row) -> Key:
    if point is None or window is None:
        raise DomainError(ErrorCode.METER_NOT_FOUND, meter=r.meter_no)
    if not window[0] <= r.ts < window[1]:
        raise DomainError(ErrorCode.READING_METER_NOT_INSTALLED, meter=r.meter_no)
    if r.wh > point.max_wh:
        raise DomainError(ErrorCode.INTERVAL_ENERGY_IMPLAUSIBLE, value=str(Decimal(r.wh) / 1000),
                          max=str(Decimal(point.max_wh) / 1000))
    return point.id, r.day, r.slot


def _stored(session: Session, keys: list[Key]) -> dict[Key, tuple[int, bool]]:
    """The stored (Wh, estimated) of the batch's intervals: one query per day and 500
    points."""
    by_day: dict[date, set[int]] = {}
    for pid, day, _ in keys:
        by_day.setdefault(day, set()).add(pid)
    out: dict[Key, tuple[int, bool]] = {}
    for day, pids in sorted(by_day.items()):
        ids = sorted(pids)
        for i in range(0, len(ids), _CHUNK_POINTS):
            chunk = ids[i:i + _CHUNK_POINTS]
            params: dict[str, Any] = {"day": day}
            params.update({f"p{j}": p for j, p in enumerate(chunk)})
            names = ", ".join(f":p{j}" for j in range(len(chunk)))
            stmt = text("SELECT point_id, slot, energy_wh, estimated FROM interval_reading "
                        f"WHERE day = :day AND point_id IN ({names})").bindparams(
                bindparam("day", type_=Date))
            for pid, slot, wh, est in session.execute(stmt, params):
                out[(pid, day, slot)] = (wh, bool(est))
    return out


def _write(session: Session, inserts: list[tuple[date, int, int, int, bool]],
           updates: list[dict[str, Any]]) -> None:
    conn = session.connection()
    if inserts:
        if conn.dialect.name == "postgresql":
            raw = conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(  # type: ignore[union-attr]
                    "COPY interval_reading (day, point_id, slot, energy_wh, estimated) "
                    "FROM STDIN") as copy:
                for row in inserts:
                    copy.write_row(row)
        else:
            conn.exec_driver_sql(
                "INSERT INTO interval_reading (day, point_id, slot, energy_wh, estimated) "
                "VALUES (?, ?, ?, ?, ?)",
                [(d.isoformat(), p, s, wh, int(e)) for d, p, s, wh, e in inserts])
    if updates:
        session.execute(text(
            "UPDATE interval_reading SET energy_wh = :wh, estimated = :est "
            "WHERE day = :day AND point_id = :p AND slot = :s").bindparams(
            bindparam("day", type_=Date), bindparam("est", type_=Boolean)), updates)


def ingest_stream(db: Any, rows: Iterable[tuple[int, Sequence[Any]]], *, lang: str = "zh",
                  chunk_rows: int = CHUNK_ROWS, now: datetime | None = None
                  ) -> IntervalReport:
    """Import a long file in chunks, one transaction each: a crash part-way loses nothing
    that was committed, and running the file again is safe (the rest are duplicates)."""
    total = IntervalReport()
    batch: list[tuple[int, Sequence[Any]]] = []

    def flush() -> None:
        with UnitOfWork(db) as uow:
            total.merge(import_intervals(uow, rows=batch, lang=lang, now=now))
            uow.commit()
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) >= chunk_rows:
            flush()
    if batch:
        flush()
    total.rejected.sort(key=lambda o: o.line)
    return total
