"""The append-only audit log (UPDATE and DELETE are refused by database triggers), a hash
chain (``server.audit.chain``): ``seq`` numbers the entries without gaps, ``hash`` covers
the entry's content and ``prev_hash``, the hash of entry ``seq - 1``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from server.columns import json_field, when


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = when(now=True)
    actor_id: str | None = Field(default=None, max_length=36, index=True)
    actor_role: str | None = Field(default=None, max_length=16)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=32)
    entity_id: str = Field(max_length=64, index=True)
    before: dict[str, Any] = json_field(dict)
    after: dict[str, Any] = json_field(dict)
    reason: str | None = Field(default=None, max_length=500)
    device_id: str | None = Field(default=None, max_length=64)  # the signed-in device
    seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)
