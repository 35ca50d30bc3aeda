"""The demo world in memory, and its bulk write.

Stations, areas, users, accounts, meters and daily readings are built as plain row dicts
from the seeded generator, then written with SQLAlchemy Core bulk inserts in one
transaction, together with the change-log entries the unit of work would have written
(``server.uow.scope_of`` gives their scope), and each account's money: its ledger,
rated days, cash receipts and online orders (``server.demo.money``).
"""

from __future__ import annotations

import random
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session

from server.billing.models import BillingDay, CashReceipt, LedgerEntry
from server.changes.models import ChangeLog
from server.customers.models import Account
from server.customers.service import document_digest, mask_document
from server.db import Database, bump_counter
from server.demo import data
from server.demo.money import Writer
from server.meters.models import Meter, MeterReading
from server.payments.models import PaymentOrder
from server.stations.models import Station, TransformerArea
from server.uow import Scope, scope_of
from server.users.models import User
from shared.enums import AreaClass, CustomerType, MeterStatus, ReadingSource, Role
from shared.timeutil import LOCAL_TZ

_READING_CHUNK = 25_000


@dataclass(frozen=True)
class DemoCustomer:
    username: str
    name: str
    phone: str
    id_card: str
    #: (station key, area class, care-list reason or None) of each account they hold.
    homes: tuple[tuple[str, AreaClass, str | None], ...]
    note: str


DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    DemoCustomer("customer.zhang", "张伟", "13807300001",
                 data.id_card("430624", "19850312", 1), (("s1", AreaClass.TOWN, None),),
                 "customer, 1 account in town (城关供电所)"),
    DemoCustomer("customer.li", "李秀英", "13807300002",
                 data.id_card("430624", "19620815", 2),
                 (("s1", AreaClass.TOWN, None),
                  ("s2", AreaClass.RURAL, "母亲独居（86岁），停电须人工确认")),
                 "customer with 2 accounts, one on the care list"),
    DemoCustomer("customer.wang", "王建军", "13807300003",
                 data.id_card("430626", "19781103", 3), (("s3", AreaClass.REMOTE, None),),
                 "customer in a remote mountain village (青山供电所)"),
)


# -- the world, in memory -----------------------------------------------------------------
@dataclass
class Stn:
    spec: data.StationSpec
    id: str
    no: int


@dataclass
class Area:
    id: str
    no: int
    code: str
    name: str
    place: str
    stn: Stn
    cls: AreaClass
    kva: int
    lat: float
    lon: float


@dataclass
class Acct:
    idx: int
    row: dict[str, Any]
    meter: dict[str, Any]
    area: Area
    mean_centi: float  # mean daily consumption, kWh x 100
    register0: int  # register before the first reading, kWh x 100
    owner: str | None = None  # username of the customer login holding it
    demo: str | None = None  # demo customer username


@dataclass
class SwapPlan:
    """A meter swap that the work-order phase will record at ``at``."""

    at: datetime
    new_meter: dict[str, Any]
    new_start_centi: int
    old_final_centi: int = 0  # the old meter's register at ``at``, set with the readings
    last_after: tuple[int, datetime] | None = None  # the new meter's last daily reading
    misread_fen: int = 0  # what the technician reads off the old meter beyond the ledger
    # set with the money (``server.demo.money``): the ledger's balance at the swap, and
    # the account's ledger entries (and purchases) after it
    ledger_fen: int = 0
    later: list[dict[str, Any]] = field(default_factory=list)
    later_purchases: int = 0


