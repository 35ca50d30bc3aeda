"""``gridone backup`` / ``gridone restore`` (issue 14): the database and the photos come
back exactly as they were, on SQLite (online backup API) and on PostgreSQL (pg_dump /
pg_restore); a damaged backup, a backup of the other database kind and a restore over
data without --replace are refused and change nothing."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from server.cli import app as cli
from server.db import Database, make_database
from server.migrate import upgrade
from server.uow import UnitOfWork
from tests import pg
from tests.conftest import SECRET, db_snapshot, svc_report
from tests.factories import PEPPER, build_world

PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes to keep \x00\x01"


def gridone(args: list[str], url: str, data_dir: Path) -> Any:
    env = {"GRIDONE_DATABASE_URL": url, "GRIDONE_DATA_DIR": str(data_dir),
           "GRIDONE_SECRET_KEY": SECRET, "GRIDONE_LOOKUP_PEPPER": PEPPER}
    return CliRunner().invoke(cli, args, env=env)


def put_photo(data_dir: Path) -> Path:
    sha = hashlib.sha256(PHOTO).hexdigest()
    path = data_dir / "photos" / sha[:2] / f"{sha}.img"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PHOTO)
    return path


def fill(db: Database) -> None:
    world = build_world(db)
    svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    with UnitOfWork(db) as uow:
        uow.audit(action="test.backup", entity="meter", entity_id="m-1",
                  before={"purchase_count": 1}, after={"purchase_count": 2}, reason="备份前")
        uow.commit()


def change_everything(db: Database, data_dir: Path, photo: Path) -> None:
    with UnitOfWork(db) as uow:
        uow.audit(action="test.after", entity="meter", entity_id="m-2")
        uow.session.execute(text("UPDATE account SET balance_fen = balance_fen + 777"))
        uow.commit()
    photo.unlink()
    (data_dir / "photos" / "new.img").write_bytes(b"later")


def filled_and_backed_up(url: str, data_dir: Path, backup: Path) -> tuple[Any, Path]:
    """Fill a migrated database, put a photo, back both up while the app's engine is
    open; (the database's snapshot, the photo's path)."""
    upgrade(url)
    db = make_database(url)
    fill(db)
    photo = put_photo(data_dir)
    before = db_snapshot(db)
    r = gridone(["backup", str(backup)], url, data_dir)
    db.dispose()
    assert r.exit_code == 0, r.output
    return before, photo


def restore_checks(url: str, data_dir: Path, backup: Path, before: Any, photo: Path) -> None:
    db = make_database(url)
    change_everything(db, data_dir, photo)
    changed = db_snapshot(db)
    db.dispose()
    assert changed != before

    r = gridone(["restore", str(backup)], url, data_dir)
    assert r.exit_code == 1 and "already holds data" in r.output, r.output
    db = make_database(url)
    assert db_snapshot(db) == changed  # refused: nothing touched
    db.dispose()

    r = gridone(["restore", str(backup), "--replace"], url, data_dir)
    assert r.exit_code == 0, r.output
    db = make_database(url)
    try:
        assert db_snapshot(db) == before
        with pytest.raises(Exception, match="append-only"), db.writer.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))  # the triggers came back too
    finally:
        db.dispose()
    assert photo.read_bytes() == PHOTO
    assert not (data_dir / "photos" / "new.img").exists()
    r = gridone(["check-audit"], url, data_dir)
    assert r.exit_code == 0 and "OK" in r.output, r.output


def test_sqlite_backup_and_restore(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'gridone.db'}"
    backup = tmp_path / "backup-1"
    before, photo = filled_and_backed_up(url, data_dir, backup)
    assert {p.name for p in backup.iterdir()} == {"manifest.json", "gridone.sqlite3",
                                                  "photos.tar"}
    assert gridone(["backup", str(backup)], url, data_dir).exit_code == 1  # not over one

    restore_checks(url, data_dir, backup, before, photo)

    # into a new place (a new machine): no --replace needed
    fresh_dir = tmp_path / "fresh"
    fresh_url = f"sqlite:///{fresh_dir / 'gridone.db'}"
    r = gridone(["restore", str(backup)], fresh_url, fresh_dir)
    assert r.exit_code == 0, r.output
    fresh = make_database(fresh_url)
    assert db_snapshot(fresh) == before
    fresh.dispose()
    assert (fresh_dir / photo.relative_to(data_dir)).read_bytes() == PHOTO


def test_a_damaged_or_foreign_backup_is_refused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    url = f"sqlite:///{data_dir / 'gridone.db'}"
    upgrade(url)
    put_photo(data_dir)
    backup = tmp_path / "b"
    assert gridone(["backup", str(backup)], url, data_dir).exit_code == 0
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    with (damaged / "photos.tar").open("r+b") as fh:
        fh.seek(700)
        fh.write(b"X")
    target_dir = tmp_path / "target"
    target_url = f"sqlite:///{target_dir / 'gridone.db'}"
    r = gridone(["restore", str(damaged)], target_url, target_dir)
    assert r.exit_code == 1 and "changed since the backup" in r.output, r.output
    assert not (target_dir / "gridone.db").exists()
    r = gridone(["restore", str(backup)], pg.base_url(), target_dir)
    assert r.exit_code == 1 and "holds a sqlite database" in r.output, r.output
    r = gridone(["restore", str(tmp_path)], target_url, target_dir)
    assert r.exit_code == 1 and "manifest.json" in r.output


@pytest.mark.postgres
def test_postgres_backup_and_restore(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with pg.fresh_database() as url, pg.fresh_database() as other_url:
        backup = tmp_path / "pg-backup"
        before, photo = filled_and_backed_up(url, data_dir, backup)
        assert (backup / "gridone.pgdump").stat().st_size > 0

        restore_checks(url, data_dir, backup, before, photo)

        # into another, empty database
        r = gridone(["restore", str(backup)], other_url, tmp_path / "other")
        assert r.exit_code == 0, r.output
        other = make_database(other_url)
        try:
            assert db_snapshot(other) == before
        finally:
            other.dispose()
