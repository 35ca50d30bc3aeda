"""The change log that sync pulls read, and named counters.

Each committed change to a synced row appends one ``ChangeLog`` row whose ``seq`` is
taken from the ``change_seq`` counter at commit time (see ``server.db.bump_counter``):
sequence order is commit order, so a cursor never skips a slower transaction's change.

A job's timeline events written set-wise (``server.sync.bulk``: a push's notes, arrivals,
acceptances …) are logged by one *timeline* entry per job and transaction instead of one
entry per event: ``entity`` is ``TIMELINE``, ``entity_id`` names the job and the events'
``recorded_at`` (every event of a set-wise chunk is recorded at the chunk's time), and
``version`` counts the events, so a pull can bound its page before reading them
(``server.sync.pull``). A pushed note's own change-log row cost ~5 % of the push's server
work (``bench/README.md``). Events written one by one keep an entry each
(``work_order_event``), as do those of databases from before.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Field, SQLModel

#: The change-log entity of a timeline entry (see above).
TIMELINE = "work_order_timeline"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def timeline_key(order_id: str, recorded_at: datetime) -> str:
    """A timeline entry's ``entity_id``: the job's id and its events' ``recorded_at`` in
    microseconds since 1970 (``<36>@<16>``, 53 characters)."""
    return f"{order_id}@{(recorded_at - _EPOCH) // _MICROSECOND}"


def timeline_of(entity_id: str) -> tuple[str, datetime]:
    """``timeline_key`` read back: the job's id and the events' ``recorded_at``."""
    order_id, _, micros = entity_id.rpartition("@")
    return order_id, _EPOCH + int(micros) * _MICROSECOND


class Counter(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=32)
    value: int = 0


class ChangeLog(SQLModel, table=True):
    __tablename__ = "change_log"

    seq: int = Field(primary_key=True)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64)
    version: int
    deleted: bool = False
    # The scope's keys (``server.uow.Scope``). Not indexed: a pull and the desk's change
    # feed read the entries after a position by ``seq`` and filter them by these
    # (migration 0021).
    station_id: str | None = Field(default=None, max_length=36)
    account_id: str | None = Field(default=None, max_length=36)
    user_id: str | None = Field(default=None, max_length=36)
