"""The demo data generator: sizes, determinism, the demo logins and what each one sees."""

from __future__ import annotations

import copy
import re
import shutil
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlmodel import Session
from typer.testing import CliRunner

from server.audit.models import AuditLog
from server.billing.charging import charge_day
from server.billing.ledger import check
from server.billing.models import CashReceipt, LedgerEntry
from server.changes.models import ChangeLog
from server.cli import app as cli
from server.customers.models import Account
from server.db import Database, make_database
from server.demo.generator import (
    DEMO_CUSTOMERS,
    DEMO_PASSWORD,
    Summary,
    demo_logins,
    generate,
)
from server.discrepancies.models import BalanceDiscrepancy
from server.meters.models import Meter, MeterReading, MeterSwap
from server.payments.models import PaymentOrder
from server.stations.models import Station, TransformerArea
from server.users.models import User
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.enums import MeterStatus, Role, WorkOrderKind, WorkOrderStatus
from shared.ids import is_uuid, new_id
from shared.timeutil import LOCAL_TZ
from tests.factories import PEPPER

SEED = 4242
ACCOUNTS, DAYS = 120, 10
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
IN_PROGRESS = {"dispatched", "accepted", "en_route", "on_site"}


@pytest.fixture(scope="module")
def demo_file(template_db: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Path, Summary]:
    """The demo generated once for the module (it takes ~1.5 s): a database file that each
    test gets a copy of, and what ``generate`` reported."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = fresh_db(template_db, path)
    try:
        summary = generate(database, seed=SEED, accounts=ACCOUNTS, days=DAYS, pepper=PEPPER,
                           now=NOW)
    finally:
        database.dispose()  # the last connection closed: the WAL is folded into the file
    return path, summary


@pytest.fixture
def db_path(tmp_path: Path, demo_file: tuple[Path, Summary]) -> Path:
    """This module's tests start on a copy of the generated demo."""
    path = tmp_path / "gridone.db"
    shutil.copy(demo_file[0], path)
    return path


@pytest.fixture
def demo(db: Database, demo_file: tuple[Path, Summary]) -> Summary:
    return copy.deepcopy(demo_file[1])


def fresh_db(template_db: Path, path: Path) -> Database:
    shutil.copy(template_db, path)
    return make_database(f"sqlite:///{path}")


def count(session: Session, model: Any, *where: Any) -> int:
    return int(session.execute(select(func.count()).select_from(model).where(*where))
               .scalar_one())


def sign_in(client: TestClient, username: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token",
                    data={"username": username, "password": DEMO_PASSWORD})
    assert r.status_code == 200, (username, r.text)
    return {"Authorization": f"Bearer {r.json()['access_token']}", "Accept-Language": "en"}


# -- sizes ---------------------------------------------------------------------------------
def test_counts_match_the_requested_size(db: Database, demo: Summary) -> None:
    with Session(db.reader) as s:
        assert count(s, Station) == demo.stations == 3
        assert count(s, TransformerArea) == sum(demo.areas.values())
        assert 25 <= count(s, TransformerArea) <= 35
        assert set(demo.areas) == {"town", "rural", "remote"}
        assert count(s, Account) == demo.accounts == ACCOUNTS
        installed = count(s, Meter, Meter.status == MeterStatus.INSTALLED.value)
        assert installed == demo.meters["installed"] == ACCOUNTS  # one per account
        in_stock = count(s, Meter, Meter.status == MeterStatus.IN_STOCK.value)
        assert in_stock == demo.meters["in_stock"]
        assert 3 * 37 - demo.meter_swaps <= in_stock <= 3 * 44
        assert demo.meters.get("removed", 0) == demo.meter_swaps == count(s, MeterSwap)
        daily = count(s, MeterReading, MeterReading.source.in_(["actual", "estimated"]))  # type: ignore[attr-defined]
        assert daily == ACCOUNTS * DAYS
        assert sum(demo.readings.values()) == count(s, MeterReading)
        assert 0 < demo.readings["estimated"] < daily * 0.05
        assert count(s, Account, Account.care_flag.is_(True)) == demo.care_list >= 1  # type: ignore[attr-defined]
        assert count(s, WorkOrder) == sum(demo.work_orders.values())
    assert demo.users == {"customer": 8, "crew": 7, "meter_tech": 4, "agent": 5,
                          "dispatcher": 4, "manager": 3, "admin": 1}
    text_ = demo.describe()
    for word in ("stations", "areas", "accounts", "installed", "in stock", "readings",
                 "users", "work orders", "generated in"):
        assert word in text_
    assert demo.seconds > 0


