"""Server-side sync tables: the record of every op that was decided, and known devices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from server.columns import json_field, when


class AppliedOp(SQLModel, table=True):
    """One op the server decided on, written in the same transaction as its effect
    (applied) or on its own (rejected). Keyed by the device-made ``op_id``."""

    __tablename__ = "applied_op"

    op_id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(max_length=64)  # looked up by ix_applied_op_device_seq
    device_seq: int = Field(sa_type=BigInteger)  # 1 .. 2^63 - 1 (issue 8, item 24)
    user_id: str = Field(max_length=36, index=True)
    lane: str = Field(max_length=100)
    type: str = Field(max_length=64)
    entity_id: str = Field(max_length=36)
    content_hash: str = Field(max_length=64)
    status: str = Field(max_length=12)  # applied | rejected
    code: str | None = Field(default=None, max_length=48)
    details: dict[str, Any] = json_field(dict)
    result: dict[str, Any] = json_field(dict)
    device_created_at: datetime = when(nullable=False)
    effective_at: datetime = when(nullable=False)  # device time corrected by clock offset
    clock_offset_s: float = 0.0
    received_at: datetime = when(now=True)

    # issue 8, item 5: a device's number belongs to one op (looked up per push)
    __table_args__ = (Index("ix_applied_op_device_seq", "device_id", "device_seq"),)


class Device(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=36, index=True)
    first_seen: datetime = when(now=True)
    last_seen: datetime = when(now=True)
    last_clock_offset_s: float = 0.0  # measured by its last push
    # issue 8, item 11: the offset its ops are corrected with, kept for a clock session
    # (``server.sync.times.session_clock``), and when the session was last confirmed
    clock_session_offset_s: float | None = None
    clock_session_at: datetime | None = when()
    last_protocol: int = 1
    # issue 8: what the office sees of a device, and its revocation (lost or stolen)
    last_app: str | None = Field(default=None, max_length=100)  # its User-Agent
    last_push_ops: int = 0  # ops in its last push
    last_push_pending: int = 0  # of those, left undecided (deferred: it sends them again)
    revoked_at: datetime | None = when()
    revoked_by: str | None = Field(default=None, max_length=36)
    revoke_reason: str | None = Field(default=None, max_length=500)
