"""The app starts on a fresh SQLite file and answers health and auth."""

from __future__ import annotations

from tests.factories import PASSWORD


def test_health_reports_database(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "database": "sqlite", "version": "1"}


def test_login_and_me(client, world):
    r = client.post("/api/v1/auth/token", data={"username": "crew1", "password": PASSWORD})
    assert r.status_code == 200, r.text
    tok = r.json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert me.status_code == 200
    assert me.json()["role"] == "crew"
    assert me.json()["station_id"] == world.stations["s1"].id
