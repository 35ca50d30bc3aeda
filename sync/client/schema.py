"""The local database's schema and its forward migrations.

The schema is written as plain SQL migrations, applied in order, each in its own
transaction together with the bump of ``schema_version``: a crash mid-upgrade leaves the
database at the previous version, intact. Migrations only ever *add* (columns, tables,
indexes, backfills); they never drop the outbox or the photo queue, so pending work
survives every app update. Before upgrading an existing database a copy is taken next to
it (``<file>.v<N>.bak``).

To change the schema: append a ``Migration`` with the next number. Never edit a released one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sync.client.errors import StoreTooNew
from sync.client.sqlite import Connection, Pool
from sync.client.timefmt import now_iso

Step = str | Callable[[Connection], None]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    steps: tuple[Step, ...]


_V1 = (
    """CREATE TABLE sync_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    # The server's rows as last pulled, one per (entity, id); ``data`` is the row as JSON.
    """CREATE TABLE server_row (
        entity TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (entity, id)
    ) WITHOUT ROWID""",
    # The outbox: one row per op made on this device, kept until the server acknowledged
    # it and the pulled rows reflect it.
    """CREATE TABLE outbox (
        device_seq INTEGER PRIMARY KEY,
        op_id TEXT NOT NULL UNIQUE,
        user_id TEXT NOT NULL,
        lane TEXT NOT NULL,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        base_version INTEGER,
        payload TEXT NOT NULL,
        photos TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        held_by TEXT,
        result_code TEXT,
        result_message TEXT,
        result_details TEXT,
        result_entity TEXT,
        result_entity_id TEXT,
        result_version INTEGER,
        sent_at TEXT,
        acked_at TEXT,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX ix_outbox_state ON outbox (state, device_seq)",
    "CREATE INDEX ix_outbox_lane ON outbox (lane, device_seq)",
    # Photos waiting to be uploaded (and done ones, so their files are known).
    """CREATE TABLE photo (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        state TEXT NOT NULL,
        confirmed INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        done_at TEXT
    )""",
)

_HANGER_ENTITIES = "('work_order_event', 'meter_swap', 'photo_link')"

_V2 = (
    # Timelines and photo lists look rows up by their work order: index that relation.
    "ALTER TABLE server_row ADD COLUMN parent_id TEXT",
    f"""UPDATE server_row SET parent_id = json_extract(data, '$.work_order_id')
        WHERE entity IN {_HANGER_ENTITIES}""",
    "CREATE INDEX ix_server_row_parent ON server_row (entity, parent_id)",
    # A rejected op keeps the server's row it was refused against, even when that row is
    # not (or no longer) among the device's rows.
    "ALTER TABLE outbox ADD COLUMN result_row TEXT",
    # Uploads that failed for good are retried only a few times from zero.
    "ALTER TABLE photo ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0",
)

_V3 = (
    # Each push first asks which lanes back off (an unsent op with a retry time to come):
    # without this index it read every unsent op, 2-4 ms a request with 10,000 queued.
    # Only ops that were told to wait have a retry time (``sending.pushable``).
    "CREATE INDEX ix_outbox_retry ON outbox (next_attempt_at) WHERE next_attempt_at IS NOT NULL",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "outbox, server rows, photo queue, sync state", _V1),
    Migration(2, "row parent index, rejected row on ops, photo attempts", _V2),
    Migration(3, "index of the outbox's retry times", _V3),
)
LATEST = MIGRATIONS[-1].version
HANGERS = frozenset({"work_order_event", "meter_swap", "photo_link", "inspection_finding"})


def current_version(conn: Connection) -> int:
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version'").first()
    if not exists:
        return 0
    value = conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()
    return int(value or 0)


def _backup(path: Path, version: int) -> None:
    """Copy the database (consistently, WAL included) before changing its schema."""
    target = path.with_name(f"{path.name}.v{version}.bak")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def migrate(pool: Pool, path: Path | None, target: int = LATEST) -> int:
    """Bring the database up to ``target``; returns the version it was at before."""
    with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
        conn.exec_driver_sql("""CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY, description TEXT NOT NULL, migrated_at TEXT NOT NULL
        )""")
        found = current_version(conn)
    if found > LATEST:
        raise StoreTooNew(found, LATEST)
    if found >= target:
        return found
    if found > 0 and path is not None:
        _backup(path, found)
    for m in MIGRATIONS:
        if found < m.version <= target:
            with pool.transaction("BEGIN IMMEDIATE", commit=True) as conn:
                if current_version(conn) >= m.version:  # another process got here first
                    continue
                for step in m.steps:
                    if isinstance(step, str):
                        conn.exec_driver_sql(step)
                    else:
                        step(conn)
                conn.exec_driver_sql(
                    "INSERT INTO schema_version (version, description, migrated_at) "
                    "VALUES (?, ?, ?)", (m.version, m.description, now_iso()))
    return found
