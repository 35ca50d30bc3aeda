"""The tamper-evident audit log (issue 14): every entry carries the hash of the one before;
``gridone check-audit`` walks the chain and finds an entry changed, removed or cut off
behind the application's back. Concurrent writers append one after the other (the chain
never forks), on SQLite and on PostgreSQL."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from server.audit.chain import GENESIS, verify
from server.cli import app as cli
from server.db import Database, make_database
from server.migrate import upgrade
from server.uow import UnitOfWork
from tests import pg
from tests.conftest import table_rows


def write_entries(db: Database, n: int, *, tag: str = "t", per_commit: int = 1) -> None:
    for i in range(0, n, per_commit):
        with UnitOfWork(db) as uow:
            for j in range(per_commit):
                uow.audit(action="test.change", entity="meter", entity_id=f"{tag}-{i + j}",
                          before={"purchase_count": i + j, "note": "旧"},
                          after={"purchase_count": i + j + 1, "amount": 12.5},
                          reason="卡片补发")
            uow.commit()


def check(db: Database) -> tuple[int, str]:
    """Run ``gridone check-audit`` on the database; (exit code, output)."""
    result = CliRunner().invoke(cli, ["check-audit"], env={"GRIDONE_DATABASE_URL": db.url})
    return result.exit_code, result.output


def tamper(db: Database, sql: str) -> None:
    """Change the audit log as someone with database access would: around the triggers."""
    with db.writer.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text(sql))


@contextmanager
def at_revision(kind: str, tmp_path: Path, revision: str) -> Iterator[str]:
    if kind == "postgres":
        with pg.fresh_database() as url:
            upgrade(url, revision)
            yield url
    else:
        url = f"sqlite:///{tmp_path / f'audit-{revision}.db'}"
        upgrade(url, revision)
        yield url


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[Database]:
    with at_revision(kind, tmp_path, "head") as url:
        db = make_database(url)
        try:
            yield db
        finally:
            db.dispose()


KINDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("kind", KINDS)
def test_entries_are_chained_and_the_check_passes(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as db:
        write_entries(db, 5)
        write_entries(db, 6, tag="batch", per_commit=3)
        rows = sorted(table_rows(db, "audit_log"), key=lambda r: r["seq"])
        assert [r["seq"] for r in rows] == list(range(1, 12))
        assert rows[0]["prev_hash"] == GENESIS
        assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(rows))
        code, out = check(db)
        assert code == 0, out
        assert f"11 entries, head 11 {rows[-1]['hash']}: OK" in out


@pytest.mark.parametrize(("kind", "sql", "found"), [
    pytest.param("sqlite", "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 3",
                 "entry 3 (id 3): content does not match its hash", id="sqlite-edit"),
    pytest.param("sqlite", "UPDATE audit_log SET after = '{\"purchase_count\": 99}' "
                 "WHERE seq = 2", "entry 2 (id 2): content does not match", id="sqlite-amount"),
    pytest.param("sqlite", "DELETE FROM audit_log WHERE seq = 4", "entries 4..4 are missing",
                 id="sqlite-delete"),
    pytest.param("sqlite", "DELETE FROM audit_log WHERE seq >= 5",
                 "entries 5..6 are missing from the end", id="sqlite-truncate"),
    pytest.param("postgres", "UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 6",
                 "entry 6", id="postgres-edit", marks=pytest.mark.postgres),
    pytest.param("postgres", "UPDATE audit_log SET at = at - interval '1 day' WHERE seq = 1",
                 "entry 1", id="postgres-backdate", marks=pytest.mark.postgres),
])
def test_an_entry_changed_behind_the_applications_back_is_found(
        kind: str, sql: str, found: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as db:
        write_entries(db, 6)
        assert check(db)[0] == 0
        tamper(db, sql)
        code, out = check(db)
        assert code == 1, out
        assert found in out, out
        assert "problem(s)" in out


def test_recomputing_one_hash_breaks_the_next_link(tmp_path: Path) -> None:
    """Someone who edits an entry and recomputes its hash still breaks the link of the
    entry after it (and would have to rewrite the whole rest of the chain, whose head
    then no longer matches the one printed by an earlier check)."""
    from server.audit.chain import entry_hash

    with database("sqlite", tmp_path) as db:
        write_entries(db, 4)
        _, _before = check(db)
        row = next(r for r in table_rows(db, "audit_log") if r["seq"] == 2)
        row["reason"] = "edited"
        new_hash = entry_hash(row["prev_hash"], row)
        tamper(db, f"UPDATE audit_log SET reason = 'edited', hash = '{new_hash}' "
                   "WHERE seq = 2")
        code, out = check(db)
        assert code == 1 and "entry 3 (id 3): does not link to the entry before it" in out
        assert "entry 2" not in out


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_writers_never_fork_the_chain(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as db:
        errors: list[BaseException] = []

        def writer(tag: str) -> None:
            try:
                write_entries(db, 12, tag=tag, per_commit=2)
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        with db.reader.connect() as conn:
            report = verify(conn)
        assert report.ok, report.problems
        assert report.entries == report.head_seq == 72


def test_a_legacy_entry_outside_the_chain_is_reported(tmp_path: Path) -> None:
    with database("sqlite", tmp_path) as db:
        write_entries(db, 2)
        with db.writer.begin() as conn:  # an INSERT that bypassed the application
            conn.execute(text(
                "INSERT INTO audit_log (at, action, entity, entity_id, before, after) "
                "VALUES ('2026-01-01 00:00:00.000000', 'x', 'meter', 'm', '{}', '{}')"))
        code, out = check(db)
        assert code == 1 and "entry id 3: not part of the chain" in out


@pytest.mark.parametrize("kind", KINDS)
def test_the_migration_chains_the_entries_written_before_it(kind: str, tmp_path: Path) -> None:
    """A database from before the chain: its entries are chained in id order by the
    migration (around the append-only triggers, which stay), and new ones follow."""
    with at_revision(kind, tmp_path, "0003") as url:
        engine_db = make_database(url)
        with engine_db.writer.begin() as conn:
            for i in range(3):
                conn.execute(text(
                    "INSERT INTO audit_log (at, actor_id, action, entity, entity_id, before, "
                    "after, reason) VALUES (:at, 'u-1', 'meter.purchase_count', 'meter', "
                    ":eid, :before, :after, '补卡')"),
                    {"at": f"2026-01-0{i + 1} 08:00:00", "eid": f"m-{i}",
                     "before": json.dumps({"purchase_count": i}),
                     "after": json.dumps({"purchase_count": i + 1})})
        engine_db.dispose()
        upgrade(url)
        db = make_database(url)
        try:
            write_entries(db, 2)
            code, out = check(db)
            assert code == 0 and "5 entries, head 5" in out, out
            with pytest.raises(Exception, match="append-only"), db.writer.begin() as conn:
                conn.execute(text("UPDATE audit_log SET reason = 'x'"))
        finally:
            db.dispose()