class Ids:
    """UUIDv7 ids for the bulk rows, stamped with each row's own time.

    Not ``shared.ids.new_id``: uuid6 keeps its ids monotonic by moving its clock one
    millisecond ahead for every id made within the same millisecond, so a quarter of a
    million ids in a few seconds would put every later id of the process minutes in the
    future. The random part comes from its own seeded generator: the same seed and "now"
    give the same ids.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"gridone-demo-ids-{seed}")

    def __call__(self, at: datetime) -> str:
        ms = int(at.timestamp() * 1000)
        rand = self._rng.getrandbits(74)
        value = ((ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | (rand >> 62) << 64
                 | 0b10 << 62 | (rand & ((1 << 62) - 1)))
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class World:
    seed: int
    rng: random.Random
    now: datetime
    days: int
    pepper: str
    pw_hash: str
    stations: list[Stn] = field(default_factory=list)
    areas: list[Area] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # by username
    accounts: list[Acct] = field(default_factory=list)
    stock: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by station key
    holdings: dict[str, list[Acct]] = field(default_factory=dict)  # customer -> accounts
    swaps: dict[int, SwapPlan] = field(default_factory=dict)  # by account idx
    phones: set[str] = field(default_factory=set)
    read_dates: list[date] = field(default_factory=list)
    ids: Ids = field(init=False)

    def __post_init__(self) -> None:
        self.ids = Ids(self.seed)

    def station(self, key: str) -> Stn:
        return next(s for s in self.stations if s.spec.key == key)

    def staff(self, stn: Stn, role: Role) -> list[str]:
        """Usernames of a station's users of ``role``, in a stable order."""
        return sorted(u for u, r in self.users.items()
                      if r["role"] == role.value and r["station_id"] == stn.id)


def _person(rng: random.Random, male: bool | None = None) -> tuple[str, bool]:
    surnames = [s for s, _ in data.SURNAMES]
    weights = [w for _, w in data.SURNAMES]
    if male is None:
        male = rng.random() < 0.5
    given = rng.choice(data.GIVEN_MALE if male else data.GIVEN_FEMALE)
    return rng.choices(surnames, weights)[0] + given, male


def _phone(world: World) -> str:
    while True:
        p = world.rng.choice(data.PHONE_PREFIXES) + f"{world.rng.randrange(10**8):08d}"
        if p not in world.phones:
            world.phones.add(p)
            return p


def _birth(rng: random.Random, now: datetime, lo: int, hi: int) -> str:
    d = now.date() - timedelta(days=rng.randint(lo * 365, hi * 365))
    return f"{d:%Y%m%d}"


def _jitter(rng: random.Random, v: float, spread: float) -> float:
    return round(v + rng.uniform(-spread, spread), 6)


def build_org(world: World) -> None:
    rng, now = world.rng, world.now
    area_no = 0
    villages = rng.sample(data.VILLAGES, len(data.VILLAGES))
    communities = rng.sample(data.COMMUNITIES, len(data.COMMUNITIES))
    for no, spec in enumerate(data.STATIONS, 1):
        stn = Stn(spec, world.ids(now - timedelta(days=3650)), no)
        world.stations.append(stn)
        n_in_station = 0
        for cls, count in spec.areas:
            for _ in range(count):
                area_no += 1
                n_in_station += 1
                if cls == AreaClass.TOWN:
                    place = communities.pop()
                    name = f"{place}社区{rng.randint(1, 3)}号配变"
                else:
                    place = villages.pop()
                    name = f"{place}村{rng.randint(1, 4)}号配变"
                world.areas.append(Area(
                    world.ids(now - timedelta(days=3650)), area_no,
                    f"{spec.code}-{n_in_station:02d}", name, place, stn, cls,
                    rng.choice(data.KVA_BY_CLASS[cls]), _jitter(rng, spec.lat, 0.06),
                    _jitter(rng, spec.lon, 0.06)))
    created = now - timedelta(days=400)

    def add_user(username: str, role: Role, stn: Stn | None) -> None:
        name, _ = _person(rng)
        world.users[username] = {
            "id": world.ids(created), "username": username, "password_hash": world.pw_hash,
            "role": role.value, "display_name": name, "phone": _phone(world),
            "station_id": stn.id if stn else None, "active": True, "locale": "zh",
            "created_at": created, "version": 1}

    add_user("admin", Role.ADMIN, None)
    add_user("dispatcher", Role.DISPATCHER, None)
    for stn in world.stations:
        k, spec = stn.spec.key, stn.spec
        add_user(f"dispatcher.{k}", Role.DISPATCHER, stn)
        add_user(f"manager.{k}", Role.MANAGER, stn)
        for role, prefix, n in ((Role.CREW, "crew", spec.crews),
                                (Role.METER_TECH, "tech", spec.techs),
                                (Role.AGENT, "agent", spec.agents)):
            for i in range(n):
                add_user(f"{prefix}.{k}{'abc'[i]}", role, stn)


