"""One row per limited key (``login:user:NAME``, ``login:addr:IP``, ``sync:pull:USER:DEVICE``)."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RateLimit(SQLModel, table=True):
    """A fixed-window hit counter with an optional lock.

    Times are seconds since the epoch (UTC): the counter is compared and reset in one
    SQL statement, the same on SQLite and PostgreSQL.
    """

    __tablename__ = "rate_limit"

    key: str = Field(primary_key=True, max_length=200)
    window_start: float
    hits: int = 0
    locked_until: float | None = None
    lockouts: int = 0  # locks so far: each one lasts twice as long as the one before
