"""The deterministic demo data set (``gridone seed`` / ``gridone demo``).

``generate(db, seed=..., accounts=..., days=..., pepper=...)`` fills a migrated, empty
database with one county: three supply stations, about thirty transformer areas, customer
accounts with meters and daily readings, spare meters in stock, staff of every role,
customers who sign in, and a few hundred work orders in every status.

Determinism: everything is drawn from one ``random.Random(seed)`` in a fixed order, so the
same seed gives the same names, numbers and counts. Timestamps are relative to "now"
(the current time rounded down to the hour, or the ``now`` argument). Row ids are UUIDv7
as everywhere else, so they differ between runs.

Money: every account's ledger over the reading window (opening balance, recharges, daily
usage charges) is what the real system would have recorded (``server.demo.money``):
``gridone check-ledger`` passes on a fresh demo, and the daily charging run finds nothing
left to charge.

Speed: the bulk (stations, areas, users, accounts, meters, readings, the money and the
change-log entries) is written with SQLAlchemy Core bulk inserts in one transaction; work
orders go through the real domain services (``server.work_orders.service``,
``server.meters.service.record_swap``) so their timelines, deadlines, audit and change-log
entries are exactly what the API would have written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from server.auth.security import hash_password
from server.billing.models import LedgerEntry
from server.changes.models import ChangeLog
from server.customers.models import Account
from server.db import Database
from server.demo import data, jobs, money
from server.demo.world import DEMO_CUSTOMERS, DemoCustomer, build_world, write_bulk
from server.meters.models import Meter, MeterReading, MeterSwap
from server.stations.models import Station, TransformerArea
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.billing.ledger import EntryKind
from shared.enums import (
    AreaClass,
    CustomerType,
    MeterStatus,
    ReadingSource,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.timeutil import utcnow

__all__ = ["DEMO_CUSTOMERS", "DEMO_PASSWORD", "DemoCustomer", "Summary", "demo_logins",
           "generate"]

#: The one password of every demo user.
DEMO_PASSWORD = "gridone-demo"
#: Smallest data set that still holds every demo login and job.
MIN_ACCOUNTS = 40
#: Customers with a login (the demo customers included) at the default size of 3000.
CUSTOMER_LOGINS = 200


def demo_logins() -> list[tuple[Role, str, str]]:
    """(role, username, note) of the logins to try the demo with; password DEMO_PASSWORD."""
    s1, _, s3 = data.STATIONS
    waiting = "has dispatched jobs to accept"
    return [
        (Role.ADMIN, "admin", "administrator, whole county"),
        (Role.DISPATCHER, "dispatcher", "county-wide dispatcher, all three stations"),
        (Role.DISPATCHER, "dispatcher.s1", f"dispatcher, {s1.name}"),
        (Role.MANAGER, "manager.s1", f"station manager, {s1.name}"),
        (Role.CREW, "crew.s1a", f"repair crew, {s1.name} (town); {waiting}"),
        (Role.CREW, "crew.s3a", f"repair crew, {s3.name} (mountains); {waiting}"),
        (Role.METER_TECH, "tech.s1a", f"meter technician, {s1.name}; {waiting}"),
        (Role.AGENT, "agent.s1a", f"field agent / counter clerk, {s1.name}; {waiting}"),
        *[(Role.CUSTOMER, c.username, c.note) for c in DEMO_CUSTOMERS],
    ]


# -- the summary --------------------------------------------------------------------------
@dataclass
class Summary:
    seed: int
    county: str
    days: int
    stations: int
    areas: dict[str, int]
    accounts: int
    care_list: int
    non_residential: int
    accounts_with_login: int
    meters: dict[str, int]
    readings: dict[str, int]
    users: dict[str, int]
    work_orders: dict[str, int]
    work_order_kinds: dict[str, int]
    overdue: int
    stalled: int
    meter_swaps: int
    change_log: int
    ledger: dict[str, int] = field(default_factory=dict)  # entries by kind
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())

    def describe(self) -> str:
        def join(counts: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in counts.items())

        statuses = join(self.work_orders)
        lines = [
            f"GridOne demo data: {self.county}, seed {self.seed}, "
            f"generated in {self.seconds:.1f} s ({join_t(self.timings)})",
            f"  stations:     {self.stations}",
            f"  areas:        {sum(self.areas.values())} ({join(self.areas)})",
            f"  accounts:     {self.accounts} (care list {self.care_list}, non-residential "
            f"{self.non_residential}, held by a customer login {self.accounts_with_login})",
            f"  meters:       {self.meters.get('installed', 0)} installed, "
            f"{self.meters.get('in_stock', 0)} in stock, {self.meters.get('removed', 0)} "
            f"removed ({self.meter_swaps} swaps)",
            f"  readings:     {sum(self.readings.values())} over {self.days} days "
            f"({join(self.readings)})",
            f"  users:        {sum(self.users.values())} ({join(self.users)})",
            f"  work orders:  {sum(self.work_orders.values())} ({statuses}); "
            f"overdue {self.overdue}, stalled {self.stalled}",
            f"  kinds:        {join(self.work_order_kinds)}",
            f"  ledger:       {sum(self.ledger.values())} entries ({join(self.ledger)})",
            f"  change log:   {self.change_log} entries",
        ]
        return "\n".join(lines)


def join_t(timings: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in timings.items())


# -- generating ---------------------------------------------------------------------------
def _ensure_empty(db: Database) -> None:
    with Session(db.reader) as session:
        if session.execute(select(func.count()).select_from(Station)).scalar_one():
            raise RuntimeError("the database already holds data: seed an empty database")


def _counts(session: Session, column: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).group_by(column)).all()
    return {str(k): int(v) for k, v in rows}


def _ordered(counts: dict[str, int], order: list[str]) -> dict[str, int]:
    return {k: counts.get(k, 0) for k in order}


def _summarise(db: Database, *, seed: int, days: int, now: datetime) -> Summary:
    with Session(db.reader) as s:
        def count(model: Any, *where: Any) -> int:
            return int(s.execute(select(func.count()).select_from(model).where(*where))
                       .scalar_one())

        orders = s.execute(select(WorkOrder)).scalars().all()
        flags = [work_orders.flags(o, now) for o in orders]
        return Summary(
            seed=seed, county=data.COUNTY, days=days, stations=count(Station),
            areas=_ordered(_counts(s, TransformerArea.area_class), [c.value for c in AreaClass]),
            accounts=count(Account), care_list=count(Account, Account.care_flag.is_(True)),  # type: ignore[attr-defined]
            non_residential=count(Account, Account.customer_type
                                  == CustomerType.NON_RESIDENTIAL.value),
            accounts_with_login=count(Account, Account.owner_user_id.is_not(None)),  # type: ignore[union-attr]
            meters=_ordered(_counts(s, Meter.status), [m.value for m in MeterStatus]),
            readings={k: v for k, v in _ordered(_counts(s, MeterReading.source),
                                                [r.value for r in ReadingSource]).items() if v},
            users=_ordered(_counts(s, User.role), [r.value for r in Role]),
            work_orders=_ordered(_counts(s, WorkOrder.status),
                                 [st.value for st in WorkOrderStatus]),
            work_order_kinds=_ordered(_counts(s, WorkOrder.kind),
                                      [k.value for k in WorkOrderKind]),
            overdue=sum(f.overdue for f in flags), stalled=sum(f.stalled for f in flags),
            meter_swaps=count(MeterSwap), change_log=count(ChangeLog),
            ledger=_ordered(_counts(s, LedgerEntry.kind), [k.value for k in EntryKind]))


def generate(db: Database, *, seed: int, accounts: int = 3000, days: int = 90, pepper: str,
             now: datetime | None = None) -> Summary:
    """Fill the (migrated, empty) database with the demo data set of ``seed``.

    ``now`` (default: the current time) is rounded down to the hour; every timestamp is
    relative to it. The same seed and sizes give the same names, numbers and counts.
    """
    if accounts < MIN_ACCOUNTS:
        raise ValueError(f"at least {MIN_ACCOUNTS} accounts are needed")
    if days < 1:
        raise ValueError("at least one day of readings is needed")
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        t = time.perf_counter()
        timings[name] = t - clock
        clock = t

    now = (now or utcnow()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    _ensure_empty(db)
    pw_hash = hash_password(DEMO_PASSWORD)  # once: argon2 is slow on purpose
    logins = min(CUSTOMER_LOGINS, max(len(DEMO_CUSTOMERS) + 2, accounts // 15))
    world = build_world(seed=seed, accounts=accounts, days=days, pepper=pepper, now=now,
                        pw_hash=pw_hash, customer_logins=logins)
    plan = jobs.plan(world)  # before the readings: planned meter swaps split them
    lap("plan")
    n_readings = write_bulk(world, db)
    lap("bulk write")
    jobs.play(db, world, plan)
    money.append_after_swaps(db, world)
    lap("work orders")
    summary = _summarise(db, seed=seed, days=days, now=now)
    with UnitOfWork(db) as uow:
        uow.audit(action="demo.seed", entity="demo", entity_id=f"seed-{seed}",
                  after={"seed": seed, "accounts": accounts, "days": days,
                         "now": now.isoformat(), "readings": n_readings,
                         "users": summary.users, "work_orders": summary.work_orders,
                         "meters": summary.meters},
                  reason="deterministic demo data set (gridone seed)")
        uow.commit()
    lap("summary")
    summary.timings = timings
    return summary