def _card_no(rng: random.Random, used: set[str]) -> str:
    while True:
        c = f"{rng.randrange(10**15, 10**16)}"
        if c not in used:
            used.add(c)
            return c


def build_accounts(world: World, n: int) -> None:
    rng, now, pepper = world.rng, world.now, world.pepper
    areas = world.areas
    weights = [a.kva * data.DENSITY[a.cls] for a in areas]
    chosen = list(areas) + rng.choices(areas, weights, k=n - len(areas))
    chosen.sort(key=lambda a: a.no)
    serials = rng.sample(range(10_000_000, 90_000_000), n)
    cards: set[str] = set()
    seq_in_area: Tally[int] = Tally()
    for idx, area in enumerate(chosen):
        seq_in_area[area.no] += 1
        non_res = rng.random() < 0.03
        name, male = _person(rng)
        id_card = None
        if not non_res:
            id_card = data.id_card(rng.choice(data.ID_REGIONS), _birth(rng, now, 20, 88),
                                   rng.randrange(1, 999, 2) if male else rng.randrange(0, 999, 2))
        else:
            name = f"{data.COUNTY}{area.place}{rng.choice(data.NON_RESIDENTIAL)}"
        cert = None
        if rng.random() < (0.8 if non_res else 0.35):
            year, serial = rng.randint(2008, 2025), rng.randrange(10**7)
            cert = f"湘({year}){data.COUNTY}不动产权第{serial:07d}号"
        town = area.stn.spec.town
        num = rng.randint(1, 199)
        if area.cls == AreaClass.TOWN:
            address = f"{data.COUNTY}{town}{rng.choice(data.STREETS)}{num}号"
            if rng.random() < 0.4:
                building, unit = rng.randint(1, 12), rng.randint(1, 3)
                address += f"{building}栋{unit}单元{rng.randint(1, 6)}0{rng.randint(1, 4)}"
        else:
            address = f"{data.COUNTY}{town}{area.place}村{rng.randint(1, 12)}组{num}号"
        care = (not non_res) and rng.random() < 0.03
        opened = now - timedelta(days=rng.randint(200, 5500))
        if non_res:
            balance = rng.randint(10_000, 500_000)
            mean = rng.uniform(20, 150) * 100
        else:
            r = rng.random()
            balance = (-rng.randint(1, 5_000) if r < 0.02 else rng.randint(1, 1_999) if r < 0.08
                       else rng.randint(2_000, 40_000))
            mean = rng.uniform(3, 15) * 100
        installed = opened + timedelta(days=rng.randint(0, 60))
        years = max(1, (now - installed).days // 365)
        account_id = world.ids(opened)
        row = {
            "id": account_id, "account_no": f"0730{area.no:02d}{seq_in_area[area.no]:05d}",
            "name": name, "phone": _phone(world) if rng.random() < 0.96 else None,
            "address": address, "lat": _jitter(rng, area.lat, 0.012),
            "lon": _jitter(rng, area.lon, 0.012),
            "customer_type": (CustomerType.NON_RESIDENTIAL if non_res
                              else CustomerType.RESIDENTIAL).value,
            "station_id": area.stn.id, "area_id": area.id, "owner_user_id": None,
            "id_card_digest": document_digest(id_card, pepper=pepper) if id_card else None,
            "id_card_masked": mask_document(id_card) if id_card else None,
            "property_cert_digest": document_digest(cert, pepper=pepper) if cert else None,
            "property_cert_masked": mask_document(cert) if cert else None,
            "care_flag": care, "care_reason": rng.choice(data.CARE_REASONS) if care else None,
            "balance_fen": balance, "created_at": opened, "updated_at": now, "version": 1}
        meter = {
            "id": world.ids(installed), "meter_no": f"4306{serials[idx]:08d}",
            "model": data.METER_MODEL_3P if non_res else rng.choice(data.METER_MODELS_1P),
            "status": MeterStatus.INSTALLED.value, "account_id": account_id,
            "area_id": area.id, "station_id": area.stn.id,
            "purchase_count": rng.randint(years, years * 12), "balance_fen": balance,
            "card_no": _card_no(rng, cards), "last_reading_centi": None,
            "last_reading_at": None, "installed_at": installed, "removed_at": None,
            "updated_at": now, "version": 1}
        register0 = int(mean * rng.uniform(0.6, 1.1) * (now - installed).days)
        world.accounts.append(Acct(idx, row, meter, area, mean, min(register0, 90_000_000)))
    for stn in world.stations:
        count = 40 + rng.randint(-3, 4)
        base = 90_000_000 + stn.no * 100_000 + rng.randrange(0, 90_000, 100)
        world.stock[stn.spec.key] = [{
            "id": world.ids(now), "meter_no": f"4306{base + j:08d}",
            "model": data.METER_MODELS_1P[0],
            "status": MeterStatus.IN_STOCK.value, "account_id": None, "area_id": None,
            "station_id": stn.id, "purchase_count": 0, "balance_fen": 0, "card_no": None,
            "last_reading_centi": None, "last_reading_at": None, "installed_at": None,
            "removed_at": None, "updated_at": now, "version": 1} for j in range(count)]


def _set_person(world: World, acct: Acct, *, name: str, phone: str | None,
                id_card: str | None, digest: str | None = None, masked: str | None = None
                ) -> None:
    acct.row.update(name=name, phone=phone, customer_type=CustomerType.RESIDENTIAL.value)
    if id_card is not None:
        digest, masked = document_digest(id_card, pepper=world.pepper), mask_document(id_card)
    acct.row.update(id_card_digest=digest, id_card_masked=masked)


def _add_customer(world: World, username: str, name: str, phone: str | None,
                  accts: list[Acct]) -> None:
    created = world.now - timedelta(days=world.rng.randint(5, 300))
    world.users[username] = {
        "id": world.ids(created), "username": username, "password_hash": world.pw_hash,
        "role": Role.CUSTOMER.value, "display_name": name, "phone": phone,
        "station_id": None, "active": True, "locale": "zh", "created_at": created,
        "version": 1}
    for a in accts:
        a.owner = username
        a.row["owner_user_id"] = world.users[username]["id"]
    world.holdings[username] = accts


def build_customers(world: World, n_logins: int) -> None:
    rng = world.rng
    taken: set[int] = set()
    for dc in DEMO_CUSTOMERS:
        accts = []
        for key, cls, care in dc.homes:
            acct = next(a for a in world.accounts if a.idx not in taken
                        and a.area.stn.spec.key == key and a.area.cls == cls)
            taken.add(acct.idx)
            world.phones.add(dc.phone)
            _set_person(world, acct, name=dc.name, phone=dc.phone, id_card=dc.id_card)
            acct.meter["model"] = data.METER_MODELS_1P[0]
            acct.row.update(care_flag=care is not None, care_reason=care)
            if acct.row["balance_fen"] < 3_000:
                acct.row["balance_fen"] = acct.meter["balance_fen"] = 3_000 + acct.idx * 7
            acct.demo = dc.username
            accts.append(acct)
        _add_customer(world, dc.username, dc.name, dc.phone, accts)
    pool = [a for a in world.accounts if a.idx not in taken
            and a.row["customer_type"] == CustomerType.RESIDENTIAL.value and a.row["phone"]]
    picked = rng.sample(pool, min(len(pool), n_logins - len(DEMO_CUSTOMERS)))
    picked_ids = {a.idx for a in picked}
    spare = [a for a in pool if a.idx not in picked_ids]
    rng.shuffle(spare)
    for i, acct in enumerate(picked):
        accts = [acct]
        if i % 25 == 12 and spare:  # a few hold a second home
            second = spare.pop()
            _set_person(world, second, name=acct.row["name"], phone=acct.row["phone"],
                        id_card=None, digest=acct.row["id_card_digest"],
                        masked=acct.row["id_card_masked"])
            accts.append(second)
        _add_customer(world, acct.row["phone"], acct.row["name"], acct.row["phone"], accts)


# -- readings -----------------------------------------------------------------------------
#: Monthly usage factor: Hunan summers (air conditioning) and winters (heating) are heavy.
_SEASON = {1: 1.35, 2: 1.25, 3: 0.95, 4: 0.85, 5: 0.9, 6: 1.1, 7: 1.5, 8: 1.55, 9: 1.15,
           10: 0.85, 11: 0.9, 12: 1.25}


def read_dates(now: datetime, days: int) -> list[date]:
    """``days`` dates ending with the last one whose daily reading has surely arrived."""
    last = (now - timedelta(hours=1)).astimezone(LOCAL_TZ).date()
    return [last - timedelta(days=days - 1 - i) for i in range(days)]


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=LOCAL_TZ)


