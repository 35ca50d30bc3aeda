"""Ledger rules: kinds of entries, amount limits, receipts, reasons, purchase counts.

The ledger of an account is append-only; its balance is the sum of its entries' signed
amounts (fen). Credits are positive (recharges, a correction or a settled discrepancy in
the customer's favour), debits negative (usage, refunds paid out, a correction or a
settled discrepancy against the customer). A meter swap moves no money: its entry
(``swap_carry_over``, amount 0) records which meter holds the balance from then on.
"""

from __future__ import annotations

import re
from enum import StrEnum

from shared.errors import DomainError, ErrorCode


class EntryKind(StrEnum):
    USAGE_CHARGE = "usage_charge"  # daily charge from readings, and its re-ratings
    RECHARGE_ONLINE = "recharge_online"  # paid through the payment provider
    RECHARGE_CASH = "recharge_cash"  # cash taken by an agent, with a paper receipt
    SWAP_CARRY_OVER = "swap_carry_over"  # remaining balance moved between meters at a swap
    CORRECTION = "correction"  # by an agent or manager, with a reason
    REFUND = "refund"  # money paid back to the customer (manager)
    OPENING_BALANCE = "opening_balance"  # the balance an account had before its ledger
    ADJUSTMENT = "adjustment"  # a balance discrepancy found at a swap, settled by the office


#: Kinds that count as a purchase (购电) and advance the meter's purchase count.

RECHARGE_MIN_FEN = 100  # 1 yuan
RECHARGE_MAX_FEN = 500_000  # 5,000 yuan per recharge
CORRECTION_MAX_FEN = 1_000_000  # 10,000 yuan either way
REASON_MAX = 500
RECEIPT_RE = re.compile(r"^[A-Za-z0-9-]{6,32}\Z")
PURCHASE_COUNT_MAX = 65_535  # a two-byte counter on the meter


def check_recharge_amount(amount_fen: object) -> int:
    """A recharge is a whole number of fen within [1, 5,000] yuan."""
    if (not isinstance(amount_fen, int) or isinstance(amount_fen, bool)
            or not RECHARGE_MIN_FEN <= amount_fen <= RECHARGE_MAX_FEN):
        raise DomainError(ErrorCode.BILLING_AMOUNT_INVALID, amount=str(amount_fen),
                          min=RECHARGE_MIN_FEN // 100, max=RECHARGE_MAX_FEN // 100)
    return amount_fen


def check_correction_amount(amount_fen: object) -> int:
    """A correction is non-zero and at most 10,000 yuan either way."""
    if (not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen == 0
            or abs(amount_fen) > CORRECTION_MAX_FEN):
        raise DomainError(ErrorCode.BILLING_CORRECTION_INVALID, amount=str(amount_fen),
                          max=CORRECTION_MAX_FEN // 100)
    return amount_fen


def check_reason(reason: object) -> str:
    text = str(reason or "").strip()
    if not text:
        raise DomainError(ErrorCode.WO_REASON_REQUIRED)
    if len(text) > REASON_MAX:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary=f"reason: at most {REASON_MAX}")
    return text


def check_receipt_no(receipt_no: object) -> str:
    text = str(receipt_no or "").strip()
    if not RECEIPT_RE.match(text):
        raise DomainError(ErrorCode.CASH_RECEIPT_INVALID, receipt_no=str(receipt_no))
    return text


def check_purchase_count(value: object) -> int:
    if (not isinstance(value, int) or isinstance(value, bool)
            or not 0 <= value <= PURCHASE_COUNT_MAX):
        raise DomainError(ErrorCode.PURCHASE_COUNT_INVALID, value=str(value),
                          max=PURCHASE_COUNT_MAX)
    return value
