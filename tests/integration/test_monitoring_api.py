"""The office's monitoring API on the fixed data set: who may see what (a station's staff
their station, another station's area a 404, field roles and customers 403), the figures
the screens show, the CSV and XLSX exports of each table, settings and runs."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from server.monitoring.service import analyse
from tests.conftest import db_snapshot, table_rows
from tests.integration.monitoring_kit import add_monitoring, fixed_days, fixed_rows, ingest

SCREENS = ["/api/v1/monitoring/overview", "/api/v1/monitoring/areas",
           "/api/v1/monitoring/collection/heatmap", "/api/v1/monitoring/collection/failing",
           "/api/v1/monitoring/anomalies", "/api/v1/monitoring/policy",
           "/api/v1/monitoring/loss-norms", "/api/v1/monitoring/export/areas"]
AREA_SCREENS = ["", "/load", "/loss"]


def put(api, url, **kw):
    return api.client.put(url, headers=api.headers, **kw)


@pytest.fixture
def mon(db, world):
    add_monitoring(db, world)
    ingest(db, fixed_rows())
    analyse(db)
    return db, world


def test_roles(mon, as_user):
    _, world = mon
    town = world.areas["town"].id
    urls = SCREENS + [f"/api/v1/monitoring/areas/{town}{s}" for s in AREA_SCREENS]
    for url in urls:
        for name in ("admin", "dispatcher1", "manager1"):
            r = as_user(name).get(url)
            assert r.status_code == 200, (name, url, r.text)
        for name in ("crew1", "tech1", "agent1", "customer1"):
            r = as_user(name).get(url)
            assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN"), (name, url)
        assert as_user(None).get(url).status_code == 401


def test_a_station_sees_its_station_only(mon, as_user):
    _, world = mon
    remote = world.areas["remote"].id
    manager = as_user("manager1")
    areas = manager.get("/api/v1/monitoring/areas").json()["table"]["rows"]
    assert sorted(a["area_code"] for a in areas) == ["TA-rural", "TA-town"]
    stations = manager.get("/api/v1/monitoring/overview").json()["stations"]["rows"]
    assert [s["station_code"] for s in stations] == ["ST01"]
    for s in AREA_SCREENS:
        r = manager.get(f"/api/v1/monitoring/areas/{remote}{s}")
        assert (r.status_code, r.json()["code"]) == (404, "AREA_NOT_FOUND"), s
    r = manager.get("/api/v1/monitoring/areas",
                    params={"station_id": world.stations["s2"].id})
    assert (r.status_code, r.json()["code"]) == (404, "STATION_NOT_FOUND")
    r = manager.get("/api/v1/monitoring/export/meters", params={"area_id": remote})
    assert r.status_code == 404
    # the other station's dispatcher sees the remote area and none of station 1's anomalies
    other = as_user("dispatcher2")
    assert [a["area_code"] for a in other.get("/api/v1/monitoring/areas").json()[
        "table"]["rows"]] == ["TA-remote"]
    s1_anomalies = as_user("admin").get("/api/v1/monitoring/anomalies").json()["table"]["rows"]
    assert s1_anomalies and all(a["station_id"] == world.stations["s1"].id
                                for a in s1_anomalies)
    assert other.get("/api/v1/monitoring/anomalies").json()["total"] == 0
    r = other.get(f"/api/v1/monitoring/anomalies/{s1_anomalies[0]['id']}")
    assert (r.status_code, r.json()["code"]) == (404, "ANOMALY_NOT_FOUND")


def test_screens_show_the_hand_computed_figures(mon, as_user):
    _, world = mon
    d0, d1, d2 = fixed_days()
    admin = as_user("admin")
    town, rural = world.areas["town"].id, world.areas["rural"].id

    ov = admin.get("/api/v1/monitoring/overview", params={"day": d1.isoformat()}).json()
    assert ov["county"]["meters_due"] == 5 and ov["county"]["meters_read"] == 3
    assert ov["county"]["collection_rate"] == pytest.approx(0.6)
    assert ov["county"]["collection_flagged"] is True
    s1 = ov["stations"]["rows"][0]
    assert (s1["meters_due"], s1["meters_read"], s1["areas_unreliable"]) == (4, 2, 2)

    detail = admin.get(f"/api/v1/monitoring/areas/{town}",
                       params={"day": d1.isoformat()}).json()
    assert detail["area"]["loss_flag"] == "normal" and detail["area"]["reliable"] is False
    meters = {m["meter_no"]: m for m in detail["meters"]["rows"]}
    assert meters["MTR-T3"]["read"] is False and meters["MTR-T3"]["estimated_intervals"] == 1
    assert meters["MTR-M1-0001"]["day_kwh"] == 48.0
    assert meters["MTR-M1-0001"]["account_no"] == world.accounts["acc1"].account_no

    load = admin.get(f"/api/v1/monitoring/areas/{rural}/load",
                     params={"day": d0.isoformat()}).json()
    assert len(load["points"]) == 96 and load["rated_kva"] == 400
    assert load["points"][76] == {"slot": 76, "time": "19:00", "kw": 380.0,
                                  "kva": pytest.approx(422.222, abs=1e-3),
                                  "load_rate": pytest.approx(1.0556, abs=1e-4),
                                  "estimated": False}
    assert load["overload_runs"] == [{"start": "19:00", "minutes": 150}]
    assert load["heavy_runs"] == [{"start": "18:00", "minutes": 210}]

    trend = admin.get(f"/api/v1/monitoring/areas/{town}/loss",
                      params={"from": d0.isoformat(), "to": d2.isoformat()}).json()
    assert [(r["period"], r["loss_rate"], r["loss_flag"]) for r in trend["rows"]] == [
        (d0.isoformat(), 0.04, "normal"), (d1.isoformat(), 0.0, "normal"),
        (d2.isoformat(), 0.16, "high")]
    assert {(r["norm_low"], r["norm_high"]) for r in trend["rows"]} == {(0.0, 0.1)}
    month = admin.get(f"/api/v1/monitoring/areas/{town}/loss",
                      params={"from": d0.isoformat(), "to": d2.isoformat(),
                              "by": "month"}).json()["rows"]
    supply = sum(r["supply_kwh"] for r in month)
    sales = sum(r["sales_kwh"] for r in month)
    assert supply == 360.0 and sales == pytest.approx(115.2 + 120 + 100.8)
    assert sum(r["unreliable_days"] for r in month) == 1

    heat = admin.get("/api/v1/monitoring/collection/heatmap",
                     params={"from": d0.isoformat(), "to": d2.isoformat()}).json()
    row = heat["rates"][[a["code"] for a in heat["areas"]].index("TA-town")]
    assert row == [1.0, pytest.approx(0.6667, abs=1e-4), 1.0] and heat["target"] == 0.98
    r = admin.get("/api/v1/monitoring/collection/heatmap",
                  params={"from": d2.isoformat(), "to": d0.isoformat()})
    assert (r.status_code, r.json()["code"]) == (422, "MONITORING_RANGE_INVALID")
    r = admin.get("/api/v1/monitoring/collection/heatmap",
                  params={"from": (d0 - timedelta(days=200)).isoformat(),
                          "to": d2.isoformat()})
    assert r.json()["code"] == "MONITORING_RANGE_INVALID"

    # on D1 rural's meter sent nothing and T3 an estimate: failing one day in a row, each
    # with the end of its last actual interval
    failing = admin.get("/api/v1/monitoring/collection/failing",
                        params={"day": d1.isoformat(), "days": 1}).json()["table"]["rows"]
    assert [(f["meter_no"], f["failed_days"]) for f in failing] == [
        ("MTR-M2-0001", 1), ("MTR-T3", 1)]
    assert failing[0]["last_data_at"] == f"{d1.isoformat()}T00:00:00+08:00"
    assert failing[1]["last_data_at"] == f"{d2.isoformat()}T00:00:00+08:00"
    assert admin.get("/api/v1/monitoring/collection/failing",
                     params={"day": d1.isoformat()}).json()["table"]["rows"] == []


def test_exports_hold_the_rows_of_the_screen(mon, as_user):
    _, world = mon
    d0 = fixed_days()[0]
    admin = as_user("admin")
    shown = admin.get("/api/v1/monitoring/areas", params={"day": d0.isoformat()}).json()
    r = as_user("admin", lang="zh").get("/api/v1/monitoring/export/areas",
                                        params={"day": d0.isoformat()})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="areas.csv"' in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][:3] == ["台区编号", "台区", "供电所"]
    assert [line[0] for line in lines[1:]] == [a["area_code"] for a in shown["table"]["rows"]]
    en = admin.get("/api/v1/monitoring/export/areas",
                   params={"day": d0.isoformat(), "format": "xlsx"})
    assert en.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(en.content)).active
    values = list(sheet.values)
    assert values[0][:3] == ("Area code", "Area", "Station")
    keys = [c["key"] for c in shown["table"]["columns"]]
    for row, want in zip(values[1:], shown["table"]["rows"], strict=True):
        got = dict(zip(keys, row, strict=True))
        assert got["loss_rate"] == want["loss_rate"] and got["area_code"] == want["area_code"]
    for table, params in (("stations", {}), ("meters", {"area_id": world.areas["town"].id}),
                          ("loss", {"area_id": world.areas["town"].id}), ("heatmap", {}),
                          ("failing", {}), ("anomalies", {})):
        for fmt in ("csv", "xlsx"):
            r = admin.get(f"/api/v1/monitoring/export/{table}", params={**params,
                                                                          "format": fmt})
            assert r.status_code == 200 and len(r.content) > 20, (table, fmt, r.text[:200])
    r = admin.get("/api/v1/monitoring/export/meters")
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert admin.get("/api/v1/monitoring/export/secrets").status_code == 422


def test_settings_are_for_admins_audited_and_checked(mon, as_user, db):
    admin, manager = as_user("admin"), as_user("manager1")
    r = put(manager, "/api/v1/monitoring/policy", json={"failing_days": 2})
    assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN")
    snapshot = db_snapshot(db)
    for bad in ({"failing_days": 0}, {"heavy_rate": 1.2}, {"collection_target": "high"},
                {"failing_days": 2.5}, {"auto_dispatch": "yes"}):
        r = put(admin, "/api/v1/monitoring/policy", json=bad)
        assert r.status_code == 422 and r.json()["code"] in (
            "MONITORING_POLICY_INVALID", "VALIDATION_ERROR"), bad
    r = put(admin, "/api/v1/monitoring/loss-norms/town",
                  json={"low": 0.05, "high": 0.02, "jump": 0.05})
    assert (r.status_code, r.json()["code"]) == (422, "MONITORING_POLICY_INVALID")
    assert db_snapshot(db) == snapshot
    r = put(admin, "/api/v1/monitoring/policy", json={"failing_days": 2,
                                                     "auto_dispatch": False})
    assert r.status_code == 200 and r.json()["failing_days"] == 2
    assert r.json()["version"] == 2
    r = put(admin, "/api/v1/monitoring/loss-norms/town",
                  json={"low": 0.0, "high": 0.07, "jump": 0.04})
    assert r.json() == {"area_class": "town", "low": 0.0, "high": 0.07, "jump": 0.04}
    assert {a["action"] for a in table_rows(db, "audit_log")} >= {
        "monitoring.policy", "monitoring.loss_norm"}


def test_master_meters_and_runs(mon, as_user, db):
    _, world = mon
    admin = as_user("admin")
    remote = world.areas["remote"].id
    r = put(admin, f"/api/v1/monitoring/areas/{remote}/master-meter",
                  json={"meter_no": "MTR-M1-0001"})
    assert (r.status_code, r.json()["code"]) == (422, "SUPPLY_METER_INVALID")
    r = put(admin, f"/api/v1/monitoring/areas/{remote}/master-meter",
                  json={"meter_no": "SUP-REMOTE", "power_factor": 1.5})
    assert r.json()["code"] == "SUPPLY_METER_INVALID"
    r = put(admin, f"/api/v1/monitoring/areas/{remote}/master-meter",
                  json={"meter_no": "SUP-REMOTE", "power_factor": 0.92})
    assert r.status_code == 200 and r.json()["power_factor"] == 0.92
    assert as_user("manager1").post("/api/v1/monitoring/runs", json={}).status_code == 403
    d0 = fixed_days()[0]
    r = admin.post("/api/v1/monitoring/runs", json={"days": [d0.isoformat()]})
    assert r.status_code == 200 and r.json()["days"][0]["day"] == d0.isoformat()
