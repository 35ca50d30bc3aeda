"""Request schemas of the auth API."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=20, max_length=2000)
