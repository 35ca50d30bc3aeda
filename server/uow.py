"""The unit of work: one transaction holding the change, its audit entries and change log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, NamedTuple

from sqlalchemy import insert, text
from sqlmodel import Session, SQLModel

from server.audit import chain
from server.changes.models import TIMELINE, ChangeLog, timeline_key
from server.changes.notify import CHANNEL
from server.db import BulkWrite, Database, bump_counter
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor

_INSERT_CHANGES = BulkWrite(insert(ChangeLog.__table__))  # type: ignore[attr-defined]
#: A change-log entry's values, in this order (a ``Scope``'s three keys last).
_ENTRY = ("seq", "entity", "entity_id", "version", "deleted", "station_id", "account_id",
          "user_id")


class Scope(NamedTuple):
    """Who may see a change: rows of a station, an account, a user. Each change-log entry
    carries these keys; ``server.sync.scope.DeviceScope`` (what one user's devices hold)
    selects entries by them."""

    station_id: str | None = None
    account_id: str | None = None
    user_id: str | None = None


@dataclass
class Written:
    """A row written set-wise, without an ORM object (``server.sync.bulk``): its table and
    its current values. The change log reads its version and visibility keys at commit,
    as it does an ORM row's."""

    table: str
    values: dict[str, Any]

    @property
    def version(self) -> int:
        return int(self.values.get("version") or 1)


def scope_of(row: SQLModel | Written) -> Scope:
    """The visibility keys of a synced row."""
    if isinstance(row, Written):
        name, get = row.table, row.values.get
    else:
        name, get = str(type(row).__tablename__), row.__dict__.get
    if name == "work_order":
        return Scope(get("station_id"), get("account_id"), get("assignee_id"))
    if name == "account":
        return Scope(get("station_id"), get("id"), get("owner_user_id"))
    if name == "meter":
        return Scope(get("station_id"), get("account_id"))
    return Scope(get("station_id"), get("account_id"), get("user_id"))


def to_audit_dict(row: SQLModel | None, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    if row is None:
        return {}
    data = row.model_dump(mode="json", warnings=False)
    return {k: v for k, v in data.items() if fields is None or k in fields}


class UnitOfWork:
    """``with UnitOfWork(db, actor) as uow: ...; uow.commit()`` — nothing commits otherwise."""

    def __init__(self, db: Database, actor: Actor | None = None) -> None:
        self.db = db
        self.actor = actor
        #: what changed, in the order first noted (the change log's order): the row, its
        #: scope if given, deleted or not
        self._changes: dict[tuple[str, str], tuple[SQLModel | Written, Scope | None, bool]] = {}
        self._scope_moves: list[tuple[str, int, Scope, bool, str]] = []
        #: timeline events written set-wise, counted per job, recorded time and scope
        self._timelines: dict[tuple[str, datetime, Scope], int] = {}
        self._audits: list[dict[str, Any]] = []
        self.committed = False
        #: the key of identity numbers' keyed digests, for services that store one (set
        #: by the caller that holds the settings, e.g. a sync push)
        self.pepper = ""

    def __enter__(self) -> UnitOfWork:
        self.session = Session(self.db.writer, expire_on_commit=False)
        self.session.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self.committed:
            self.session.rollback()
        self.session.close()

    # -- recording -------------------------------------------------------------------
    def changed(self, row: SQLModel, *, scope: Scope | None = None,
                deleted: bool = False) -> None:
        """Note that ``row`` changed: it gets a change-log entry at commit."""
        self.session.add(row)
        key = (type(row).__tablename__, str(getattr(row, "id", None) or row.sha256))
        self._changes[key] = (row, scope, deleted)

    def written(self, row: Written, *, scope: Scope | None = None) -> None:
        """Note that a row written set-wise (by the caller's own statements) changed."""
        self._changes[(row.table, str(row.values["id"]))] = (row, scope, False)

    def timeline(self, order_id: str, recorded_at: datetime, scope: Scope) -> None:
        """Note a timeline event of ``order_id`` written set-wise, recorded at
        ``recorded_at`` and seen by ``scope`` (the job's when written): the events a job
        gets in this transaction with the same time and scope share one change-log entry
        (``server.changes.models.TIMELINE``), counting them."""
        key = (order_id, recorded_at, scope)
        self._timelines[key] = self._timelines.get(key, 0) + 1

    def scope_move(self, *, order_id: str, version: int, scope: Scope, enter: bool) -> None:
        """A job entered (or left) one user's scope: their devices must fetch (or drop) it
        with everything that hangs off it, although those rows did not change."""
        self._scope_moves.append((order_id, version, scope, enter, "scope"))

    def left_scope(self, *, entity: str, entity_id: str, version: int, user_id: str) -> None:
        """A row left one user's scope although it still exists (an account transferred
        to another holder): a change-log entry addressed to that user, so their devices
        look at the row again and, no longer seeing it, get its tombstone."""
        self._scope_moves.append((entity_id, version, Scope(user_id=user_id), True, entity))

    def audit(self, *, action: str, entity: str, entity_id: str,
              before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
              reason: str | None = None) -> None:
        """Note an audit entry: it is chained onto the audit log at commit."""
        self._audits.append({
            "at": utcnow(), "actor_id": self.actor.user_id if self.actor else None,
            "actor_role": self.actor.role.value if self.actor else None,
            "action": action, "entity": entity, "entity_id": entity_id,
            "before": before or {}, "after": after or {}, "reason": reason,
            "device_id": self.actor.device_id if self.actor else None})

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: on error everything done inside is undone, including
        the change-log, scope and audit entries noted inside, and the error propagates."""
        changes, moves, audits = dict(self._changes), list(self._scope_moves), len(self._audits)
        timelines = dict(self._timelines)
        nested = self.session.begin_nested()
        try:
            yield
        except BaseException:
            nested.rollback()
            self._changes, self._scope_moves, self._timelines = changes, moves, timelines
            del self._audits[audits:]
            raise
        nested.commit()

    # -- finishing --------------------------------------------------------------------
    def rehearse(self) -> None:
        """Write what ``commit`` writes (the change log, the audit chain), then undo all of
        it: nothing is kept and nobody is told (the push's start-up warm-up,
        ``server.sync.bulk.warm_up``)."""
        self._write()
        self.session.rollback()
        self._changes, self._scope_moves, self._audits, self._timelines = {}, [], [], {}

    def commit(self) -> None:
        top = self._write()
        self.session.commit()
        self.committed = True
        if top is not None:
            self.db.notifier.notify(top)  # this process's long polls

    def _write(self) -> int | None:
        """The audit entries and change-log entries noted; the log's new high-water mark
        (None: no entry)."""
        session = self.session
        session.flush()
        # The audit chain's lock first, then the change log's: always in this order.
        chain.append(session, self._audits)
        self._audits = []
        n = len(self._changes) + len(self._timelines) + len(self._scope_moves)
        if n:
            # Take sequence numbers last: the counter row stays locked until commit.
            top = bump_counter(session, "change_seq", n)
            seq = top - n
            entries: list[tuple[Any, ...]] = []  # in _ENTRY's order
            for (entity, entity_id), (row, scope, deleted) in self._changes.items():
                seq += 1
                entries.append((seq, entity, entity_id, int(getattr(row, "version", 1) or 1),
                                deleted, *(scope or scope_of(row))))
            for (order_id, at, sc), count in self._timelines.items():
                seq += 1  # its version: how many events it stands for
                entries.append((seq, TIMELINE, timeline_key(order_id, at), count, False, *sc))
            for entity_id, version, sc, enter, entity in self._scope_moves:
                seq += 1
                entries.append((seq, entity, entity_id, version, not enter, *sc))
            # One multi-row INSERT (no ORM objects): same rows, same transaction.
            _INSERT_CHANGES.run_values(session, _ENTRY, entries)
            if not self.db.is_sqlite:  # other workers' long polls: delivered at commit
                session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANNEL})
            return top
        return None