def test_every_status_and_kind_appears(demo: Summary) -> None:
    assert set(demo.work_orders) == {s.value for s in WorkOrderStatus}
    assert all(n >= 3 for n in demo.work_orders.values()), demo.work_orders
    assert all(demo.work_order_kinds[k.value] >= 1 for k in WorkOrderKind), \
        demo.work_order_kinds
    assert demo.work_order_kinds["fault_repair"] > sum(demo.work_order_kinds.values()) / 3
    assert demo.overdue > 0 and demo.stalled > 0


# -- determinism ---------------------------------------------------------------------------
def structure(db: Database) -> dict[str, Any]:
    with Session(db.reader) as s:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in s.execute(text(sql)).all()]

        return {
            "accounts": rows("SELECT account_no, name, phone, address, lat, lon, customer_type,"
                             " id_card_masked, property_cert_masked, care_flag, balance_fen"
                             " FROM account ORDER BY account_no"),
            "meters": rows("SELECT meter_no, model, status, purchase_count, balance_fen, card_no,"
                           " last_reading_centi, last_reading_at FROM meter ORDER BY meter_no"),
            "users": rows("SELECT username, role, display_name, phone FROM user"
                          " ORDER BY username"),
            "areas": rows("SELECT code, name, rated_kva, area_class FROM transformer_area"
                          " ORDER BY code"),
            "orders": rows("SELECT code, kind, status, priority, channel, reported_at,"
                           " resolved_at, rating FROM work_order ORDER BY code"),
            "readings": rows("SELECT m.meter_no, r.read_date, r.value_centi, r.source"
                             " FROM meter_reading r JOIN meter m ON m.id = r.meter_id"
                             " ORDER BY m.meter_no, r.read_at, r.source"),
        }


def test_same_seed_gives_the_same_data(template_db: Path, tmp_path: Path) -> None:
    worlds = []
    for name, seed in (("one", SEED), ("two", SEED), ("other", SEED + 1)):
        db = fresh_db(template_db, tmp_path / f"{name}.db")
        try:
            generate(db, seed=seed, accounts=ACCOUNTS, days=DAYS, pepper=PEPPER, now=NOW)
            worlds.append(structure(db))
        finally:
            db.dispose()
    one, two, other = worlds
    for key in one:
        assert one[key] == two[key], key
    assert len(one["accounts"]) == ACCOUNTS
    assert len({a[0] for a in one["accounts"]}) == ACCOUNTS  # account numbers unique
    assert len({m[0] for m in one["meters"]}) == len(one["meters"])  # meter numbers unique
    assert one["accounts"] != other["accounts"]  # another seed, other people
    assert [u[0] for u in one["users"]] != [u[0] for u in other["users"]]  # customer logins


def test_refuses_a_database_that_holds_data(db: Database, demo: Summary) -> None:
    with pytest.raises(RuntimeError):
        generate(db, seed=SEED, accounts=ACCOUNTS, days=DAYS, pepper=PEPPER, now=NOW)


# -- the demo logins -----------------------------------------------------------------------
def test_demo_logins_cover_every_role() -> None:
    logins = demo_logins()
    assert {role for role, _, _ in logins} == set(Role)
    assert len({u for _, u, _ in logins}) == len(logins)
    assert all(note for _, _, note in logins)


def test_every_demo_login_signs_in(client: TestClient, demo: Summary) -> None:
    for role, username, _ in demo_logins():
        headers = sign_in(client, username)
        me = client.get("/api/v1/me", headers=headers)
        assert me.status_code == 200
        assert me.json()["role"] == role.value


