"""``/api/v1/notifications``: my inbox (also synced to the phone) and the outbox (admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import col, select

from server.deps import CurrentUser, DatabaseDep, SessionDep, require_roles
from server.notifications import service
from server.notifications.models import Notification, OutboxMessage
from server.uow import UnitOfWork
from shared.enums import Role

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])


class NotificationOut(BaseModel):
    id: str
    account_id: str | None
    kind: str
    title: str
    body: str
    title_zh: str
    body_zh: str
    title_en: str
    body_en: str
    data: dict[str, Any]
    created_at: datetime
    read_at: datetime | None


class OutboxOut(BaseModel):
    id: str
    notification_id: str | None
    channel: str
    recipient: str
    lang: str
    body: str
    status: str
    attempts: int
    provider_ref: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    receipt_at: datetime | None


def note_out(n: Notification, lang: str) -> NotificationOut:
    en = lang == "en"
    return NotificationOut(**n.model_dump(warnings=False), title=n.title_en if en else n.title_zh,
                           body=n.body_en if en else n.body_zh)


@router.get("", response_model=list[NotificationOut], summary="My inbox, newest first")
def inbox(user: CurrentUser, session: SessionDep, unread: bool = False,
          limit: Annotated[int, Query(ge=1, le=200)] = 50,
          offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
          lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh") -> list[NotificationOut]:
    rows = service.inbox(session, actor=user.actor, unread=unread, limit=limit, offset=offset)
    return [note_out(n, lang) for n in rows]


@router.post("/{notification_id}/read", response_model=NotificationOut,
             summary="Mark a message read")
def mark_read(notification_id: str, user: CurrentUser, db: DatabaseDep) -> NotificationOut:
    with UnitOfWork(db, user.actor) as uow:
        note = service.mark_read(uow, actor=user.actor, notification_id=notification_id)
        uow.commit()
    return note_out(note, "zh")


@router.get("/outbox", response_model=list[OutboxOut], dependencies=[require_roles(Role.ADMIN)],
            summary="Outgoing messages and their delivery receipts (admins)")
def outbox(session: SessionDep, status: Annotated[str | None, Query(max_length=12)] = None,
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[OutboxOut]:
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    rows = session.exec(stmt.order_by(col(OutboxMessage.created_at).desc()).limit(limit)).all()
    return [OutboxOut(**m.model_dump(warnings=False)) for m in rows]
