"""The audit log as a hash chain: each entry carries the hash of the one before it.

``append`` numbers new entries (``seq``: 1, 2, 3 … with no gaps), links each to the hash
of the entry before and inserts them. It takes the numbers from the ``audit_seq``
counter row, whose lock is held until the transaction ends: concurrent writers append
one after the other, never both after the same entry.

``verify`` walks the chain and reports every entry whose content no longer matches its
hash, whose link is broken, every missing number, and entries cut off the end (the
counter says how many there were). Changing an entry's content behind the
application's back breaks its hash; recomputing the hashes from there on would need
the head hash that ``gridone check-audit`` prints to match a copy kept elsewhere.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, text
from sqlmodel import Session, col

from server.audit.models import AuditLog
from server.db import bump_counter

GENESIS = "0" * 64
COUNTER = "audit_seq"
CONTENT = ("seq", "at", "actor_id", "actor_role", "action", "entity", "entity_id", "before",
           "after", "reason")


def _instant(value: datetime | str) -> str:
    if isinstance(value, str):  # a raw SQLite value (migrations read without types)
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json(value: Any) -> Any:
    """The value as it reads back from the JSON column (tuples become lists, keys text)."""
    return json.loads(value if isinstance(value, str) else json.dumps(value))


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    """SHA-256 of the entry's content and the previous entry's hash (canonical JSON)."""
    content = {name: entry.get(name) for name in CONTENT}
    content["at"] = _instant(entry["at"])
    content["before"], content["after"] = _json(entry["before"]), _json(entry["after"])
    content["prev"] = prev_hash
    if entry.get("device_id"):  # covered when set (entries from before it keep their hash)
        content["device_id"] = entry["device_id"]
    raw = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def append(session: Session, entries: list[dict[str, Any]]) -> None:
    """Number, link and insert ``entries`` (dicts of AuditLog columns) in this transaction."""
    if not entries:
        return
    top = bump_counter(session, COUNTER, len(entries))  # the lock that serialises appends
    seq = top - len(entries)
    prev = GENESIS if seq == 0 else session.execute(
        select(col(AuditLog.hash)).where(col(AuditLog.seq) == seq)).scalar() or GENESIS
    for entry in entries:
        seq += 1
        entry["seq"], entry["prev_hash"] = seq, prev
        entry["hash"] = prev = entry_hash(prev, entry)
    session.execute(insert(AuditLog), entries)


# -- verification -------------------------------------------------------------------------
@dataclass
class ChainReport:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _rows(conn: Connection, batch: int) -> Iterator[Mapping[str, Any]]:
    last = -1
    columns = ", ".join(f'"{c}"' for c in ("id", *CONTENT, "device_id", "prev_hash", "hash"))
    while True:
        rows = conn.execute(text(
            f"SELECT {columns} FROM audit_log WHERE COALESCE(seq, -1) > :last "
            "ORDER BY seq LIMIT :n"), {"last": last, "n": batch}).mappings().all()
        if not rows:
            return
        yield from (dict(row) for row in rows)
        last = rows[-1]["seq"]


def verify(conn: Connection, *, batch: int = 5000, max_problems: int = 100) -> ChainReport:
    report = ChainReport()
    unnumbered = conn.execute(text("SELECT id FROM audit_log WHERE seq IS NULL "
                                   "OR hash IS NULL ORDER BY id")).scalars().all()
    for row_id in unnumbered:
        report.problems.append(f"entry id {row_id}: not part of the chain (no seq or hash)")
    prev = GENESIS
    expected = 1
    for row in _rows(conn, batch):
        report.entries += 1
        seq = row["seq"]
        if seq != expected:
            report.problems.append(f"entries {expected}..{seq - 1} are missing")
        if row["prev_hash"] != prev:
            report.problems.append(f"entry {seq} (id {row['id']}): does not link to the "
                                   "entry before it")
        if entry_hash(row["prev_hash"] or "", row) != row["hash"]:
            report.problems.append(f"entry {seq} (id {row['id']}): content does not match "
                                   "its hash (changed after it was written)")
        prev, expected = row["hash"], seq + 1
        report.head_seq, report.head_hash = seq, prev
        if len(report.problems) >= max_problems:
            report.problems.append("... (stopped after this many problems)")
            return report
    counted = conn.execute(text("SELECT value FROM counter WHERE name = :n"),
                           {"n": COUNTER}).scalar() or 0
    if counted > report.head_seq:
        report.problems.append(f"entries {report.head_seq + 1}..{counted} are missing from "
                               f"the end (the counter says {counted} were written)")
    return report