def test_demo_customers_see_only_their_own(client: TestClient, db: Database,
                                           demo: Summary) -> None:
    with Session(db.reader) as s:
        total_orders = count(s, WorkOrder)
    for dc in DEMO_CUSTOMERS:
        headers = sign_in(client, dc.username)
        mine = set(client.get("/api/v1/me", headers=headers).json()["account_ids"])
        assert len(mine) == len(dc.homes)
        accounts = client.get("/api/v1/accounts", headers=headers).json()
        assert {a["id"] for a in accounts["items"]} == mine
        assert accounts["total"] == len(mine)
        assert all(a["name"] == dc.name and a["meter_no"] for a in accounts["items"])
        assert sum(a["care_flag"] for a in accounts["items"]) == sum(
            1 for _, _, care in dc.homes if care)
        orders = client.get("/api/v1/work-orders", params={"limit": 500},
                            headers=headers).json()
        assert 0 < orders["total"] < total_orders
        assert all(o["account_id"] in mine for o in orders["items"])
        statuses = {o["status"] for o in orders["items"]}
        assert statuses & IN_PROGRESS, (dc.username, statuses)
        waiting = [o for o in orders["items"] if o["status"] == "resolved"]
        assert waiting and all("confirm" in o["allowed_actions"] for o in waiting)
        other = next(a for a in DEMO_CUSTOMERS if a is not dc)
        r = client.get("/api/v1/accounts", params={"q": other.name}, headers=headers)
        assert r.json()["total"] == 0
        readings = client.get(f"/api/v1/accounts/{sorted(mine)[0]}/readings",
                              params={"days": 30}, headers=headers)
        assert readings.status_code == 200 and len(readings.json()) >= DAYS - 1


def test_demo_field_logins_have_jobs_to_accept(client: TestClient, demo: Summary) -> None:
    for role, username, _ in demo_logins():
        if role not in (Role.CREW, Role.METER_TECH, Role.AGENT):
            continue
        headers = sign_in(client, username)
        r = client.get("/api/v1/work-orders",
                       params={"assignee_id": "me", "status": "dispatched"}, headers=headers)
        assert r.status_code == 200
        items = r.json()["items"]
        assert items, username
        assert all("accept" in o["allowed_actions"] for o in items)


def test_office_logins_see_their_station(client: TestClient, db: Database,
                                         demo: Summary) -> None:
    with Session(db.reader) as s:
        total = count(s, WorkOrder)
        s1 = s.execute(select(Station.id).where(Station.code == "XY01")).scalar_one()
    for username in ("dispatcher.s1", "manager.s1"):
        r = client.get("/api/v1/work-orders", params={"limit": 500},
                       headers=sign_in(client, username)).json()
        assert 0 < r["total"] < total
        assert all(o["station_id"] == s1 for o in r["items"])
    for username in ("dispatcher", "admin"):
        r = client.get("/api/v1/work-orders", params={"limit": 1},
                       headers=sign_in(client, username)).json()
        assert r["total"] == total


def test_staff_find_a_demo_customer_by_id_card(client: TestClient, demo: Summary) -> None:
    zhang = DEMO_CUSTOMERS[0]
    r = client.get("/api/v1/accounts/lookup", params={"id_card": zhang.id_card},
                   headers=sign_in(client, "dispatcher"))
    assert r.status_code == 200, r.text
    assert [a["name"] for a in r.json()["items"]] == [zhang.name]
    assert r.json()["items"][0]["id_card_masked"] == zhang.id_card[:4] + "*" * 10 + \
        zhang.id_card[-4:]
    # the desk's one search box finds him by the same number (issue 10)
    r = client.get("/api/v1/customers/search", params={"q": zhang.id_card},
                   headers=sign_in(client, "dispatcher"))
    assert r.status_code == 200, r.text
    assert [a["name"] for a in r.json()["items"]] == [zhang.name]


# -- the data itself -----------------------------------------------------------------------
def test_readings_rise_per_meter_and_money_is_integer(db: Database, demo: Summary) -> None:
    with Session(db.reader) as s:
        series: dict[str, list[int]] = defaultdict(list)
        for meter_id, value in s.execute(select(MeterReading.meter_id, MeterReading.value_centi)
                                         .order_by(MeterReading.meter_id,
                                                   MeterReading.read_at)):  # type: ignore[arg-type]
            series[meter_id].append(value)
        assert series
        for meter_id, values in series.items():
            assert values == sorted(values), meter_id
        for meter in s.execute(select(Meter)).scalars():
            if meter.status == MeterStatus.IN_STOCK:
                assert meter.last_reading_centi is None and meter.account_id is None
                continue
            assert meter.last_reading_centi == series[meter.id][-1], meter.meter_no
            assert meter.last_reading_at is not None and meter.last_reading_at <= NOW
        for table in ("account", "meter"):
            assert s.execute(text(f"SELECT count(*) FROM {table} "
                                  "WHERE typeof(balance_fen) != 'integer'")).scalar_one() == 0
        for acc in s.execute(select(Account)).scalars():
            assert isinstance(acc.balance_fen, int)
            assert 28.3 <= acc.lat <= 28.9 and 112.6 <= acc.lon <= 113.2  # type: ignore[operator]