def _account_readings(world: World, acct: Acct, factors: list[tuple[datetime, float]]
                      ) -> list[dict[str, Any]]:
    """The account's daily readings; a planned swap splits them between the two meters.

    Sets the meter's last reading (and, for a swap, the old meter's register at the swap).
    Estimated readings never run ahead of the register, so every meter's readings rise.
    """
    rng = world.rng
    mean = acct.mean_centi
    series: list[tuple[date, datetime, int, bool]] = []
    reg = acct.register0
    for (midnight, factor), d in zip(factors, world.read_dates, strict=True):
        reg += int(mean * factor * (0.55 + 0.9 * rng.random()))
        at = midnight + timedelta(minutes=rng.randint(1, 50))
        series.append((d, at, reg, rng.random() < 0.015))
    swap = world.swaps.get(acct.idx)
    cut, offset = len(series), 0
    if swap is not None:
        cut = next((i for i, s in enumerate(series) if s[1] > swap.at), len(series))
        prev_at = series[cut - 1][1] if cut else series[0][1] - timedelta(days=1)
        prev_reg = series[cut - 1][2] if cut else acct.register0
        if cut < len(series):
            frac = (swap.at - prev_at) / (series[cut][1] - prev_at)
            true_at = prev_reg + int((series[cut][2] - prev_reg) * min(1.0, max(0.0, frac)))
        else:
            true_at = prev_reg + int(mean * (swap.at - prev_at).total_seconds() / 86400)
        swap.old_final_centi = true_at
        offset = swap.new_start_centi - true_at
    rows: list[dict[str, Any]] = []
    old_id, account_id = acct.meter["id"], acct.row["id"]
    reported = acct.register0
    for i, (d, at, reg, estimated) in enumerate(series):
        if i == cut and swap is not None:
            reported = swap.new_start_centi
        value = reg + (offset if i >= cut else 0)
        if estimated:  # no reading arrived: filled in from the usual daily use
            value = min(reported + int(mean), value)
        reported = value
        if i < cut:
            meter_id = old_id
            acct.meter["last_reading_centi"], acct.meter["last_reading_at"] = value, at
        else:
            assert swap is not None
            meter_id = swap.new_meter["id"]
            swap.last_after = (value, at)
        rows.append({"id": world.ids(at), "meter_id": meter_id, "account_id": account_id,
                     "read_date": d, "read_at": at, "value_centi": value,
                     "source": (ReadingSource.ESTIMATED if estimated
                                else ReadingSource.ACTUAL).value,
                     "created_at": at})
    return rows


