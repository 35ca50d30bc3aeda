"""Remote control commands to meters and every acknowledgement received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class MeterCommand(SQLModel, table=True):
    """queued -> sent (re-sent until acknowledged) -> acknowledged | failed;
    superseded when a later opposite command replaced it before it was acknowledged."""

    __tablename__ = "meter_command"
    __table_args__ = (UniqueConstraint("meter_id", "seq"),)

    id: str = id_field()
    meter_id: str = fk("meter.id")
    account_id: str = fk("account.id")
    station_id: str = fk("station.id", index=False)
    seq: int  # per meter: the meter executes only frames newer than the last it executed
    kind: str = Field(max_length=12)  # disconnect | reconnect
    state: str = Field(default="queued", max_length=12, index=True)
    origin: str = Field(default="auto", max_length=8)  # auto | manual
    reason: str = Field(max_length=500)
    balance_fen: int  # the balance that prompted it
    requested_by: str | None = fk("user.id", nullable=True, index=False)
    attempts: int = 0
    next_attempt_at: datetime = when(now=True)
    last_sent_at: datetime | None = when()
    acknowledged_at: datetime | None = when()
    failed_at: datetime | None = when()
    error: str | None = Field(default=None, max_length=300)
    created_at: datetime = when(now=True)
    updated_at: datetime = when(now=True)
    version: int = 1


class MeterCommandAck(SQLModel, table=True):
    """An acknowledgement from the metering head-end, and what was made of it."""

    __tablename__ = "meter_command_ack"

    id: str = id_field()
    command_id: str | None = Field(default=None, max_length=64, index=True)
    result: str | None = Field(default=None, max_length=16)
    verdict: str = Field(max_length=12)  # applied | duplicate | stale | unknown | rejected
    received_at: datetime = when(now=True)
    body: str = Field(sa_type=Text)
