"""The interval import: every bad row rejected on its own with a stable code while the good
ones are stored; re-importing is a no-op; late actual data replaces estimates (never the
other way round); corrections of actual values are audited; a broken file changes
nothing. Through the service, the JSON and CSV endpoints and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from server.cli import app as cli
from tests.conftest import db_snapshot
from tests.integration.monitoring_kit import (
    fixed_days,
    ingest,
    monitored_db,
    q,
    rows,
    stamp,
    today,
)


def test_each_bad_row_is_rejected_with_its_code_and_the_rest_is_stored(tmp_path, template_db):
    with monitored_db("sqlite", tmp_path, template_db) as (db, _):
        d0 = fixed_days()[0]
        good = rows("MTR-M1-0001", d0, "0.500", slots=range(4))
        bad = [
            ["NO-SUCH-METER", stamp(d0, 0), "0.1", "actual"],  # 5
            ["MTR-M1-0001", stamp(d0, 0)[:-6] + ":30+08:00", "0.1", ""],  # 6: odd second
            ["MTR-M1-0001", stamp(d0, 0).replace("T00:00", "T00:07"), "0.1", ""],  # 7
            ["MTR-M1-0001", "yesterday", "0.1", ""],  # 8
            ["MTR-M1-0001", stamp(today() + timedelta(days=1), 0), "0.1", ""],  # 9
            ["MTR-M1-0001", stamp(d0, 10), "-0.1", ""],  # 10
            ["MTR-M1-0001", stamp(d0, 11), "0.1234", ""],  # 11
            ["MTR-M1-0001", stamp(d0, 12), "lots", ""],  # 12
            ["MTR-M1-0001", stamp(d0, 13), "0.1", "guessed"],  # 13
            ["MTR-M1-0001", stamp(d0, 0), "0.600", "actual"],  # 14: line 1 said 0.500
            ["MTR-M1-0001", stamp(d0, 14), "150.000", ""],  # 15: 600 kW at a home
            ["NEW-STOCK1", stamp(d0, 0), "0.1", ""],  # 16: a meter in stock
            ["", stamp(d0, 0), "0.1", ""],  # 17
            ["MTR-M1-0001", stamp(d0, 1), "0.500", "actual"],  # 18: same as line 2
        ]
        report = ingest(db, good + bad)
        codes = {r.line: r.code for r in report.rejected}
        assert codes == {
            5: "METER_NOT_FOUND", 6: "INTERVAL_FIELD_INVALID", 7: "INTERVAL_FIELD_INVALID",
            8: "INTERVAL_FIELD_INVALID", 9: "READING_IN_FUTURE", 10: "INTERVAL_FIELD_INVALID",
            11: "INTERVAL_FIELD_INVALID", 12: "INTERVAL_FIELD_INVALID",
            13: "INTERVAL_FIELD_INVALID", 14: "INTERVAL_DUPLICATE_IN_FILE",
            15: "INTERVAL_ENERGY_IMPLAUSIBLE", 16: "READING_METER_NOT_INSTALLED",
            17: "INTERVAL_FIELD_INVALID"}
        by_line = {r.line: r for r in report.rejected}
        assert by_line[7].details["problem"] == "not on a 15-minute boundary"
        assert by_line[11].message == "Field energy_kwh is invalid: at most three decimals"
        assert by_line[14].details == {"first": 1}
        assert report.counts == {"imported": 4, "corrected": 0, "duplicate": 1,
                                 "rejected": 13}
        stored = q(db, "SELECT slot, energy_wh, estimated FROM interval_reading "
                       "ORDER BY slot")
        assert [(r["slot"], r["energy_wh"]) for r in stored] == [(s, 500) for s in range(4)]
        assert q(db, "SELECT dirty FROM monitoring_day") == [{"dirty": 1}]


def test_reimport_is_a_no_op_and_estimates_never_replace_actual_data(tmp_path, template_db):
    with monitored_db("sqlite", tmp_path, template_db) as (db, _):
        d0 = fixed_days()[0]
        first = ingest(db, rows("MTR-M1-0001", d0, "0.500", slots=range(8))
                       + rows("MTR-T2", d0, "0.300", source="estimated", slots=range(8)))
        assert first.counts["imported"] == 16
        snapshot = db_snapshot(db)
        again = ingest(db, rows("MTR-M1-0001", d0, "0.500", slots=range(8))
                       + rows("MTR-T2", d0, "0.300", source="estimated", slots=range(8)))
        assert again.counts == {"imported": 0, "corrected": 0, "duplicate": 16, "rejected": 0}
        assert db_snapshot(db) == snapshot  # not even an audit entry

        # back-fill: T2's real values replace the estimates; M1's estimates are refused
        late = ingest(db, rows("MTR-T2", d0, "0.350", slots=range(8))
                      + rows("MTR-M1-0001", d0, "0.400", source="estimated", slots=[0]))
        assert late.counts == {"imported": 0, "corrected": 8, "duplicate": 0, "rejected": 1}
        assert late.rejected[0].code == "INTERVAL_ESTIMATE_OVER_ACTUAL"
        t2 = q(db, "SELECT energy_wh, estimated FROM interval_reading i JOIN metering_point p "
                   "ON p.id = i.point_id WHERE p.meter_no = 'MTR-T2'")
        assert {(r["energy_wh"], r["estimated"]) for r in t2} == {(350, 0)}
        # estimates filled in by the head-end are not audited one by one ...
        assert q(db, "SELECT COUNT(*) AS n FROM audit_log WHERE action = "
                     "'interval_reading.correct'") == [{"n": 0}]
        # ... but a changed actual value is, with before and after
        ingest(db, rows("MTR-M1-0001", d0, "0.450", slots=[3]))
        audit = q(db, "SELECT entity_id, before, after FROM audit_log WHERE action = "
                      "'interval_reading.correct'")
        assert len(audit) == 1 and audit[0]["entity_id"] == f"MTR-M1-0001@{stamp(d0, 3)}"
        assert json.loads(audit[0]["before"])["energy_wh"] == 500
        assert json.loads(audit[0]["after"])["energy_wh"] == 450


def test_csv_endpoint_and_its_refusals(as_user, db, world):
    from server.monitoring.points import register_supply
    from server.uow import UnitOfWork

    with UnitOfWork(db) as uow:
        register_supply(uow, area_id=world.areas["town"].id, meter_no="SUP-TOWN")
        uow.commit()
    d0 = fixed_days()[0]
    body = "meter_no,interval_start,energy_kwh,source\n" + "".join(
        f"{m},{stamp(d0, s)},0.250,actual\n" for m in ("SUP-TOWN", "MTR-M1-0001")
        for s in range(3)) + f"MTR-M1-0001,{stamp(d0, 3)},x,actual\n"
    admin = as_user("admin")
    r = admin.post("/api/v1/monitoring/intervals/import-csv", content=body.encode(),
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["summary"] == {"imported": 6, "corrected": 0, "duplicate": 0, "rejected": 1}
    assert out["rejected"][0]["line"] == 8 and out["days_changed"] == [d0.isoformat()]
    assert out["rejected"][0]["code"] == "INTERVAL_FIELD_INVALID"

    snapshot = db_snapshot(db)
    for content, code in ((b"meter,when\nx,y\n", "READING_CSV_INVALID"),
                          (b"\xff\xfe", "READING_CSV_INVALID")):
        r = admin.post("/api/v1/monitoring/intervals/import-csv", content=content,
                       headers={"Content-Type": "text/csv"})
        assert (r.status_code, r.json()["code"]) == (422, code)
    r = admin.post("/api/v1/monitoring/intervals/import", json={"rows": []})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    for name in ("manager1", "dispatcher1", "crew1", "customer1"):
        r = as_user(name).post("/api/v1/monitoring/intervals/import", json={"rows": [
            {"meter_no": "MTR-M1-0001", "interval_start": stamp(d0, 9), "energy_kwh": "1"}]})
        assert (r.status_code, r.json()["code"]) == (403, "FORBIDDEN"), name
    assert as_user(None).post("/api/v1/monitoring/intervals/import",
                              json={"rows": []}).status_code == 401
    assert db_snapshot(db) == snapshot


def test_cli_imports_a_gzip_file_and_reports_rejections(tmp_path, monkeypatch, template_db):
    import gzip
    import shutil

    for var in ("GRIDONE_DATABASE_URL", "GRIDONE_DATA_DIR", "GRIDONE_ENV"):
        monkeypatch.delenv(var, raising=False)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with monitored_db("sqlite", tmp_path, template_db):
        pass  # leaves the prepared database file behind
    shutil.copy(tmp_path / "mon.db", data_dir / "gridone.db")
    d0 = fixed_days()[0]
    path = tmp_path / "ami.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("meter_no,interval_start,energy_kwh,source\n")
        for s in range(96):
            f.write(f"MTR-M1-0001,{stamp(d0, s)},0.100,actual\n")
        f.write(f"MTR-M1-0001,{stamp(d0, 0)},0.2,actual\n")
    result = CliRunner().invoke(cli, ["ami", "ingest", str(path), "--data-dir", str(data_dir),
                                      "--lang", "en"])
    assert result.exit_code == 1, result.output
    assert "imported 96" in result.output and "rejected 1" in result.output
    assert "INTERVAL_DUPLICATE_IN_FILE" in result.output
    result = CliRunner().invoke(cli, ["ami", "ingest", str(path), "--data-dir", str(data_dir)])
    assert "imported 0" in result.output and "duplicate 96" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("no,header\n1,2\n")
    result = CliRunner().invoke(cli, ["ami", "ingest", str(bad), "--data-dir", str(data_dir)])
    assert result.exit_code == 2


@pytest.mark.postgres
def test_postgres_copy_path_and_reimport(tmp_path):
    """On PostgreSQL new rows go in with COPY; re-importing finds them all."""
    with monitored_db("postgres", tmp_path) as (db, _):
        d0 = fixed_days()[0]
        data = [r for m in ("MTR-M1-0001", "MTR-T2", "SUP-TOWN")
                for r in rows(m, d0, "0.125")]
        assert ingest(db, data).counts["imported"] == 288
        assert ingest(db, data).counts["duplicate"] == 288
        assert q(db, "SELECT COUNT(*) AS n, SUM(energy_wh) AS wh FROM interval_reading") == \
            [{"n": 288, "wh": 288 * 125}]
