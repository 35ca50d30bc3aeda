"""The message sender interface, and the built-in sender (the log).

A real SMS gateway implements ``MessageSender.send``: it accepts a message (returning
the gateway's reference) or refuses it (transient: retried with backoff; permanent:
failed). Delivery receipts arrive later and are recorded with
``server.notifications.service.record_receipt`` (by the gateway's reference). The
built-in ``LogSender`` writes each message to the log and reports it delivered at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("gridone.messages")


@dataclass(frozen=True)
class OutgoingMessage:
    id: str
    channel: str
    recipient: str
    body: str


@dataclass(frozen=True)
class SendResult:
    accepted: bool
    provider_ref: str | None = None
    error: str | None = None
    permanent: bool = False  # a refusal that retrying cannot fix (e.g. a bad number)
    delivered: bool = False  # the receipt came with the answer


class MessageSender(Protocol):
    name: str

    def send(self, message: OutgoingMessage) -> SendResult: ...


def mask_phone(number: str) -> str:
    return number[:3] + "****" + number[-4:] if len(number) >= 8 else "****"


class LogSender:
    """Writes messages to the log; every message is delivered, receipt at once."""

    name = "log"

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    def send(self, message: OutgoingMessage) -> SendResult:
        log.info("%s to %s: %s", message.channel, mask_phone(message.recipient), message.body)
        self.sent.append(message)
        return SendResult(accepted=True, provider_ref=f"log-{message.id}", delivered=True)
