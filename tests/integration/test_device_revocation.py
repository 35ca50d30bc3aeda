"""Revocation bites at once (issue 8, item 16).

* A login revoked because a used refresh token came back (``AUTH_REFRESH_REUSED``), or
  signed out, takes its access tokens with it on their next request (they used to work
  for up to 15 minutes).
* A lost or stolen phone: the office lists the user's devices and revokes one; every
  token of that device dies on its next request (``AUTH_DEVICE_REVOKED``), it cannot
  sign in again, and what it still pushes is kept for the office, never applied.
"""

from __future__ import annotations

from typing import Any

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.factories import PASSWORD

AUTH = "/api/v1/auth"


def login(client: Any, username: str, device: str | None = None) -> dict[str, Any]:
    data = {"username": username, "password": PASSWORD}
    if device:
        data["device_id"] = device
    r = client.post(f"{AUTH}/token", data=data, headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def refresh(client: Any, token: str) -> Any:
    return client.post(f"{AUTH}/refresh", json={"refresh_token": token},
                       headers={"Accept-Language": "en"})


def me(client: Any, access: str, lang: str = "en") -> Any:
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}",
                                             "Accept-Language": lang})


def test_a_login_revoked_for_a_reused_refresh_token_loses_its_access_at_once(client, world):
    first = login(client, "crew1", "phone-crew1-0001")
    second = refresh(client, first["refresh_token"]).json()
    third = refresh(client, second["refresh_token"]).json()  # the chain moved on
    assert me(client, third["access_token"]).status_code == 200
    replay = refresh(client, first["refresh_token"])  # a stolen copy comes back
    assert (replay.status_code, replay.json()["code"]) == (401, "AUTH_REFRESH_REUSED")
    for pair in (first, second, third):  # none of the login's access tokens works now
        r = me(client, pair["access_token"])
        assert (r.status_code, r.json()["code"]) == (401, "AUTH_SESSION_REVOKED"), r.text
    assert "sign in again" in me(client, third["access_token"]).json()["message"]
    assert me(client, login(client, "crew1", "phone-crew1-0001")["access_token"]
              ).status_code == 200  # signing in again works


def test_signing_out_ends_the_logins_access_token_too(client, world):
    pair, other = login(client, "crew1"), login(client, "crew1")
    r = client.post(f"{AUTH}/logout", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204
    assert me(client, pair["access_token"]).json()["code"] == "AUTH_SESSION_REVOKED"
    assert me(client, other["access_token"]).status_code == 200  # another login lives on


def _job(db: Any, world: Any) -> str:
    oid = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    return oid


def _push(client: Any, access: str, device: str, ops: list[dict[str, Any]]) -> Any:
    return client.post("/api/v1/sync/push", json={
        "protocol": PROTOCOL_VERSION, "device_id": device, "sent_at": utcnow().isoformat(),
        "ops": ops}, headers={"Authorization": f"Bearer {access}", "Accept-Language": "en",
                              "User-Agent": "GridOne-device/1 (test phone)"})


def _op(device: str, seq: int, oid: str, type_: str, payload: dict[str, Any]
        ) -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"work_order:{oid}", "type": type_, "entity_id": oid,
            "payload": payload, "created_at": utcnow().isoformat()}


