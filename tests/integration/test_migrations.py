"""Migrations: ``gridone migrate`` upgrades a database that already holds data without
losing any, running it again changes nothing, and the models match the migrations
exactly (alembic's autogenerate comparison finds no difference, on SQLite and on
PostgreSQL)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

import server.tables  # noqa: F401  (every model in the metadata)
from server.audit.chain import COUNTER, GENESIS, entry_hash, verify
from server.cli import app as cli
from server.db import make_database
from server.migrate import alembic_config, current, upgrade
from server.tables import metadata
from tests.conftest import db_snapshot, pg_url

T0 = "2026-01-05 08:00:00.000000"
ROWS: dict[str, list[dict[str, Any]]] = {
    "station": [{"id": "st-1", "code": "ST01", "name": "城关供电所", "county": "Test",
                 "version": 3}],
    "transformer_area": [{"id": "ta-1", "code": "TA-1", "name": "Area 1", "station_id": "st-1",
                          "rated_kva": 400, "area_class": "town", "version": 1}],
    "user": [{"id": "u-1", "username": "crew9", "password_hash": "$argon2id$x",
              "role": "crew", "display_name": "老王", "phone": None, "station_id": "st-1",
              "active": True, "locale": "zh", "created_at": T0, "version": 1}],
    "account": [{"id": "acc-1", "account_no": "7700000099", "name": "张三", "phone": None,
                 "address": "1 Road", "lat": 27.8, "lon": 112.9,
                 "customer_type": "residential", "station_id": "st-1", "area_id": "ta-1",
                 "owner_user_id": None, "id_card_digest": None, "id_card_masked": None,
                 "property_cert_digest": None, "property_cert_masked": None,
                 "care_flag": True, "care_reason": "oxygen machine at home",
                 "balance_fen": 12345, "created_at": T0, "updated_at": T0, "version": 2}],
    "meter": [{"id": "m-1", "meter_no": "MTR-OLD-1", "model": "DDZY", "status": "installed",
               "account_id": "acc-1", "area_id": "ta-1", "station_id": "st-1",
               "purchase_count": 7, "balance_fen": 12345, "card_no": "1234567890",
               "last_reading_centi": 100000, "last_reading_at": T0, "installed_at": T0,
               "removed_at": None, "updated_at": T0, "version": 1}],
    "photo": [{"sha256": "a" * 64, "status": "expected", "content_type": None, "size": None,
               "width": None, "height": None, "uploaded_by": "u-1", "created_at": T0,
               "completed_at": None}],
    "audit_log": [{"id": 1, "at": T0, "actor_id": "u-1", "actor_role": "crew",
                   "action": "meter.purchase_count", "entity": "meter", "entity_id": "m-1",
                   "before": '{"purchase_count": 6}', "after": '{"purchase_count": 7}',
                   "reason": "card re-issued"}],
}


def revisions() -> list[str]:
    """All revisions, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def insert_rows(url: str) -> None:
    """The rows as a release of that revision wrote them: from 0006_iops on, audit
    entries are written chained (seq, prev_hash, hash) and counted."""
    engine = create_engine(url)
    with engine.begin() as conn:
        # a release whose audit log is already a hash chain writes its entries chained
        chained = "seq" in {c["name"] for c in inspect(conn).get_columns("audit_log")}
        for table, rows in ROWS.items():
            if table == "audit_log" and chained:
                rows = _chained(rows)
                conn.execute(text("UPDATE counter SET value = :v WHERE name = :n"),
                             {"n": COUNTER, "v": len(rows)})
            for row in rows:
                if table == "audit_log" and chained:
                    row = {**row, "seq": 1, "prev_hash": GENESIS}
                    row["hash"] = entry_hash(GENESIS, row)
                    conn.execute(text("DELETE FROM counter WHERE name = :n"), {"n": COUNTER})
                    conn.execute(text("INSERT INTO counter (name, value) VALUES (:n, 1)"),
                                 {"n": COUNTER})
                cols = ", ".join(f'"{c}"' for c in row)
                conn.execute(text(f'INSERT INTO "{table}" ({cols}) VALUES '
                                  f'({", ".join(":" + c for c in row)})'), row)
    engine.dispose()