def test_documents_are_stored_only_as_digest_and_mask(db: Database, demo: Summary) -> None:
    with Session(db.reader) as s:
        accounts = s.execute(select(Account)).scalars().all()
        with_card = [a for a in accounts if a.id_card_digest]
        assert len(with_card) > ACCOUNTS * 0.8
        for a in with_card:
            assert re.fullmatch(r"[0-9a-f]{64}", a.id_card_digest or "")
            assert re.fullmatch(r"\d{4}\*{10}[\dX]{4}", a.id_card_masked or ""), a.id_card_masked
        assert any(a.property_cert_digest for a in accounts)
        dump = " ".join(str(v) for row in s.execute(text("SELECT * FROM account")).all()
                        for v in row)
        assert not re.search(r"\b\d{17}[\dX]\b", dump)  # no full ID number anywhere
        assert DEMO_CUSTOMERS[0].id_card not in dump


def test_synced_rows_have_change_log_entries(db: Database, demo: Summary) -> None:
    with Session(db.reader) as s:
        logged = defaultdict(set)
        for entity, entity_id in s.execute(select(ChangeLog.entity, ChangeLog.entity_id)):
            logged[entity].add(entity_id)
        for entity, model in (("station", Station), ("transformer_area", TransformerArea),
                              ("account", Account), ("meter", Meter),
                              ("work_order", WorkOrder)):
            ids = set(s.execute(select(model.id)).scalars())  # type: ignore[attr-defined]
            assert ids <= logged[entity], entity
        seqs = list(s.execute(select(ChangeLog.seq).order_by(ChangeLog.seq)).scalars())
        assert seqs == list(range(1, len(seqs) + 1))
        counter = s.execute(text("SELECT value FROM counter WHERE name = 'change_seq'")
                            ).scalar_one()
        assert counter == seqs[-1]
        account_scope = s.execute(select(ChangeLog).where(ChangeLog.entity == "account")
                                  ).scalars().first()
        assert account_scope is not None and account_scope.account_id == account_scope.entity_id
        seeds = s.execute(select(AuditLog).where(AuditLog.action == "demo.seed")).scalars().all()
        assert len(seeds) == 1 and seeds[0].after["seed"] == SEED


def test_work_orders_have_consistent_timelines(db: Database, demo: Summary) -> None:
    with Session(db.reader) as s:
        events = defaultdict(list)
        for ev in s.execute(select(WorkOrderEvent).order_by(
                WorkOrderEvent.occurred_at, WorkOrderEvent.recorded_at)).scalars():  # type: ignore[arg-type]
            events[ev.work_order_id].append(ev)
        orders = s.execute(select(WorkOrder)).scalars().all()
        for o in orders:
            timeline = events[o.id]
            assert timeline[0].action == "report"
            status_events = [e for e in timeline if e.from_status != e.to_status]
            assert status_events[-1].to_status == o.status, o.code
            assert o.reported_at <= o.last_activity_at <= NOW
            assert o.complete_by > o.reported_at
            if o.status in ("resolved", "confirmed", "closed"):
                assert o.resolved_at and o.arrived_at and o.arrived_at <= o.resolved_at
            if o.status == "cancelled":
                assert o.cancel_reason
        assert any(o.rating for o in orders)
        assert any(o.rating_comment for o in orders)
        for swap in s.execute(select(MeterSwap)).scalars():
            old, new = s.get(Meter, swap.old_meter_id), s.get(Meter, swap.new_meter_id)
            assert old and new
            assert old.status == MeterStatus.REMOVED and new.status == MeterStatus.INSTALLED
            assert new.account_id == swap.account_id and old.balance_fen == 0
            # the ledger's balance is carried; one technician misread the old meter by
            # 5 yuan: that swap has the demo's balance discrepancy
            assert new.balance_fen == swap.carried_fen
            assert swap.old_remaining_fen - swap.carried_fen in (0, 500)
        gaps = s.execute(select(BalanceDiscrepancy.difference_fen)).scalars().all()
        assert gaps == ([500] if demo.meter_swaps else [])
        users = {u.id: u for u in s.execute(select(User)).scalars()}
        for o in orders:
            if o.assignee_id:
                assert users[o.assignee_id].station_id == o.station_id


