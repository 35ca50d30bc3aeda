"""Notify a customer: an inbox entry (synced to their phone) and an outbox message, in the
caller's transaction; ``deliver`` later hands outbox messages to the ``MessageSender``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from server.customers.models import Account
from server.db import Database
from server.notifications.models import Notification, OutboxMessage
from server.notifications.sender import MessageSender, OutgoingMessage, SendResult
from server.uow import Scope, UnitOfWork
from server.users.models import User
from shared.billing.notices import NoticeKind, render
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor

log = logging.getLogger("gridone.notifications")
MAX_ATTEMPTS = 6


def notify(uow: UnitOfWork, *, account: Account, kind: NoticeKind, params: dict[str, Any],
           dedupe_key: str | None = None, at: datetime | None = None) -> Notification | None:
    """Inbox entry for the account's owner and an SMS to the account's phone (once per
    ``dedupe_key``)."""
    session = uow.session
    if dedupe_key and session.exec(select(Notification.id).where(
            Notification.dedupe_key == dedupe_key)).first():
        return None
    params = {"account_no": account.account_no, **params}
    zh, en = render(kind, "zh", **params), render(kind, "en", **params)
    note = Notification(account_id=account.id, user_id=account.owner_user_id, kind=kind.value,
                        title_zh=zh[0], body_zh=zh[1], title_en=en[0], body_en=en[1],
                        data={k: v for k, v in params.items() if v is not None},
                        dedupe_key=dedupe_key, created_at=at or utcnow())
    uow.changed(note, scope=Scope(None, account.id, account.owner_user_id))
    if account.phone:
        lang = "zh"
        if account.owner_user_id:
            owner = session.get(User, account.owner_user_id)
            lang = "en" if owner is not None and owner.locale.startswith("en") else "zh"
        title, body = en if lang == "en" else zh
        session.add(OutboxMessage(notification_id=note.id, recipient=account.phone, lang=lang,
                                  body=f"[{title}] {body}"[:600]))
    return note


# -- delivery -----------------------------------------------------------------------------
@dataclass
class DeliveryReport:
    sent: int = 0
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(3600, 30 * 2 ** max(0, attempts - 1)))


def deliver(db: Database, sender: MessageSender, *, now: datetime | None = None,
            limit: int = 500) -> DeliveryReport:
    """Send the queued messages that are due; each message in its own transaction."""
    now = now or utcnow()
    report = DeliveryReport()
    with Session(db.reader) as session:
        ids = list(session.exec(select(OutboxMessage.id).where(
            OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
            .order_by(col(OutboxMessage.created_at)).limit(limit)).all())
    for message_id in ids:
        with UnitOfWork(db) as uow:
            msg = uow.session.get(OutboxMessage, message_id, with_for_update=True)
            if msg is None or msg.status != "queued":
                continue
            try:
                result = sender.send(OutgoingMessage(msg.id, msg.channel, msg.recipient,
                                                     msg.body))
            except Exception as exc:  # a gateway's failure must not stop the others
                log.warning("sender %s failed on %s: %s", sender.name, msg.id, exc)
                result = SendResult(accepted=False, error=str(exc)[:300])
            msg.attempts += 1
            if result.accepted:
                msg.status, msg.sent_at = "sent", now
                msg.provider_ref = result.provider_ref
                report.sent += 1
                if result.delivered:
                    msg.status, msg.receipt_at = "delivered", now
                    report.delivered += 1
            elif result.permanent or msg.attempts >= MAX_ATTEMPTS:
                msg.status, msg.last_error = "failed", result.error
                report.failed += 1
                report.errors.append(f"{msg.id}: {result.error}")
            else:
                msg.last_error = result.error
                msg.next_attempt_at = now + backoff(msg.attempts)
                report.retried += 1
            uow.session.add(msg)
            uow.commit()
    return report


def record_receipt(uow: UnitOfWork, *, provider_ref: str, delivered: bool,
                   at: datetime | None = None, error: str | None = None) -> bool:
    """A delivery receipt from the gateway. Repeated receipts change nothing."""
    msg = uow.session.exec(select(OutboxMessage).where(
        OutboxMessage.provider_ref == provider_ref)).first()
    if msg is None or msg.status in ("delivered", "failed"):
        return False
    msg.status = "delivered" if delivered else "failed"
    msg.receipt_at = at or utcnow()
    msg.last_error = error
    uow.session.add(msg)
    return True


# -- the inbox ----------------------------------------------------------------------------
def inbox_clause(actor: Actor) -> Any:
    if actor.role == Role.CUSTOMER:
        return or_(col(Notification.account_id).in_(sorted(actor.account_ids)),
                   col(Notification.user_id) == actor.user_id)
    return Notification.user_id == actor.user_id


def inbox(session: Session, *, actor: Actor, unread: bool = False, limit: int = 50,
          offset: int = 0) -> list[Notification]:
    stmt = select(Notification).where(inbox_clause(actor))
    if unread:
        stmt = stmt.where(col(Notification.read_at).is_(None))
    return list(session.exec(stmt.order_by(col(Notification.created_at).desc())
                             .limit(limit).offset(offset)).all())


def mark_read(uow: UnitOfWork, *, actor: Actor, notification_id: str,
              at: datetime | None = None) -> Notification:
    """Mark one of the actor's own messages read (``at``: when; a ``notification.read@1``
    op passes the device's corrected time). Marking it again changes nothing; someone
    else's message is NOTIFICATION_NOT_FOUND, as a missing one. The row's new version
    reaches the user's other phones with their next pull."""
    note = uow.session.exec(select(Notification).where(
        Notification.id == notification_id, inbox_clause(actor))).first()
    if note is None:
        raise DomainError(ErrorCode.NOTIFICATION_NOT_FOUND, notification=notification_id)
    if note.read_at is None:
        note.read_at = at or utcnow()
        note.version += 1
        uow.changed(note, scope=Scope(None, note.account_id, note.user_id))
    return note