def _chained(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, prev = [], GENESIS
    for seq, row in enumerate(rows, start=1):
        entry = {**row, "seq": seq}
        digest = entry_hash(prev, entry)
        out.append({**entry, "prev_hash": prev, "hash": digest})
        prev = digest
    return out


def read_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """The seeded rows, by the columns they were written with."""
    engine = create_engine(url)
    out = {}
    with engine.connect() as conn:
        for table, rows in ROWS.items():
            cols = ", ".join(f'"{c}"' for c in rows[0])
            out[table] = [dict(r._mapping) for r in conn.execute(
                text(f'SELECT {cols} FROM "{table}" ORDER BY 1'))]
    engine.dispose()
    return out


def run_migrate(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for var in ("GRIDONE_DATABASE_URL", "GRIDONE_DATA_DIR", "GRIDONE_ENV"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(cli, ["migrate", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def test_there_is_one_line_of_revisions():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert len(script.get_bases()) == 1


@pytest.mark.parametrize("start", ["first", "each"])
def test_gridone_migrate_keeps_existing_data(tmp_path, monkeypatch, start):
    """A database created by an older release, holding data, upgraded by the command."""
    revs = revisions()
    starts = revs[:1] if start == "first" else revs[:-1] or revs[:1]
    for i, rev in enumerate(starts):
        data_dir = tmp_path / f"d{i}"
        data_dir.mkdir()
        url = f"sqlite:///{data_dir / 'gridone.db'}"
        upgrade(url, rev)
        assert current(url) == rev
        insert_rows(url)
        before = read_rows(url)

        out = run_migrate(data_dir, monkeypatch)
        assert current(url) == revs[-1]
        assert f"{rev} -> {revs[-1]}" in out
        assert read_rows(url) == before, f"data changed migrating from {rev}"
        # columns added later got their defaults on the old rows
        engine = create_engine(url)
        with engine.connect() as conn:
            if "received" in {c["name"] for c in inspect(conn).get_columns("photo")}:
                assert conn.execute(text("SELECT received FROM photo")).scalar() == 0
            counter = conn.execute(text(
                "SELECT value FROM counter WHERE name = 'change_seq'")).scalar()
            assert counter == 0
        engine.dispose()

        # the database works with today's code: the audit log is still append-only, and
        # the entries written before it was a hash chain were chained by the migration
        db = make_database(url)
        with db.reader.connect() as conn:
            chain = verify(conn)
        assert chain.ok and chain.entries == len(ROWS["audit_log"]), chain.problems
        with pytest.raises(Exception, match="append-only"), db.writer.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
        snapshot = db_snapshot(db)
        db.dispose()

        # running it again is a no-op
        out = run_migrate(data_dir, monkeypatch)
        assert f"{revs[-1]} -> {revs[-1]}" in out
        db = make_database(url)
        assert db_snapshot(db) == snapshot
        db.dispose()


def test_migrate_creates_a_fresh_database(tmp_path, monkeypatch):
    out = run_migrate(tmp_path, monkeypatch)
    url = f"sqlite:///{(tmp_path / 'gridone.db').resolve()}"
    assert "empty ->" in out
    assert current(url) == revisions()[-1]


def _compare(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def test_models_match_the_migrations_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    assert _compare(url) == [], "models and migrations differ: add a migration"


@pytest.mark.postgres
def test_models_match_the_migrations_on_postgres():
    base = make_url(pg_url())
    admin_url = base.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(admin_url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {base.render_as_string()} "
                    f"(GRIDONE_TEST_PG_URL): {exc}", pytrace=False)
    name = f"gridone_t_{secrets.token_hex(6)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = base.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        insert_rows(url)
        upgrade(url)  # again: a no-op
        assert _compare(url) == [], "models and migrations differ on PostgreSQL"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
