"""Column helpers shared by the table models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from server.db import AwareDateTime
from shared.ids import new_id
from shared.timeutil import utcnow


def id_field(**kw: Any) -> Any:
    return Field(default_factory=new_id, primary_key=True, max_length=36, **kw)


def fk(target: str, *, nullable: bool = False, index: bool = True) -> Any:
    if nullable:
        return Field(default=None, foreign_key=target, index=index, max_length=36)
    return Field(foreign_key=target, index=index, max_length=36)


def when(*, nullable: bool = True, index: bool = False, now: bool = False) -> Any:
    if now:
        return Field(default_factory=utcnow, sa_type=AwareDateTime, nullable=False, index=index)
    return Field(default=None, sa_type=AwareDateTime, nullable=nullable, index=index)


def json_field(default_factory: Any = dict) -> Any:
    return Field(default_factory=default_factory, sa_column=Column(JSON, nullable=False))


__all__ = ["datetime", "fk", "id_field", "json_field", "when"]
