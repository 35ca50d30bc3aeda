"""``gridone backup`` / ``gridone restore``: the database and the photo folder, together.

A backup is a folder::

    manifest.json     what it holds: database kind, schema revision, time, SHA-256 of each file
    gridone.sqlite3   SQLite: a consistent copy made with SQLite's online backup API
    gridone.pgdump    PostgreSQL: ``pg_dump --format=custom``
    photos.tar        the photos and documents (from the folder or the S3 bucket)

Both are taken while the server runs. A restore checks every file against the
manifest first, refuses a database of the other kind, and refuses to overwrite a
database that holds data unless told to (``replace``); then it loads the copy (SQLite:
the backup API again; PostgreSQL: ``pg_restore --clean --single-transaction``), puts
the photos back and migrates the schema forward if the backup is older than the code.
Stop the server while restoring.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from server.config import Settings
from server.migrate import current, table_names, upgrade
from server.storage.store import BlobStore, make_blob_store
from shared.timeutil import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "gridone.sqlite3"
PG_FILE = "gridone.pgdump"
PHOTOS_FILE = "photos.tar"


class BackupError(Exception):
    """The backup cannot be made or restored (the message says why)."""


@dataclass(frozen=True)
class Manifest:
    database: str
    schema: str | None
    created_at: str
    files: dict[str, str]

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "database": self.database, "schema": self.schema,
                           "created_at": self.created_at, "files": self.files}, indent=2)

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        try:
            data: dict[str, Any] = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise BackupError(f"{folder}: no readable {MANIFEST} ({exc})") from exc
        if data.get("format") != FORMAT:
            raise BackupError(f"{folder}: backup format {data.get('format')} is not {FORMAT}")
        return cls(data["database"], data.get("schema"), data["created_at"], data["files"])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url}: not a SQLite file")
    return Path(database)


def _pg_command(url: str) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments for pg_dump/pg_restore (the password in the env)."""
    u = make_url(url)
    args = [f"--host={u.host or '127.0.0.1'}", f"--port={u.port or 5432}",
            f"--username={u.username or 'postgres'}", f"--dbname={u.database}"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed (Debian: apt-get install "
                          "postgresql-client)")
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({result.returncode}): {result.stderr.strip()}")


# -- backup ---------------------------------------------------------------------------------
def backup(settings: Settings, dest: Path) -> Manifest:
    url = settings.resolved_database_url
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} exists and is not empty")
    dest.mkdir(parents=True, exist_ok=True)
    sqlite = url.startswith("sqlite")
    if sqlite:
        source = _sqlite_path(url)
        if not source.exists():
            raise BackupError(f"{source}: no such database")
        with sqlite3.connect(source) as src, sqlite3.connect(dest / SQLITE_FILE) as dst:
            src.backup(dst)
        src.close()
        dst.close()
        db_file = SQLITE_FILE
    else:
        args, env = _pg_command(url)
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dest / PG_FILE}", *args],
             env)
        db_file = PG_FILE
    _blobs_to_tar(make_blob_store(settings), dest / PHOTOS_FILE)
    files = {name: _sha256(dest / name) for name in (db_file, PHOTOS_FILE)}
    manifest = Manifest("sqlite" if sqlite else "postgresql", current(url),
                        utcnow().isoformat(), files)
    (dest / MANIFEST).write_text(manifest.to_json())
    return manifest


def _blobs_to_tar(store: BlobStore, path: Path) -> None:
    """Every finished blob (not half-uploaded ones) as ``photos/<key>`` in a tar file."""
    with tarfile.open(path, "w") as tar:
        for key in store.keys():  # noqa: SIM118 (a BlobStore is not iterable)
            if key.startswith("partial/"):
                continue
            data = store.get(key)
            info = tarfile.TarInfo(f"photos/{key}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _blobs_from_tar(store: BlobStore, path: Path, *, replace: bool) -> None:
    if replace:
        for key in list(store.keys()):
            store.delete(key)
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            key = member.name.removeprefix("photos/")
            if not member.isfile() or not member.name.startswith("photos/") or not key:
                continue
            fh = tar.extractfile(member)
            if fh is not None:
                store.put(key, fh.read())


# -- restore --------------------------------------------------------------------------------
def restore(settings: Settings, src: Path, *, replace: bool = False) -> Manifest:
    url = settings.resolved_database_url
    manifest = Manifest.read(src)
    for name, digest in manifest.files.items():
        path = src / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{path}: missing or changed since the backup was made")
    kind = "sqlite" if url.startswith("sqlite") else "postgresql"
    if manifest.database != kind:
        raise BackupError(f"the backup holds a {manifest.database} database; the configured "
                          f"database is {kind}")
    if kind == "sqlite":
        _sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    if table_names(url) and not replace:
        raise BackupError(f"{make_url(url).render_as_string(hide_password=True)} already "
                          "holds data: restore with --replace to overwrite it")
    if kind == "sqlite":
        with sqlite3.connect(src / SQLITE_FILE) as copy, \
                sqlite3.connect(_sqlite_path(url)) as target:
            copy.backup(target)
        copy.close()
        target.close()
    else:
        args, env = _pg_command(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--exit-on-error", *args, str(src / PG_FILE)], env)
    _blobs_from_tar(make_blob_store(settings), src / PHOTOS_FILE, replace=replace)
    upgrade(url)
    return manifest
