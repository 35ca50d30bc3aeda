"""Daily charging from readings, and re-rating when readings come late or are corrected.

For an account and a day D, ``rate_account`` rates D's month from its first day through
D (or through the last day already charged, if later) from the readings known *now*,
stores each day's figures (``billing_day``: the usage chart) and posts::

    charge = tariff(month-to-date usage, rounded once) - already charged this month

as one ledger entry (nothing when it is zero). Running it again for the same day posts
nothing: charging is idempotent per account and day. A late or corrected reading changes
the month-to-date usage, so the next rating posts the difference, as an adjustment, and
no kWh is ever charged twice or missed. Every entry of the month carries
``billing_month``, so a month's charges always add up to its tariff cost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from server.billing import tariffs
from server.billing.balance import balance_changed
from server.billing.ledger import ensure_opened, lock_account, opened_through, post
from server.billing.models import BillingDay, LedgerEntry
from server.customers.models import Account
from server.db import Database
from server.meters.models import Meter, MeterReading
from server.uow import UnitOfWork
from shared.accounts import AccountStatus
from shared.billing.ledger import EntryKind
from shared.billing.tariff import rate_month
from shared.billing.usage import Point, daily_usage
from shared.enums import MeterStatus, ReadingSource
from shared.errors import DomainError
from shared.timeutil import LOCAL_TZ, utcnow

log = logging.getLogger("gridone.billing.charging")


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def month_last(day: date) -> date:
    nxt = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def account_points(session: Session, account_id: str, first: date, through: date
                   ) -> list[Point]:
    """The account's readings from each meter's last reading day before ``first``
    (its baseline) through ``through``."""
    meter_ids = session.exec(select(MeterReading.meter_id).where(
        MeterReading.account_id == account_id, MeterReading.read_date <= through)
        .distinct()).all()
    points: list[Point] = []
    for meter_id in meter_ids:
        base = session.exec(select(func.max(MeterReading.read_date)).where(
            MeterReading.meter_id == meter_id, MeterReading.account_id == account_id,
            MeterReading.read_date < first)).one()
        rows = session.exec(select(MeterReading).where(
            MeterReading.meter_id == meter_id, MeterReading.account_id == account_id,
            MeterReading.read_date >= (base or first), MeterReading.read_date <= through)).all()
        points.extend(Point(r.meter_id, r.read_at, r.value_centi, ReadingSource(r.source))
                      for r in rows)
    return points


@dataclass(frozen=True)
class Rated:
    account_id: str
    through: date
    target_fen: int  # the month's cost through ``through``, rounded once
    already_fen: int  # charged this month before
    charged_fen: int  # posted now (negative: money given back)
    entry_id: str | None
    rerated: bool


def charged_in_month(session: Session, account_id: str, month: str) -> int:
    total = session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.account_id == account_id, LedgerEntry.kind == EntryKind.USAGE_CHARGE.value,
        LedgerEntry.billing_month == month)).one()
    return -int(total)


def rate_account(uow: UnitOfWork, *, account: Account, through: date,
                 now: datetime | None = None, reason: str | None = None) -> Rated:
    """Rate ``through``'s month for ``account`` (locked by the caller) and post the
    difference to what was charged."""
    session = uow.session
    now = now or utcnow()
    if account.status == AccountStatus.CLOSED:  # its balance was refunded when it closed
        return Rated(account.id, through, 0, 0, 0, None, False)
    ensure_opened(uow, account=account, occurred_at=now)
    opened = opened_through(session, account.id)
    if opened is not None and through <= opened:  # the opening balance paid for these days
        return Rated(account.id, through, 0, 0, 0, None, False)
    first, month = through.replace(day=1), month_key(through)
    last_billed = session.exec(select(func.max(BillingDay.day)).where(
        BillingDay.account_id == account.id, BillingDay.day >= first,
        BillingDay.day <= month_last(first))).one()
    if last_billed is not None and last_billed > through:
        through = last_billed
    usage = {d: u for d, u in daily_usage(account_points(session, account.id, first, through))
             .items() if first <= d <= through}
    ratings = rate_month({d: u.usage_centi for d, u in usage.items()},
                         tariffs.schedule(session, account.customer_type), through=through)
    rows = {r.day: r for r in session.exec(select(BillingDay).where(
        BillingDay.account_id == account.id, BillingDay.day >= first,
        BillingDay.day <= through)).all()}
    changed_days = 0
    for r in ratings:
        values = {"usage_centi": r.usage_centi, "mtd_usage_centi": r.mtd_usage_centi,
                  "mtd_cost_fen": r.mtd_cost_fen, "day_cost_fen": r.day_cost_fen,
                  "tier": r.tier, "tariff_code": r.tariff_code,
                  "estimated": bool(usage.get(r.day) and usage[r.day].estimated)}
        row = rows.get(r.day)
        if row is None:
            rows[r.day] = row = BillingDay(account_id=account.id, day=r.day, rated_at=now,
                                           usage_centi=0, mtd_usage_centi=0, mtd_cost_fen=0,
                                           day_cost_fen=0, tier=1, tariff_code="")
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.revision += 1
            row.rated_at = now
            session.add(row)
            changed_days += 1
    session.flush()
    already = charged_in_month(session, account.id, month)
    target = ratings[-1].mtd_cost_fen
    if opened is not None and opened >= first:
        # the month began before the ledger: its days up to ``opened`` are paid for; they
        # still count for the tier the later days fall in
        target -= ratings[opened.day - 1].mtd_cost_fen
    diff = target - already
    entry_id = None
    rerated = changed_days > 0
    if diff:
        day_row = rows[through]
        before = session.exec(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.account_id == account.id, LedgerEntry.kind == EntryKind.USAGE_CHARGE.value,
            LedgerEntry.billing_day == through)).one()
        rerated = rerated or before > 0
        last = ratings[-1]
        posted = post(
            uow, account=account, amount_fen=-diff, kind=EntryKind.USAGE_CHARGE,
            source_type="billing_day", source_id=day_row.id,
            dedupe_key=f"usage:{account.id}:{through.isoformat()}:{int(before) + 1}",
            occurred_at=min(tariffs.day_end(through), now) if not rerated else now,
            reason=reason or ("re-rated: late or corrected readings" if rerated
                              else "daily usage charge"),
            meter_id=_meter_id(session, account.id), billing_month=month, billing_day=through,
            data={"mtd_usage_centi": last.mtd_usage_centi,
                  "mtd_cost_fen": last.mtd_cost_fen, "target_fen": target,
                  "already_charged_fen": already, "tariff": last.tariff_code,
                  "tier": last.tier, "rerate": rerated,
                  "estimated": any(u.estimated for u in usage.values())})
        entry_id = posted.entry.id
    return Rated(account.id, through, target, already, diff, entry_id, rerated)


def _meter_id(session: Session, account_id: str) -> str | None:
    return session.exec(select(Meter.id).where(
        Meter.account_id == account_id, Meter.status == MeterStatus.INSTALLED.value)).first()


def rerate_month(uow: UnitOfWork, *, account_id: str, month_first: date,
                 earliest: date | None = None, now: datetime | None = None) -> Rated | None:
    """After readings of a month changed (from day ``earliest`` on): re-rate it if a day
    already charged can be affected. A reading of day D only changes the usage of D and
    of later days, so readings after the last charged day wait for the daily run."""
    session = uow.session
    last_billed = session.exec(select(func.max(BillingDay.day)).where(
        BillingDay.account_id == account_id, BillingDay.day >= month_first,
        BillingDay.day <= month_last(month_first))).one()
    if last_billed is None or (earliest is not None and earliest > last_billed):
        return None  # nothing charged yet that it touches: the daily run will see it
    now = now or utcnow()
    account = lock_account(session, account_id)
    rated = rate_account(uow, account=account, through=last_billed, now=now)
    if rated.charged_fen:
        balance_changed(uow, account=account, at=now)
    return rated


# -- the daily run ----------------------------------------------------------------------
@dataclass
class ChargeReport:
    day: date
    accounts: int = 0
    charged: int = 0
    total_fen: int = 0
    errors: list[str] = field(default_factory=list)


def yesterday() -> date:
    return utcnow().astimezone(LOCAL_TZ).date() - timedelta(days=1)


def charge_day(db: Database, *, day: date, now: datetime | None = None,
               account_ids: list[str] | None = None) -> ChargeReport:
    """Charge every account for ``day`` (each account in its own transaction)."""
    now = now or utcnow()
    report = ChargeReport(day)
    with Session(db.reader) as session:
        stmt = select(Account.id).where(col(Account.status) != AccountStatus.CLOSED.value
                                        ).order_by(col(Account.id))
        if account_ids is not None:
            stmt = stmt.where(col(Account.id).in_(account_ids))
        ids = list(session.exec(stmt).all())
    for account_id in ids:
        report.accounts += 1
        try:
            with UnitOfWork(db) as uow:
                account = lock_account(uow.session, account_id)
                rated = rate_account(uow, account=account, through=day, now=now)
                if rated.charged_fen:
                    balance_changed(uow, account=account, at=now)
                uow.commit()
        except DomainError as exc:
            log.warning("charging %s for %s refused: %s", account_id, day, exc)
            report.errors.append(f"{account_id}: {exc}")
            continue
        if rated.charged_fen:
            report.charged += 1
            report.total_fen += rated.charged_fen
    return report
