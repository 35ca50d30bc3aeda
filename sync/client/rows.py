"""The server's rows as the device last saw them (table ``server_row``).

Rows are stored as the server sent them (JSON), keyed by ``(entity, id)``, with the
change's version. Only pulls add rows; a push result may refresh a row the device already
holds (never add one: the pull decides what is in the user's scope). A row is replaced
only by one at least as new, so an older copy never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sync.client import jsontext
from sync.client.schema import HANGERS
from sync.client.sqlite import Connection

_UPSERT = (
    "INSERT INTO server_row (entity, id, version, data, parent_id) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (entity, id) DO UPDATE SET version = excluded.version, "
    "data = excluded.data, parent_id = excluded.parent_id "
    "WHERE excluded.version >= server_row.version"
)


def _parent(entity: str, row: dict[str, Any]) -> str | None:
    return row.get("work_order_id") if entity in HANGERS else None


def apply_changes(conn: Connection, changes: Iterable[dict[str, Any]]) -> int:
    """Apply one pulled page: upserts and tombstones (``deleted``: the row is gone or
    left the user's scope). Returns the number of changes applied."""
    last: dict[tuple[str, str], dict[str, Any]] = {}
    for c in changes:  # within a page, the last change of a row is its state
        key = (c["entity"], c["id"])
        last.pop(key, None)
        last[key] = c
    upserts: list[tuple[Any, ...]] = []
    deletes: list[tuple[str, str]] = []
    for (entity, rid), c in last.items():
        row = c.get("row")
        if c.get("deleted") or row is None:
            deletes.append((entity, rid))
        else:
            upserts.append((entity, rid, int(c["version"]),
                            jsontext.dumps(row), _parent(entity, row)))
    if upserts:
        conn.exec_driver_sql(_UPSERT, upserts)
    if deletes:
        conn.exec_driver_sql("DELETE FROM server_row WHERE entity = ? AND id = ?", deletes)
    return len(upserts) + len(deletes)


def refresh_existing(conn: Connection, entity: str, rid: str, version: int,
                     row: dict[str, Any]) -> bool:
    """Replace a row the device holds with the server's newer copy (from a push result)."""
    res = conn.exec_driver_sql(
        "UPDATE server_row SET version = ?, data = ?, parent_id = ? "
        "WHERE entity = ? AND id = ? AND version <= ?",
        (version, jsontext.dumps(row), _parent(entity, row), entity, rid,
         version))
    return bool(res.rowcount)


def forget(conn: Connection, entity: str, rid: str) -> int:
    """Drop a row the user may no longer see, with the rows that hang off it (a job's
    timeline, swap and photo links). Returns how many rows went."""
    res = conn.exec_driver_sql("DELETE FROM server_row WHERE entity = ? AND id = ?",
                               (entity, rid))
    gone = int(res.rowcount or 0)
    if entity == "work_order":
        marks = ", ".join("?" for _ in HANGERS)
        res = conn.exec_driver_sql(
            f"DELETE FROM server_row WHERE parent_id = ? AND entity IN ({marks})",
            (rid, *sorted(HANGERS)))
        gone += int(res.rowcount or 0)
    return gone


def clear(conn: Connection) -> None:
    """Drop every server row (a reset or a new user). The outbox is not touched."""
    conn.exec_driver_sql("DELETE FROM server_row")


def get(conn: Connection, entity: str, rid: str) -> tuple[int, dict[str, Any]] | None:
    r = conn.exec_driver_sql("SELECT version, data FROM server_row WHERE entity = ? AND id = ?",
                             (entity, rid)).first()
    return (int(r[0]), jsontext.loads(r[1])) if r else None


def children(conn: Connection, entity: str, parent_id: str) -> list[dict[str, Any]]:
    return [jsontext.loads(r[0]) for r in conn.exec_driver_sql(
        "SELECT data FROM server_row WHERE entity = ? AND parent_id = ?", (entity, parent_id))]


def all_of(conn: Connection, entity: str, where: str = "", params: tuple[Any, ...] = ()
           ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every row of ``entity`` (optionally filtered with SQL over ``json_extract(data,…)``)."""
    sql = "SELECT version, data FROM server_row WHERE entity = ?"
    if where:
        sql += f" AND ({where})"
    for version, data in conn.exec_driver_sql(sql, (entity, *params)):
        yield int(version), jsontext.loads(data)


def versions(conn: Connection, entity: str, ids: Iterable[str]) -> dict[str, int]:
    ids = list(ids)
    out: dict[str, int] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        marks = ", ".join("?" for _ in part)
        out.update((rid, int(v)) for rid, v in conn.exec_driver_sql(
            f"SELECT id, version FROM server_row WHERE entity = ? AND id IN ({marks})",
            (entity, *part)))
    return out


def count(conn: Connection) -> dict[str, int]:
    return {e: int(n) for e, n in conn.exec_driver_sql(
        "SELECT entity, count(*) FROM server_row GROUP BY entity")}