def test_ids_are_uuid7_and_leave_the_id_clock_alone(db: Database, demo: Summary) -> None:
    """Bulk rows get UUIDv7 ids stamped with their own time, made without uuid6's
    monotonic clock (which a quarter of a million ids would push minutes ahead)."""
    with Session(db.reader) as s:
        reading = s.execute(select(MeterReading).limit(1)).scalars().one()
        account_ids = list(s.execute(select(Account.id)).scalars())
    assert is_uuid(reading.id) and uuid.UUID(reading.id).version == 7
    assert uuid.UUID(reading.id).int >> 80 == int(reading.read_at.timestamp() * 1000)
    assert all(is_uuid(i) and uuid.UUID(i).version == 7 for i in account_ids)
    assert len(set(account_ids)) == len(account_ids)
    ms = uuid.UUID(new_id()).int >> 80
    assert ms <= time.time_ns() // 1_000_000 + 1000


# -- money (issue 8, item 2) ---------------------------------------------------------------
def test_check_ledger_passes_on_a_fresh_demo(db: Database, demo: Summary,
                                             monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    """``gridone check-ledger``, as an operator runs it, on the database ``gridone seed``
    fills (the same ``generate``): every balance is the sum of its ledger."""
    for var in ("GRIDONE_DATA_DIR", "GRIDONE_ENV"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GRIDONE_DATABASE_URL", db.url)
    result = CliRunner().invoke(cli, ["check-ledger", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "ledger OK" in result.output
    kinds = demo.ledger
    assert kinds["opening_balance"] == ACCOUNTS
    assert kinds["usage_charge"] > ACCOUNTS * (DAYS - 3)
    assert kinds["recharge_cash"] > 0 and kinds["recharge_online"] > 0
    assert kinds["swap_carry_over"] == demo.meter_swaps
    with Session(db.reader) as s:
        receipts = s.execute(select(func.count()).select_from(CashReceipt)).scalar_one()
        orders = s.execute(select(func.count()).select_from(PaymentOrder).where(
            PaymentOrder.status == "credited")).scalar_one()
    assert (receipts, orders) == (kinds["recharge_cash"], kinds["recharge_online"])


def test_the_daily_charging_run_finds_nothing_left_to_charge(db: Database,
                                                             demo: Summary) -> None:
    """The seeded charges are exactly what the real charging run computes: running it
    for yesterday (every account) posts nothing."""
    day = (NOW - timedelta(hours=1)).astimezone(LOCAL_TZ).date() - timedelta(days=1)
    with Session(db.reader) as s:
        entries = s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()
    report = charge_day(db, day=day, now=NOW)
    assert (report.accounts, report.charged, report.total_fen, report.errors) == (
        ACCOUNTS, 0, 0, [])
    with Session(db.reader) as s:
        assert s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == entries
        assert check(s) == []


def test_a_demo_customer_sees_past_recharges_and_usage_charges(client: TestClient,
                                                               demo: Summary) -> None:
    headers = sign_in(client, "customer.zhang")
    (account_id,) = client.get("/api/v1/me", headers=headers).json()["account_ids"]
    page = client.get(f"/api/v1/billing/accounts/{account_id}/ledger",
                      headers=headers, params={"limit": 500}).json()
    kinds = [e["kind"] for e in page["items"]]
    assert kinds[-1] == "opening_balance" and page["total"] == len(kinds)
    assert kinds.count("usage_charge") >= DAYS - 3
    assert {"recharge_cash", "recharge_online"} & set(kinds), kinds
    balance = client.get(f"/api/v1/billing/accounts/{account_id}/balance",
                         headers=headers).json()
    assert balance["balance_fen"] == balance["ledger_sum_fen"] == page["items"][0][
        "balance_after_fen"]
    usage = client.get(f"/api/v1/billing/accounts/{account_id}/usage", headers=headers).json()
    assert sum(len(m["days"]) for m in usage) >= DAYS - 2
