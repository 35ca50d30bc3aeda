"""Sync op payloads of the inbox."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ReadOp(BaseModel):
    """Payload of ``notification.read@1``: nothing besides the envelope (its entity_id is
    the message, its created_at when the user read it)."""

    model_config = ConfigDict(extra="forbid")
