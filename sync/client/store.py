"""The device's local database: one SQLite file in WAL mode.

``Store`` owns the connections (``sync.client.sqlite``) and hands out transactions:
``write()`` takes SQLite's write lock at BEGIN (``BEGIN IMMEDIATE``), so two writers queue
instead of failing half-way;
``read()`` sees one consistent snapshot and never blocks the writer. Everything that must
happen together happens in one ``write()``: a local change and its op, a pulled page and
its cursor, a push's results.

What lives where:

* ``sync_state`` — key/value JSON: device id, op counter, cursor, tokens, who is signed
  in, clock offset, last success, last error (this module);
* ``server_row`` — the server's rows as pulled (``sync.client.rows``);
* ``outbox`` — ops made here, until acknowledged and reflected (``sync.client.outbox``);
* ``photo`` — the photo upload queue (``sync.client.photos``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor
from sync.client import outbox, rows
from sync.client.errors import NotSignedIn
from sync.client.schema import LATEST, migrate
from sync.client.sqlite import Connection, Pool
from sync.client.timefmt import from_iso, to_iso


class Key:
    """Keys of ``sync_state``."""

    DEVICE_ID = "device_id"
    DEVICE_SEQ = "device_seq"
    CURSOR = "cursor"
    ACCESS_TOKEN = "access_token"
    REFRESH_TOKEN = "refresh_token"
    SESSION = "session"
    CLOCK_OFFSET = "clock_offset_s"
    LAST_SUCCESS = "last_success_at"
    LAST_ERROR = "last_error"
    LAST_PULL_STARTED = "last_pull_started_at"
    #: bumped by every pulled page that changed rows (screens reload when it moves)
    DATA_SEQ = "data_seq"


@dataclass(frozen=True)
class SignedIn:
    """Who uses this device now (from the sign-in answer and ``/me``)."""

    user_id: str
    role: Role
    username: str = ""
    display_name: str = ""
    station_id: str | None = None
    account_ids: tuple[str, ...] = ()

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role, self.station_id, frozenset(self.account_ids))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["role"] = self.role.value
        data["account_ids"] = list(self.account_ids)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SignedIn:
        return cls(user_id=data["user_id"], role=Role(data["role"]),
                   username=data.get("username", ""), display_name=data.get("display_name", ""),
                   station_id=data.get("station_id"),
                   account_ids=tuple(data.get("account_ids") or ()))


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)


LocalEffect = Callable[[Connection], object]
#: WAL's shared-memory index needs ``mmap`` shared between connections, which Python in
#: the browser (Emscripten) does not have: there the store keeps a rollback journal (one
#: thread, so nothing waits on its locks).
JOURNAL_MODE = "DELETE" if sys.platform == "emscripten" else "WAL"


def _configure(raw: sqlite3.Connection) -> None:
    raw.execute(f"PRAGMA journal_mode={JOURNAL_MODE}")
    # FULL: a committed op survives a power cut, not only an app kill.
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("PRAGMA busy_timeout=30000")


class Store:
    """The local database. ``Store(path)`` opens (and migrates) it."""

    def __init__(self, path: Path | str, *, schema_version: int = LATEST) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Pool(self.path, on_connect=_configure)
        self._reader = Pool(self.path, on_connect=_configure)
        self._on_commit: list[Callable[[], object]] = []
        try:
            self.migrated_from = migrate(self._writer, self.path, schema_version)
            with self.write() as conn:
                if self.get(conn, Key.DEVICE_ID) is None:
                    self.put(conn, Key.DEVICE_ID, new_id())
        except BaseException:
            self.close()
            raise
        self.schema_version = schema_version

    def close(self) -> None:
        self._writer.close()
        self._reader.close()

    def on_commit(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` after each write transaction commits (the browser writes its
        files back to persistent storage then: ``mobile.web.storage``)."""
        self._on_commit.append(callback)

    def _committed(self) -> None:
        for callback in self._on_commit:
            callback()

    # -- transactions ---------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        with self._writer.transaction("BEGIN IMMEDIATE", commit=True,
                                      committed=self._committed) as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent read snapshot."""
        with self._reader.transaction("BEGIN", commit=False) as conn:
            yield conn

    # -- sync state -----------------------------------------------------------------
    @staticmethod
    def get(conn: Connection, key: str, default: Any = None) -> Any:
        raw = conn.exec_driver_sql("SELECT value FROM sync_state WHERE key = ?",
                                   (key,)).scalar()
        return default if raw is None else json.loads(raw)

    @staticmethod
    def put(conn: Connection, key: str, value: Any) -> None:
        conn.exec_driver_sql(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, json.dumps(value)))

    def state(self, key: str, default: Any = None) -> Any:
        with self.read() as conn:
            return self.get(conn, key, default)

    @property
    def device_id(self) -> str:
        return str(self.state(Key.DEVICE_ID))

    def signed_in(self, conn: Connection | None = None) -> SignedIn | None:
        data = self.get(conn, Key.SESSION) if conn else self.state(Key.SESSION)
        return SignedIn.from_json(data) if data else None

    def tokens(self) -> tuple[str | None, str | None]:
        with self.read() as conn:
            return self.get(conn, Key.ACCESS_TOKEN), self.get(conn, Key.REFRESH_TOKEN)

    def save_tokens(self, access: str, refresh: str) -> None:
        """Both tokens in one transaction: a refresh token works once, so the new pair
        must be on disk before either is used."""
        with self.write() as conn:
            self.put(conn, Key.ACCESS_TOKEN, access)
            self.put(conn, Key.REFRESH_TOKEN, refresh)

    def sign_in(self, who: SignedIn, *, access: str, refresh: str) -> None:
        """Record a sign-in. Another user than before: their rows and cursor go (the old
        user's unsent ops stay, and are sent only under that user's own token)."""
        with self.write() as conn:
            before = self.signed_in(conn)
            if before is not None and before.user_id != who.user_id:
                rows.clear(conn)
                self.put(conn, Key.CURSOR, None)
            self.put(conn, Key.SESSION, who.to_json())
            self.put(conn, Key.ACCESS_TOKEN, access)
            self.put(conn, Key.REFRESH_TOKEN, refresh)

    def sign_out(self) -> None:
        """Forget the tokens (the outbox and rows stay: nothing unsent is lost)."""
        with self.write() as conn:
            self.put(conn, Key.ACCESS_TOKEN, None)
            self.put(conn, Key.REFRESH_TOKEN, None)

    def record_error(self, code: str, message: str, details: dict[str, Any] | None = None
                     ) -> None:
        with self.write() as conn:
            self.put(conn, Key.LAST_ERROR, {"code": code, "message": message,
                                            "details": details or {}, "at": to_iso(utcnow())})

    def last_error(self, conn: Connection) -> ErrorInfo | None:
        data = self.get(conn, Key.LAST_ERROR)
        if not data:
            return None
        at = from_iso(data["at"])
        assert at is not None
        return ErrorInfo(data["code"], data["message"], at, data.get("details") or {})

    # -- local changes --------------------------------------------------------------
    def enqueue(self, op_type: str, entity_id: str, payload: dict[str, Any],
                photos: Sequence[str] = (), local_effect: LocalEffect | None = None, *,
                base_version: int | None = None, lane: str | None = None,
                created_at: datetime | None = None) -> outbox.OutboxEntry:
        """Queue an op, and run ``local_effect`` (any other local writes the action makes)
        in the same transaction: both are committed, or neither."""
        with self.write() as conn:
            who = self.signed_in(conn)
            if who is None:
                raise NotSignedIn("sign in on this device before making changes")
            seq = int(self.get(conn, Key.DEVICE_SEQ, 0)) + 1
            self.put(conn, Key.DEVICE_SEQ, seq)
            entry = outbox.insert(
                conn, device_id=str(self.get(conn, Key.DEVICE_ID)), device_seq=seq,
                user_id=who.user_id, op_type=op_type, entity_id=entity_id, payload=payload,
                photos=list(photos), base_version=base_version, lane=lane,
                created_at=created_at or utcnow())
            if local_effect is not None:
                local_effect(conn)
            return entry
