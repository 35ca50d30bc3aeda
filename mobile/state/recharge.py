"""Online recharge: pick an amount, create the payment order (needs a connection: it is
not a sync op), pay on the provider's page, watch pending -> paid -> credited, receipt.

The idempotency key is made once per amount the customer confirms: pressing "Pay" again
(a lost answer, a double tap) returns the same order, never a second one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.services.backend import Backend
from mobile.state.common import off_loop
from shared.billing.ledger import RECHARGE_MAX_FEN, RECHARGE_MIN_FEN, check_recharge_amount
from shared.errors import DomainError, ErrorCode
from shared.ids import new_id
from shared.money import yuan_to_fen
from sync.client.errors import AuthRequired, PermanentError, TransientError

PRESETS_YUAN = (50, 100, 200, 500)
#: edit -> creating -> pending -> paid -> credited (or declined); offline: needs a connection
_AMOUNT_CODE = ErrorCode.BILLING_AMOUNT_INVALID
PHASES = ("edit", "creating", "pending", "paid", "credited", "declined", "offline")


def parse_amount(text: str) -> int:
    """Yuan as typed -> integer fen in the recharge range (raises DomainError)."""
    try:
        fen = yuan_to_fen(text.strip().replace(",", "").replace("¥", ""))
    except ValueError:
        raise DomainError(_AMOUNT_CODE, amount=text) from None
    return check_recharge_amount(fen)


@ft.observable
@dataclass
class RechargeState:
    backend: Backend
    account_id: str
    amount_text: str = ""
    error: str = ""  # a message key (amount_invalid, needs_connection) or the server's text
    phase: str = "edit"
    order: dict[str, Any] | None = None
    receipt: dict[str, Any] | None = None
    key: str = ""
    _key_for: int = 0
    polls: int = field(default=0)

    @property
    def min_yuan(self) -> int:
        return RECHARGE_MIN_FEN // 100

    @property
    def max_yuan(self) -> int:
        return RECHARGE_MAX_FEN // 100

    def set_amount(self, text: str) -> None:
        self.amount_text = text
        self.error = ""

    def amount_fen(self) -> int | None:
        try:
            return parse_amount(self.amount_text)
        except DomainError:
            return None

    def pay_url(self, server_url: str) -> str | None:
        url = (self.order or {}).get("pay_url")
        if not url:
            return None
        return url if "://" in url else server_url.rstrip("/") + url

    async def submit(self) -> None:
        fen = self.amount_fen()
        if fen is None:
            self.error = "amount_invalid"
            return
        if fen != self._key_for or not self.key:
            self.key, self._key_for = f"app-{new_id()}", fen
        self.phase, self.error = "creating", ""
        try:
            order = await off_loop(lambda: self.backend.create_payment_order(
                account_id=self.account_id, amount_fen=fen, idempotency_key=self.key))
        except TransientError:
            self.phase, self.error = "offline", "needs_connection"
            return
        except (PermanentError, AuthRequired) as exc:
            self.phase, self.error = "edit", exc.message
            return
        self._take(order)

    def _take(self, order: dict[str, Any]) -> None:
        self.order = order
        status = str(order.get("status") or "pending")
        self.phase = status if status in PHASES else "pending"

    async def poll(self) -> None:
        """Ask the server once how the order stands (the screen calls this every second
        or two while it is pending or paid); fetch the receipt once credited."""
        if self.order is None or self.phase not in ("pending", "paid", "offline"):
            return
        self.polls += 1
        try:
            order = await off_loop(self.backend.payment_order, str(self.order["id"]))
            self._take(order)
            if self.phase == "credited" and self.receipt is None:
                self.receipt = await off_loop(self.backend.payment_receipt, str(order["id"]))
        except TransientError:
            self.phase, self.error = "offline", "needs_connection"
        except (PermanentError, AuthRequired) as exc:
            self.error = exc.message
        else:
            if self.error == "needs_connection":
                self.error = ""

    def again(self) -> None:
        self.phase, self.order, self.receipt, self.error, self.key = "edit", None, None, "", ""
        self.amount_text = ""
