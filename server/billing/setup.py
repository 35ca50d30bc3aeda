"""Wiring of the prepaid side into the app, and the periodic tick.

``install(app, settings)`` puts the counterparts on ``app.state`` — the message sender
(built-in: the log), the metering head-end (simulated), the payment provider (sandbox) and
the keys their signatures use — and adds the routers. ``Services`` bundles the same for
the ``gridone`` commands, and ``tick`` does what a scheduler runs every minute or so:
deliver messages, (re)send meter commands, deliver the head-end's acknowledgements and the
provider's notifications, credit orders left paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI

from server.billing.router import router as billing_router
from server.billing.signing import derive_key
from server.config import Settings
from server.db import Database
from server.meter_commands import service as commands
from server.meter_commands.headend import SimulatedHeadEnd, signed_ack
from server.meter_commands.router import router as commands_router
from server.notifications import service as notifications
from server.notifications.router import router as notifications_router
from server.notifications.sender import LogSender, MessageSender
from server.payments import service as payments
from server.payments.router import router as payments_router
from server.payments.router import sandbox_router
from server.payments.sandbox import SandboxProvider
from shared.errors import DomainError
from shared.timeutil import utcnow


@dataclass
class Services:
    db: Database
    payment_key: bytes
    headend_key: bytes
    sender: MessageSender = field(default_factory=LogSender)
    headend: SimulatedHeadEnd = field(default_factory=SimulatedHeadEnd)
    provider: Any = None

    @classmethod
    def build(cls, db: Database, secret: str) -> Services:
        services = cls(db, derive_key(secret, "payment-provider"), derive_key(secret, "head-end"))
        services.provider = SandboxProvider(db, services.payment_key)
        return services


def install(app: FastAPI, settings: Settings) -> None:
    services = Services.build(app.state.db, app.state.secret_key)
    app.state.billing = services
    app.state.payment_key = services.payment_key
    app.state.headend_key = services.headend_key
    app.state.message_sender = services.sender
    app.state.meter_gateway = services.headend
    app.state.payment_provider = services.provider
    for router in (billing_router, payments_router, notifications_router, commands_router):
        app.include_router(router)
    if settings.env != "production":
        app.include_router(sandbox_router)


@dataclass
class TickReport:
    messages: dict[str, int]
    commands_sent: int
    commands_failed: int
    acks: dict[str, int]
    provider_notifications: int
    orders_credited: int


def tick(services: Services, *, now: datetime | None = None) -> TickReport:
    now = now or utcnow()
    delivered = notifications.deliver(services.db, services.sender, now=now)
    sent = commands.send_due(services.db, services.headend, now=now)
    verdicts: dict[str, int] = {}
    for ack in services.headend.take_acks():
        body, signature = signed_ack(services.headend_key, ack, now)
        try:
            verdict = commands.handle_ack(services.db, key=services.headend_key, body=body,
                                          signature=signature, now=now)
        except DomainError as exc:
            verdict = exc.code.value
        verdicts[verdict] = verdicts.get(verdict, 0) + 1

    def send(body: bytes, signature: str) -> bool:
        try:
            payments.handle_callback(services.db, key=services.payment_key, body=body,
                                     signature=signature, now=now)
        except DomainError:
            return False
        return True

    notified = services.provider.deliver(send, now=now) if services.provider else 0
    credited = payments.credit_paid(services.db, now=now)
    return TickReport({"sent": delivered.sent, "delivered": delivered.delivered,
                       "retried": delivered.retried, "failed": delivered.failed},
                      sent.sent, sent.failed, verdicts, notified, credited)
