"""Sign-in over HTTP: password login, /me, refresh-token rotation with reuse detection,
logout, expired / tampered / wrong-kind tokens, disabled users, argon2 password hashes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import text

from server.auth.security import make_token
from shared.ids import new_id
from tests.conftest import SECRET, table_rows
from tests.factories import PASSWORD

TOKEN, REFRESH, LOGOUT, ME = ("/api/v1/auth/token", "/api/v1/auth/refresh",
                              "/api/v1/auth/logout", "/api/v1/me")


def login(client: Any, username: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(TOKEN, data={"username": username, "password": password, **extra},
                       headers={"Accept-Language": "en"})


def tokens(client: Any, username: str) -> dict[str, Any]:
    r = login(client, username)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def me(client: Any, access: str, lang: str = "en") -> Any:
    return client.get(ME, headers={"Authorization": f"Bearer {access}",
                                   "Accept-Language": lang})


def refresh(client: Any, refresh_token: str) -> Any:
    return client.post(REFRESH, json={"refresh_token": refresh_token},
                       headers={"Accept-Language": "en"})


def error(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code and set(body) == {"code", "message", "details"}, body
    return body  # type: ignore[no-any-return]


def set_active(db: Any, username: str, active: bool) -> None:
    with db.writer.begin() as conn:
        conn.execute(text('UPDATE "user" SET active = :a WHERE username = :u'),
                     {"a": active, "u": username})


def test_password_login_and_me(client, world):
    r = login(client, "crew1", device_id="phone-7")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "crew"
    assert body["user_id"] == world.user("crew1").id
    assert body["expires_in"] == 15 * 60
    assert body["access_token"] != body["refresh_token"]
    who = me(client, body["access_token"])
    assert who.status_code == 200, who.text
    assert who.json() == {"id": world.user("crew1").id, "username": "crew1", "role": "crew",
                          "display_name": "Crew1", "station_id": world.stations["s1"].id,
                          "account_ids": []}
    (row,) = table_rows(client.app.state.db, "refresh_token", user_id=world.user("crew1").id)
    assert row["device_id"] == "phone-7" and row["used_at"] is None

    customer = tokens(client, "customer1")
    assert me(client, customer["access_token"]).json()["account_ids"] == [
        world.accounts["acc1"].id]


def test_wrong_password_and_unknown_user_look_the_same(client, world):
    wrong = error(login(client, "crew1", "not-the-password"), 401, "AUTH_INVALID_CREDENTIALS")
    unknown = error(login(client, "nobody-here"), 401, "AUTH_INVALID_CREDENTIALS")
    assert wrong == unknown
    assert wrong["message"] == "Wrong user name or password."
    zh = client.post(TOKEN, data={"username": "crew1", "password": "x"})
    assert error(zh, 401, "AUTH_INVALID_CREDENTIALS")["message"] == "用户名或密码错误。"
    error(login(client, "CREW1"), 401, "AUTH_INVALID_CREDENTIALS")  # user names are exact
    error(client.post(TOKEN, data={"username": "crew1"}), 422, "VALIDATION_ERROR")
    assert table_rows(client.app.state.db, "refresh_token") == []


def test_refresh_rotates_and_reuse_revokes_the_whole_login(client, world):
    db = client.app.state.db
    first = tokens(client, "dispatcher1")
    other_device = tokens(client, "dispatcher1")  # a second login: its own family

    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert me(client, second["access_token"]).json()["username"] == "dispatcher1"
    third = refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    third = third.json()

    # the first refresh token was used already: someone replays it
    body = error(refresh(client, first["refresh_token"]), 401, "AUTH_REFRESH_REUSED")
    assert body["message"] == ("This refresh token was already used; sign in again for "
                               "your safety.")
    # the whole login is signed out, including the newest refresh token
    error(refresh(client, third["refresh_token"]), 401, "AUTH_TOKEN_INVALID")
    error(refresh(client, second["refresh_token"]), 401, "AUTH_TOKEN_INVALID")
    family = jwt.decode(first["refresh_token"], SECRET, algorithms=["HS256"],
                        issuer="gridone")["fam"]
    rows = table_rows(db, "refresh_token", family_id=family)
    assert len(rows) == 3 and all(r["revoked_at"] is not None for r in rows)
    # the other device's login is untouched
    assert refresh(client, other_device["refresh_token"]).status_code == 200


def test_logout_revokes_the_refresh_token(client, world):
    pair = tokens(client, "agent1")
    other = tokens(client, "agent1")
    r = client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204, r.text
    error(refresh(client, pair["refresh_token"]), 401, "AUTH_TOKEN_INVALID")
    assert refresh(client, other["refresh_token"]).status_code == 200
    # logging out with something that is not a refresh token is refused
    error(client.post(LOGOUT, json={"refresh_token": pair["access_token"]},
                      headers={"Accept-Language": "en"}), 401, "AUTH_TOKEN_INVALID")


def test_expired_access_token(client, world):
    token, _ = make_token(secret=SECRET, sub=world.user("crew1").id, kind="access",
                          ttl=timedelta(seconds=-5))
    r = me(client, token)
    body = error(r, 401, "AUTH_TOKEN_EXPIRED")
    assert body["message"] == "Your session has expired; sign in again."
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert error(me(client, token, lang="zh"), 401, "AUTH_TOKEN_EXPIRED")["message"] == (
        "登录已过期，请重新登录。")
    expired_refresh, _ = make_token(secret=SECRET, sub=world.user("crew1").id,
                                    kind="refresh", ttl=timedelta(seconds=-5),
                                    family=new_id())
    error(refresh(client, expired_refresh), 401, "AUTH_TOKEN_EXPIRED")


def test_tampered_forged_and_malformed_tokens(client, world):
    good = tokens(client, "crew1")["access_token"]
    header, payload, signature = good.split(".")
    # a payload edited to claim another user, keeping the old signature
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = world.user("admin").id
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    other_key = jwt.encode({**claims, "exp": claims["exp"]}, "another-secret-" + "k" * 40,
                           algorithm="HS256")
    unsigned = jwt.encode({**claims}, key=None, algorithm="none")
    for bad in (f"{header}.{forged_payload}.{signature}", f"{header}.{payload}.{flipped}",
                other_key, unsigned, "not-a-token", good + "x"):
        r = me(client, bad)
        error(r, 401, "AUTH_TOKEN_INVALID")
        assert r.headers["WWW-Authenticate"] == "Bearer"
    # a well-signed token for a user that does not exist
    ghost, _ = make_token(secret=SECRET, sub=new_id(), kind="access", ttl=timedelta(minutes=5))
    error(me(client, ghost), 401, "AUTH_TOKEN_INVALID")
    # no token, or another scheme
    error(client.get(ME), 401, "AUTH_REQUIRED")
    error(client.get(ME, headers={"Authorization": f"Basic {good}"}), 401, "AUTH_REQUIRED")


def test_tokens_of_the_wrong_kind_are_refused(client, world):
    pair = tokens(client, "tech1")
    error(me(client, pair["refresh_token"]), 401, "AUTH_TOKEN_INVALID")
    error(refresh(client, pair["access_token"]), 401, "AUTH_TOKEN_INVALID")
    # a refresh token never issued (no row) is refused too
    stray, _ = make_token(secret=SECRET, sub=world.user("tech1").id, kind="refresh",
                          ttl=timedelta(days=1), family=new_id())
    error(refresh(client, stray), 401, "AUTH_TOKEN_INVALID")
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_disabled_user_is_refused_everywhere(client, world):
    db = client.app.state.db
    pair = tokens(client, "crew1b")
    set_active(db, "crew1b", False)
    body = error(login(client, "crew1b"), 401, "AUTH_USER_DISABLED")
    assert body["message"] == "This user account is disabled."
    # a wrong password does not reveal that the account exists but is disabled
    error(login(client, "crew1b", "wrong"), 401, "AUTH_INVALID_CREDENTIALS")
    error(me(client, pair["access_token"]), 401, "AUTH_USER_DISABLED")
    error(refresh(client, pair["refresh_token"]), 401, "AUTH_USER_DISABLED")
    set_active(db, "crew1b", True)
    assert me(client, pair["access_token"]).status_code == 200
    assert refresh(client, pair["refresh_token"]).status_code == 200


def test_passwords_are_stored_as_argon2_hashes(client, world):
    from argon2 import PasswordHasher

    rows = table_rows(client.app.state.db, "user")
    assert len(rows) == len(world.users)
    for row in rows:
        assert row["password_hash"].startswith("$argon2id$"), row["password_hash"]
        assert PASSWORD not in row["password_hash"]
    for stored in {row["password_hash"] for row in rows}:  # (the test world shares one)
        assert PasswordHasher().verify(stored, PASSWORD)


def test_a_hash_made_with_older_parameters_is_redone_at_the_next_sign_in(client, world):
    """Hashes made before the parameters changed (argon2-cffi's heavier default) keep
    working; a good sign-in stores a hash with today's parameters, a bad one changes
    nothing."""
    from argon2 import PasswordHasher
    from argon2.profiles import RFC_9106_LOW_MEMORY

    old = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).hash(PASSWORD)
    db = client.app.state.db
    with db.writer.begin() as conn:
        conn.execute(text('UPDATE "user" SET password_hash = :h WHERE username = :u'),
                     {"h": old, "u": "crew1"})
    error(login(client, "crew1", "wrong-pass-123"), 401, "AUTH_INVALID_CREDENTIALS")
    assert table_rows(db, "user", username="crew1")[0]["password_hash"] == old
    tokens(client, "crew1")
    stored = table_rows(db, "user", username="crew1")[0]["password_hash"]
    assert stored != old and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), stored
    tokens(client, "crew1")  # the new hash signs in, and is kept
    assert table_rows(db, "user", username="crew1")[0]["password_hash"] == stored


def test_refresh_answer_lost_on_the_way_may_be_asked_again(client, world):
    """A phone whose refresh answer was lost sends the same refresh token again: it gets a
    fresh pair (the lost one is retired) instead of being signed out."""
    first = tokens(client, "crew1")
    lost = refresh(client, first["refresh_token"])
    assert lost.status_code == 200, lost.text
    again = refresh(client, first["refresh_token"])
    assert again.status_code == 200, again.text
    error(refresh(client, lost.json()["refresh_token"]), 401, "AUTH_TOKEN_INVALID")
    assert refresh(client, again.json()["refresh_token"]).status_code == 200
    # once the chain has moved on, the old token is a replay: the login is revoked
    error(refresh(client, first["refresh_token"]), 401, "AUTH_REFRESH_REUSED")
