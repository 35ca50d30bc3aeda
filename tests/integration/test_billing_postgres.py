"""Money under concurrency on PostgreSQL (row locks, not SQLite's single writer): the same
cash op pushed by six threads, the same paid notification delivered six times at once,
and two charge runs of the same day racing — each credits or charges exactly once."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from server.app import create_app
from server.auth.security import make_token
from server.billing.charging import charge_day
from server.config import Settings
from server.migrate import upgrade
from tests.conftest import SECRET, Api, pg_url
from tests.factories import PEPPER, build_world
from tests.integration.billing_kit import (
    assert_ledger_ok,
    balance,
    cash_op,
    entries,
    import_readings,
    month_start,
    open_all,
    reading,
    tier_cost_fen,
)

pytestmark = pytest.mark.postgres


class Pg:
    def __init__(self, tmp: Path) -> None:
        base = make_url(pg_url())
        self.admin_url = base.set(drivername="postgresql").render_as_string(
            hide_password=False)
        try:
            self.admin = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)
        except psycopg.OperationalError as exc:
            pytest.fail(f"PostgreSQL is not reachable (GRIDONE_TEST_PG_URL): {exc}",
                        pytrace=False)
        self.name = f"gridone_b_{secrets.token_hex(6)}"
        self.admin.execute(f'CREATE DATABASE "{self.name}"')
        url = base.set(database=self.name).render_as_string(hide_password=False)
        upgrade(url)
        self.app = create_app(Settings(env="test", database_url=url, data_dir=tmp,
                                       secret_key=SECRET, lookup_pepper=PEPPER),
                              migrate=False)
        self.db = self.app.state.db
        self.world = build_world(self.db)
        open_all(self.db)
        self.client = TestClient(self.app, raise_server_exceptions=False)

    def api(self, name: str) -> Api:
        token, _ = make_token(secret=SECRET, sub=self.world.user(name).id, kind="access",
                              ttl=timedelta(hours=1))
        return Api(self.client, token)

    def close(self) -> None:
        self.db.dispose()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.close()


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[Pg]:
    env = Pg(tmp_path)
    try:
        yield env
    finally:
        env.close()


def together(n: int, fn: Any) -> list[Any]:
    barrier, out = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_one_cash_op_pushed_by_six_threads_credits_once(pg):
    acc = pg.world.accounts["acc1"]
    agent = pg.api("agent1")
    op = cash_op(acc.id, 4200, "RC-PG-000001")
    body = {"protocol": 1, "device_id": "device-agent1-0001", "ops": [op]}

    def send(_: int) -> str:
        from shared.timeutil import utcnow

        r = agent.post("/api/v1/sync/push", json={**body, "sent_at": utcnow().isoformat()})
        assert r.status_code == 200, r.text
        return r.json()["results"][0]["status"]

    # (the device is known already: six first-ever pushes of one device racing is another
    # matter — server/sync/push.py _touch_device, reported)
    from shared.timeutil import utcnow

    warm = cash_op(acc.id, 1, "RC-PG-000000", seq=99)  # refused: a bad amount
    agent.post("/api/v1/sync/push", json={**body, "ops": [warm],
                                          "sent_at": utcnow().isoformat()})
    statuses = together(6, send)
    assert statuses.count("applied") == 1, statuses
    assert set(statuses) <= {"applied", "duplicate", "deferred"}
    assert send(0) == "duplicate"  # the deferred ones learn it on their retry
    assert balance(pg.db, acc.id) == 5000 + 4200
    assert len(entries(pg.db, acc.id, "recharge_cash")) == 1
    assert_ledger_ok(pg.db)


def test_one_paid_notification_delivered_six_times_at_once_credits_once(pg):
    acc = pg.world.accounts["acc1"]
    me = pg.api("customer1")
    order = me.post("/api/v1/payments/orders", json={
        "account_id": acc.id, "amount_fen": 3300, "idempotency_key": "pg-order-0001"}).json()
    pg.client.post(order["pay_url"] + "/approve", params={"deliver": "false"})
    paid = pg.client.get(f"/sandbox/pay/{order['provider_txn_id']}/events").json()[-1]

    def deliver(_: int) -> int:
        r = pg.client.post("/api/v1/payments/callback", content=paid["body"].encode(),
                           headers={"X-Signature": paid["signature"]})
        return r.status_code

    assert together(6, deliver) == [200] * 6
    assert me.get(f"/api/v1/payments/orders/{order['id']}").json()["status"] == "credited"
    assert balance(pg.db, acc.id) == 5000 + 3300
    assert len(entries(pg.db, acc.id, "recharge_online")) == 1
    assert_ledger_ok(pg.db)


def test_two_charge_runs_of_one_day_race_and_charge_once(pg):
    acc = pg.world.accounts["acc1"]
    first = month_start(1)
    import_readings(pg.db, [reading("MTR-M1-0001", first - timedelta(days=1), "1000.00"),
                            reading("MTR-M1-0001", first, "1100.00")])
    together(2, lambda _: charge_day(pg.db, day=first))
    (charge,) = entries(pg.db, acc.id, "usage_charge")
    from decimal import Decimal

    assert -charge.amount_fen == tier_cost_fen(Decimal(100), first.month)
    assert_ledger_ok(pg.db)