def test_a_revoked_device_loses_every_token_and_its_pushes_are_held(client, world, db,
                                                                    as_user):
    lost, kept = "phone-crew1-lost", "phone-crew1-kept"
    on_lost, on_kept = login(client, "crew1", lost), login(client, "crew1", kept)
    oid = _job(db, world)
    r = _push(client, on_lost["access_token"], lost,
              [_op(lost, 1, oid, "work_order.add_note@1", {"text": "on my way"})])
    assert r.json()["results"][0]["status"] == "applied", r.text
    crew1 = world.user("crew1").id
    url = f"/api/v1/users/{crew1}/devices"

    devices = {d["id"]: d for d in as_user("manager1").get(url).json()}
    assert set(devices) == {lost, kept}
    assert (devices[lost]["applied_ops"], devices[lost]["active_logins"],
            devices[lost]["app"], devices[lost]["protocol"], devices[lost]["last_push_ops"],
            devices[lost]["revoked_at"]) == (1, 1, "GridOne-device/1 (test phone)", 1, 1, None)

    r = as_user("manager1").post(f"{url}/{lost}/revoke",
                                 json={"reason": "phone stolen\u202e in the market"})
    assert r.status_code == 200, r.text
    assert (r.json()["revoked_by"], r.json()["revoke_reason"], r.json()["active_logins"]) == (
        world.user("manager1").id, "phone stolen in the market", 0)
    (audit,) = table_rows(db, "audit_log", action="device.revoke")
    assert (audit["entity_id"], audit["reason"]) == (lost, "phone stolen in the market")

    # every token of the lost phone dies on its next request, in the user's language
    r = me(client, on_lost["access_token"], "zh")
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED")
    assert "设备" in r.json()["message"]
    r = refresh(client, on_lost["refresh_token"])
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED")
    r = client.post(f"{AUTH}/token", data={"username": "crew1", "password": PASSWORD,
                                           "device_id": lost})
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED")
    assert me(client, on_kept["access_token"]).status_code == 200  # the other phone

    # what it still pushes is kept for the office, never applied
    before = table_rows(db, "work_order", id=oid)
    ops = [_op(lost, 2, oid, "work_order.accept@1", {}),
           _op(lost, 3, oid, "work_order.add_note@1", {"text": "selling this phone"})]
    for _ in range(2):  # sent again: held once
        r = _push(client, on_lost["access_token"], lost, ops)
        assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED"), r.text
    assert table_rows(db, "work_order", id=oid) == before
    held = as_user("manager1").get(f"{url}/{lost}/held-ops").json()
    assert [(h["op_id"], h["type"], h["entity_id"], h["payload"]) for h in held] == [
        (o["op_id"], o["type"], oid, o["payload"]) for o in ops]
    assert table_rows(db, "applied_op", op_id=ops[0]["op_id"]) == []
    devices = {d["id"]: d for d in as_user("admin").get(url).json()}
    assert (devices[lost]["held_ops"], devices[kept]["revoked_at"]) == (2, None)
    # a token without a device naming the revoked phone in its push: held too
    r = _push(client, login(client, "crew1")["access_token"], lost,
              [_op(lost, 4, oid, "work_order.accept@1", {})])
    assert (r.status_code, r.json()["code"]) == (401, "AUTH_DEVICE_REVOKED")
    assert len(as_user("admin").get(f"{url}/{lost}/held-ops").json()) == 3

    # revoking again changes nothing
    again = as_user("admin").post(f"{url}/{lost}/revoke", json={"reason": "again"})
    assert (again.status_code, again.json()["revoked_by"]) == (200, world.user("manager1").id)


def test_who_may_see_and_revoke_devices(client, world, db, as_user):
    login(client, "crew1", "phone-crew1-0042")
    crew1 = world.user("crew1").id
    url = f"/api/v1/users/{crew1}/devices"
    before = db_snapshot(db)
    for who, status, code in [("crew1b", 403, "FORBIDDEN"), ("crew1", 403, "FORBIDDEN"),
                              ("agent1", 403, "FORBIDDEN"), ("customer1", 403, "FORBIDDEN"),
                              ("dispatcher2", 404, "USER_NOT_FOUND"), (None, 401, None)]:
        for method, path, body in (("GET", url, None),
                                   ("POST", f"{url}/phone-crew1-0042/revoke", {"reason": "x"}),
                                   ("GET", f"{url}/phone-crew1-0042/held-ops", None)):
            api = as_user(who)
            r = api.get(path) if method == "GET" else api.post(path, json=body)
            assert r.status_code == status, (who, path, r.text)
            if code:
                assert r.json()["code"] == code
    assert db_snapshot(db) == before
    admin_id = world.user("admin").id
    r = as_user("manager1").get(f"/api/v1/users/{admin_id}/devices")
    assert (r.status_code, r.json()["code"]) == (404, "USER_NOT_FOUND")
    r = as_user("dispatcher1").post(f"{url}/no-such-phone/revoke", json={"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (404, "DEVICE_NOT_FOUND")
    assert [d["id"] for d in as_user("dispatcher1").get(url).json()] == ["phone-crew1-0042"]
