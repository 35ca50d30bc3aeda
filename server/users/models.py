"""Users of every role, and their refresh tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when
from shared.enums import Role


class User(SQLModel, table=True):
    id: str = id_field()
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=256)
    role: Role = Field(sa_type=String(16), index=True)
    display_name: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=20)
    station_id: str | None = fk("station.id", nullable=True)
    active: bool = True
    locale: str = Field(default="zh", max_length=8)
    created_at: datetime = when(now=True)
    version: int = 1


class RefreshToken(SQLModel, table=True):
    """One refresh token; a family is one login. Reuse of a used token revokes the family."""

    __tablename__ = "refresh_token"

    jti: str = Field(primary_key=True, max_length=36)
    family_id: str = Field(max_length=36, index=True)
    user_id: str = fk("user.id")
    device_id: str | None = Field(default=None, max_length=64)
    issued_at: datetime = when(now=True)
    expires_at: datetime = when(nullable=False)
    used_at: datetime | None = when()
    revoked_at: datetime | None = when()
