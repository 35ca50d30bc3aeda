"""A sandbox payment provider that behaves like a real one.

* ``create`` registers a payment (idempotent per merchant order) and returns the URL of
  the provider's own payment page, where the payer approves or declines.
* It notifies the merchant with HMAC-signed callbacks (``server.billing.signing``):
  a ``pending`` event when the payment is created, then ``paid`` or ``declined``.
* Like real providers it repeats notifications (``repeats`` extra deliveries each), sends
  them late (the ``pending`` one only after a delay, so it arrives after ``paid``) and in
  no particular order (due events are delivered shuffled).

Its records (``sandbox_payment``, ``sandbox_event``) are the provider's, kept apart from
the merchant's and written in the provider's own transactions.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from server.billing.signing import sign
from server.db import Database
from server.payments.models import SandboxEvent, SandboxPayment
from server.payments.service import ProviderPayment
from shared.timeutil import utcnow

PAY_PATH = "/sandbox/pay"
#: The deliverer (``send``) returns True when the merchant answered 2xx.
Send = Callable[[bytes, str], bool]


class SandboxProvider:
    name = "sandbox"

    def __init__(self, db: Database, key: bytes, *, repeats: int = 2,
                 late_after: timedelta = timedelta(seconds=30), seed: int | None = None
                 ) -> None:
        self.db, self.key, self.repeats, self.late_after = db, key, repeats, late_after
        self._rng = random.Random(seed)

    # -- the provider's API ---------------------------------------------------------------
    def create(self, *, order_id: str, amount_fen: int) -> ProviderPayment:
        now = utcnow()
        with Session(self.db.writer) as s:
            pay = s.exec(select(SandboxPayment).where(
                SandboxPayment.merchant_order_id == order_id)).first()
            if pay is None:
                pay = SandboxPayment(txn_id="SBX" + secrets.token_hex(10),
                                     merchant_order_id=order_id, amount_fen=amount_fen)
                s.add(pay)
                s.flush()
                self._event(s, pay, "pending", now, first_at=now + self.late_after)
                s.commit()
            return ProviderPayment(pay.txn_id, f"{PAY_PATH}/{pay.txn_id}")

    def get(self, txn_id: str) -> SandboxPayment | None:
        with Session(self.db.reader) as s:
            return s.get(SandboxPayment, txn_id)

    def decide(self, txn_id: str, *, approve: bool, now: datetime | None = None
               ) -> SandboxPayment | None:
        """The payer approved or declined on the payment page (a second click: no-op)."""
        now = now or utcnow()
        with Session(self.db.writer, expire_on_commit=False) as s:
            pay = s.get(SandboxPayment, txn_id, with_for_update=True)
            if pay is None or pay.status != "created":
                return pay
            pay.status, pay.decided_at = ("paid" if approve else "declined"), now
            s.add(pay)
            self._event(s, pay, pay.status, now, first_at=now)
            s.commit()
            return pay

    def _event(self, s: Session, pay: SandboxPayment, status: str, now: datetime, *,
               first_at: datetime) -> SandboxEvent:
        pay.event_seq += 1
        body = {"event_id": "EVT" + secrets.token_hex(12), "seq": pay.event_seq,
                "order_id": pay.merchant_order_id, "txn_id": pay.txn_id, "status": status,
                "amount_fen": pay.amount_fen, "currency": "CNY",
                "occurred_at": now.isoformat()}
        raw = json.dumps(body, separators=(",", ":"), sort_keys=True)
        event = SandboxEvent(id=str(body["event_id"]), txn_id=pay.txn_id, seq=pay.event_seq,
                             body=raw, signature="", deliveries_left=1 + self.repeats,
                             next_delivery_at=first_at)
        s.add(pay)
        s.add(event)
        return event

    # -- notifying the merchant -------------------------------------------------------------
    def signed(self, event: SandboxEvent, at: datetime | None = None) -> tuple[bytes, str]:
        body = event.body.encode()
        return body, sign(self.key, body, at or utcnow())

    def events(self, txn_id: str) -> list[SandboxEvent]:
        with Session(self.db.reader) as s:
            return list(s.exec(select(SandboxEvent).where(SandboxEvent.txn_id == txn_id)
                               .order_by(col(SandboxEvent.seq))).all())

    def deliver(self, send: Send, *, now: datetime | None = None, txn_id: str | None = None,
                limit: int = 200) -> int:
        """Deliver due notifications, shuffled; each is re-sent until its deliveries are
        used up (repeats happen even after a 2xx, as with real providers)."""
        now = now or utcnow()
        with Session(self.db.reader) as s:
            stmt = select(SandboxEvent.id).where(SandboxEvent.deliveries_left > 0,
                                                 col(SandboxEvent.next_delivery_at) <= now)
            if txn_id:
                stmt = stmt.where(SandboxEvent.txn_id == txn_id)
            ids = list(s.exec(stmt.limit(limit)).all())
        self._rng.shuffle(ids)
        done = 0
        for event_id in ids:
            with Session(self.db.reader) as s:
                event = s.get(SandboxEvent, event_id)
            if event is None:
                continue
            body, signature = self.signed(event, now)
            try:  # no transaction of ours is open while the merchant handles it
                ok = send(body, signature)
            except Exception:  # the merchant being down is the merchant's problem
                ok = False
            with Session(self.db.writer) as s:
                event = s.get(SandboxEvent, event_id, with_for_update=True)
                assert event is not None
                event.signature = signature
                if ok:
                    event.deliveries_left -= 1
                    event.delivered += 1
                    done += 1
                delay = self.late_after * (1 + self._rng.random()) * (event.delivered or 1)
                event.next_delivery_at = now + delay
                s.add(event)
                s.commit()
        return done
