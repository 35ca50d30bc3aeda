"""Ops a revoked device tried to push: kept for the office, never applied."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from server.columns import json_field, when


class HeldOp(SQLModel, table=True):
    __tablename__ = "held_op"

    op_id: str = Field(primary_key=True, max_length=36)
    device_id: str = Field(max_length=64, index=True)
    user_id: str = Field(max_length=36)  # the token's user
    device_seq: int = Field(sa_type=BigInteger)  # 1 .. 2^63 - 1
    type: str = Field(max_length=64)
    entity_id: str = Field(max_length=36)
    lane: str = Field(max_length=100)
    payload: dict[str, Any] = json_field(dict)
    photos: list[Any] = json_field(list)
    created_at: datetime = when(nullable=False)  # device time
    received_at: datetime = when(now=True)