# -- writing ------------------------------------------------------------------------------
_FAKE_ROWS: dict[str, type] = {}
_MONEY_MODELS = {"ledger_entry": LedgerEntry, "billing_day": BillingDay,
                 "cash_receipt": CashReceipt, "payment_order": PaymentOrder}


def _scope(table: str, row: dict[str, Any]) -> Scope:
    """``scope_of`` applied to a plain row dict, so the bulk rows get the scope the unit of
    work would have given them."""
    cls = _FAKE_ROWS.setdefault(table, type(f"Row_{table}", (), {"__tablename__": table}))
    obj = cls()
    obj.__dict__.update(row)
    return scope_of(obj)  # type: ignore[arg-type]


def write_bulk(world: World, db: Database) -> int:
    """Write the whole world in one transaction; returns the number of readings."""
    station_rows = [{"id": s.id, "code": s.spec.code, "name": s.spec.name,
                     "county": data.COUNTY, "version": 1} for s in world.stations]
    area_rows = [{"id": a.id, "code": a.code, "name": a.name, "station_id": a.stn.id,
                  "rated_kva": a.kva, "area_class": a.cls.value, "version": 1}
                 for a in world.areas]
    account_rows = [a.row for a in world.accounts]
    stock_rows = [m for key in sorted(world.stock) for m in world.stock[key]]
    factors = [(_midnight(d), _SEASON[d.month] * (1.08 if d.weekday() >= 5 else 1.0))
               for d in world.read_dates]
    n_readings = 0
    with Session(db.writer) as session, session.begin():
        conn = session.connection()  # plain Core: no ORM bookkeeping per row

        def put(model: Any, rows: list[dict[str, Any]]) -> None:
            if rows:
                conn.execute(insert(model.__table__), rows)

        put(Station, station_rows)
        put(TransformerArea, area_rows)
        put(User, list(world.users.values()))
        put(Account, account_rows)
        put(Meter, stock_rows)
        money = Writer(world, session)
        # A batch of accounts at a time: its readings set its meters' last readings (and
        # its money their purchase counts), so the meters go in just before their readings.
        batch: list[Acct] = []
        readings: list[dict[str, Any]] = []
        for i, acct in enumerate(world.accounts):
            mine = _account_readings(world, acct, factors)
            money.add(acct, mine)
            readings.extend(mine)
            batch.append(acct)
            if len(readings) >= _READING_CHUNK or i == len(world.accounts) - 1:
                put(Meter, [a.meter for a in batch])
                put(MeterReading, readings)
                money.flush(put, _MONEY_MODELS)
                n_readings += len(readings)
                batch, readings = [], []
        money.finish(session)
        logged = ([("station", r) for r in station_rows]
                  + [("transformer_area", r) for r in area_rows]
                  + [("account", r) for r in account_rows]
                  + [("meter", a.meter) for a in world.accounts]
                  + [("meter", r) for r in stock_rows])
        top = bump_counter(session, "change_seq", len(logged))
        seq = top - len(logged)
        log_rows = []
        for table, row in logged:
            seq += 1
            sc = _scope(table, row)
            log_rows.append({"seq": seq, "entity": table, "entity_id": row["id"],
                             "version": row["version"], "deleted": False,
                             "station_id": sc.station_id, "account_id": sc.account_id,
                             "user_id": sc.user_id})
        put(ChangeLog, log_rows)
    return n_readings


def build_world(*, seed: int, accounts: int, days: int, pepper: str, now: datetime,
                pw_hash: str, customer_logins: int) -> World:
    """Stations, areas, staff, accounts with meters, stock and customer logins (in memory)."""
    world = World(seed=seed, rng=random.Random(seed), now=now, days=days, pepper=pepper,
                  pw_hash=pw_hash)
    world.read_dates = read_dates(now, days)
    build_org(world)
    build_accounts(world, accounts)
    build_customers(world, customer_logins)
    return world
