"""Rate limits (issue 14): wrong passwords lock a user name and an address out for a while
(429 AUTH_RATE_LIMITED with Retry-After, doubling each time); each device has a budget of
sync pushes and pulls (429 RATE_LIMITED with Retry-After). The counters are rows in the
database, so they hold across workers (tests/integration/test_production_shape.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.auth.security import make_token
from server.config import Settings
from server.db import Database
from server.ratelimit.service import sweep
from shared.timeutil import utcnow
from tests.conftest import SECRET, sqlite_settings, table_rows
from tests.factories import PASSWORD, World

TOKEN, PULL, PUSH = "/api/v1/auth/token", "/api/v1/sync/pull", "/api/v1/sync/push"


@pytest.fixture
def settings(tmp_path: Path, db_path: Path) -> Settings:
    return sqlite_settings(tmp_path, db_path).model_copy(update={
        "login_user_max_failures": 3, "login_address_max_failures": 5,
        "login_lockout_s": 600, "sync_pull_per_minute": 3, "sync_push_per_minute": 2})


def login(client: TestClient, username: str, password: str = PASSWORD,
          lang: str = "en") -> Any:
    return client.post(TOKEN, data={"username": username, "password": password},
                       headers={"Accept-Language": lang})


@pytest.fixture
def other_address(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=("203.0.113.9", 50000), raise_server_exceptions=False) as c:
        yield c


def test_wrong_passwords_lock_the_user_out(client: TestClient, world: World,
                                           other_address: TestClient) -> None:
    for _ in range(3):
        r = login(client, "crew1", "wrong")
        assert (r.status_code, r.json()["code"]) == (401, "AUTH_INVALID_CREDENTIALS")
    r = login(client, "crew1")  # even the right password, now
    assert r.status_code == 429, r.text
    body = r.json()
    assert body["code"] == "AUTH_RATE_LIMITED"
    assert 590 <= int(r.headers["Retry-After"]) <= 600
    assert body["details"]["retry_after"] == int(r.headers["Retry-After"])
    assert "try again in" in body["message"] and r.headers["Retry-After"] in body["message"]
    zh = login(client, "crew1", lang="zh").json()["message"]
    assert "登录失败次数过多" in zh
    # the user name is locked from every address; other users are not
    assert login(other_address, "crew1").status_code == 429
    assert login(client, "crew2").status_code == 200
    assert login(other_address, "crew2").status_code == 200


def test_a_success_forgets_the_failures(client: TestClient, world: World) -> None:
    for _ in range(2):
        assert login(client, "crew1", "wrong").status_code == 401
    assert login(client, "crew1").status_code == 200
    for _ in range(2):
        assert login(client, "crew1", "wrong").status_code == 401
    assert login(client, "crew1").status_code == 200  # 4 failures, never 3 in a row


def test_one_address_trying_many_users_is_locked_out(client: TestClient, world: World,
                                                     other_address: TestClient) -> None:
    for name in ("crew1", "crew2", "tech1", "tech2", "ghost-user"):
        assert login(client, name, "wrong").status_code == 401
    r = login(client, "dispatcher1")
    assert (r.status_code, r.json()["code"]) == (429, "AUTH_RATE_LIMITED")
    assert login(other_address, "dispatcher1").status_code == 200


def test_each_lock_out_lasts_twice_as_long(app: FastAPI, client: TestClient,
                                           world: World) -> None:
    settings: Settings = app.state.settings
    settings.login_lockout_s = 1  # (the app reads its settings object on each request)
    settings.login_address_max_failures = 100
    for _ in range(3):
        login(client, "crew1", "wrong")
    first = login(client, "crew1")
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    time.sleep(1.1)
    assert login(client, "crew1", "wrong").status_code == 401  # the lock is over...
    for _ in range(2):
        login(client, "crew1", "wrong")
    second = login(client, "crew1")  # ...and the next one is longer
    assert second.status_code == 429 and second.headers["Retry-After"] == "2"
    rows = {r["key"]: r for r in table_rows(app.state.db, "rate_limit")}
    assert rows["login:user:crew1"]["lockouts"] == 2


def token_for(world: World, name: str) -> str:
    tok, _ = make_token(secret=SECRET, sub=world.user(name).id, kind="access",
                        ttl=timedelta(minutes=5))
    return tok


def test_each_device_has_a_budget_of_pulls(client: TestClient, world: World) -> None:
    def pull(name: str, device: str | None, lang: str = "en") -> Any:
        headers = {"Authorization": f"Bearer {token_for(world, name)}",
                   "Accept-Language": lang}
        if device:
            headers["X-Device-ID"] = device
        return client.get(PULL, params={"limit": 5}, headers=headers)

    for _ in range(3):
        assert pull("crew1", "phone-a").status_code == 200
    r = pull("crew1", "phone-a")
    assert r.status_code == 429, r.text
    assert r.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["details"] == {"retry_after": int(r.headers["Retry-After"]), "limit": 3,
                                   "window_s": 60}
    assert "请求过于频繁" in pull("crew1", "phone-a", lang="zh").json()["message"]
    # another device of the same user, and another user, have budgets of their own
    assert pull("crew1", "phone-b").status_code == 200
    assert pull("crew2", "phone-a").status_code == 200
    # a bad device id is refused as such, and an anonymous caller is told to sign in
    r = pull("crew1", "bad id!")
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert client.get(PULL).status_code == 401


def test_each_device_has_a_budget_of_pushes(client: TestClient, world: World) -> None:
    headers = {"Authorization": f"Bearer {token_for(world, 'crew1')}", "X-Device-ID": "ph-1"}
    body = {"protocol": 1, "device_id": "device-0001", "sent_at": utcnow().isoformat(),
            "ops": []}
    assert [client.post(PUSH, json=body, headers=headers).status_code
            for _ in range(3)] == [200, 200, 429]


def test_a_token_issued_to_a_device_spends_that_devices_budget(client: TestClient,
                                                               world: World) -> None:
    """The sign-in's device is in the token: a new X-Device-ID header on every request
    does not make a new budget."""
    tok, _ = make_token(secret=SECRET, sub=world.user("crew1").id, kind="access",
                        ttl=timedelta(minutes=5), extra={"dev": "phone-signed-in"})
    codes = [client.get(PULL, params={"limit": 5}, headers={
        "Authorization": f"Bearer {tok}", "X-Device-ID": f"made-up-{i}"}).status_code
        for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_old_counters_are_swept(app: FastAPI, client: TestClient, world: World) -> None:
    db: Database = app.state.db
    settings: Settings = app.state.settings
    login(client, "crew1", "wrong")
    assert len(table_rows(db, "rate_limit")) == 2  # the user name and the address
    assert sweep(db, settings=settings) == 0  # still in their window
    later = time.time() + settings.login_failure_window_s + settings.login_lockout_max_s + 1
    assert sweep(db, settings=settings, now=later) == 2
    assert table_rows(db, "rate_limit") == []


def test_rate_limits_can_be_switched_off(app: FastAPI, client: TestClient,
                                         world: World) -> None:
    app.state.settings.rate_limits = False
    for _ in range(6):
        assert login(client, "crew1", "wrong").status_code == 401
    assert login(client, "crew1").status_code == 200
    assert table_rows(app.state.db, "rate_limit") == []
