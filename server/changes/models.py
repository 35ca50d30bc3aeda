"""The change log that sync pulls read, and named counters.

Each committed change to a synced row appends one ``ChangeLog`` row whose ``seq`` is
taken from the ``change_seq`` counter at commit time (see ``server.db.bump_counter``):
sequence order is commit order, so a cursor never skips a slower transaction's change.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


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
