"""The in-app inbox (synced to the customer's phone) and the outgoing message outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when


class Notification(SQLModel, table=True):
    id: str = id_field()
    account_id: str | None = fk("account.id", nullable=True)
    user_id: str | None = fk("user.id", nullable=True)  # the recipient
    kind: str = Field(max_length=24)
    title_zh: str = Field(max_length=100)
    body_zh: str = Field(max_length=500)
    title_en: str = Field(max_length=100)
    body_en: str = Field(max_length=500)
    data: dict[str, Any] = json_field(dict)
    dedupe_key: str | None = Field(default=None, max_length=120, unique=True)
    created_at: datetime = when(now=True)
    read_at: datetime | None = when()
    version: int = 1


class OutboxMessage(SQLModel, table=True):
    """A message to send through the ``MessageSender`` (SMS), with its delivery receipt."""

    __tablename__ = "message_outbox"

    id: str = id_field()
    notification_id: str | None = fk("notification.id", nullable=True, index=False)
    channel: str = Field(default="sms", max_length=8)
    recipient: str = Field(max_length=20)
    lang: str = Field(default="zh", max_length=4)
    body: str = Field(max_length=600)
    status: str = Field(default="queued", max_length=12, index=True)
    # queued -> sent -> delivered | failed (the receipt), or failed when sending gave up
    attempts: int = 0
    next_attempt_at: datetime = when(now=True)
    provider_ref: str | None = Field(default=None, max_length=64, index=True)
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = when(now=True)
    sent_at: datetime | None = when()
    receipt_at: datetime | None = when()
