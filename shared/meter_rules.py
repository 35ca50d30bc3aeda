"""Meter-reading and meter-swap rules, run identically on the phone (offline) and server.

Readings are kWh with two decimals (``Decimal``); storage uses integer hundredths
(``kwh_to_centi``). Money is integer fen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from shared.enums import MeterStatus
from shared.errors import DomainError, ErrorCode, FieldErrors
from shared.timeutil import ensure_aware

#: A six-digit register with two decimals.
READING_MAX = Decimal("999999.99")
#: More than this many kWh a day on average since the last reading is implausible.
MAX_DAILY_KWH = Decimal("2000")
#: A newly installed meter's start reading is small: factory test registrations only.
NEW_START_MAX = Decimal("10.00")
#: Remaining balance on a meter at a swap, in fen: overdraft down to -1,000 yuan,
#: up to 100,000 yuan prepaid.
BALANCE_MIN_FEN = -100_000
BALANCE_MAX_FEN = 10_000_000
#: ASCII digits only, and ``\Z`` (not ``$``, which also matches before a trailing newline).
CARD_RE = re.compile(r"^[0-9]{8,20}\Z")
SEAL_RE = re.compile(r"^[A-Za-z0-9-]{4,24}\Z")
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
MAX_SEALS = 6
_CLOCK_SLACK = timedelta(minutes=10)


def kwh_to_centi(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def centi_to_kwh(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def validate_reading(
    value: Decimal, *, last: Decimal | None = None, last_at: datetime | None = None,
    at: datetime | None = None, now: datetime | None = None,
    max_daily: Decimal = MAX_DAILY_KWH,
) -> None:
    """Raise a ``DomainError`` when a register reading cannot be right."""
    if value < 0:
        raise DomainError(ErrorCode.READING_NEGATIVE, value=str(value))
    if value > READING_MAX:
        raise DomainError(ErrorCode.READING_TOO_LARGE, value=str(value), max=str(READING_MAX))
    if at is not None and now is not None and ensure_aware(at) > ensure_aware(now) + _CLOCK_SLACK:
        raise DomainError(ErrorCode.READING_IN_FUTURE)
    if last is None:
        return
    if value < last:
        raise DomainError(ErrorCode.READING_BELOW_LAST, value=str(value), last=str(last))
    if last_at is not None and at is not None:
        days = max(Decimal((ensure_aware(at) - ensure_aware(last_at)).total_seconds()) / 86400,
                   Decimal(1))
        per_day = (value - last) / days
        if per_day > max_daily:
            raise DomainError(ErrorCode.READING_IMPLAUSIBLE_JUMP, delta=str(value - last),
                              per_day=str(per_day.quantize(Decimal("0.1"))))


@dataclass(frozen=True)
class SwapDraft:
    """What the meter technician enters for a swap."""

    old_meter_no: str
    old_final_kwh: Decimal
    old_remaining_fen: int
    new_meter_no: str
    new_start_kwh: Decimal
    new_card_no: str
    seal_numbers: tuple[str, ...] = ()
    old_face_photo: str | None = None  # SHA-256 of the photo
    new_face_photo: str | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class SwapContext:
    """What is known about the job and the meters where the check runs.

    ``new_meter_status`` is ``None`` when the register has no such meter. On the phone,
    ``register_complete`` is False when the number was typed by hand and is not in the
    register downloaded for the job: the phone then leaves that check to the server.
    """

    job_meter_no: str
    last_reading_kwh: Decimal | None
    last_reading_at: datetime | None
    new_meter_status: MeterStatus | None
    register_complete: bool = True
    now: datetime | None = None
    limits: dict[str, object] = field(default_factory=dict)


def swap_problems(draft: SwapDraft, ctx: SwapContext) -> dict[str, DomainError]:
    """Every problem with a swap draft, by form field (empty when it is valid)."""
    problems: dict[str, DomainError] = {}
    if draft.old_meter_no.strip() != ctx.job_meter_no:
        problems["old_meter_no"] = DomainError(
            ErrorCode.SWAP_OLD_METER_MISMATCH, given=draft.old_meter_no,
            expected=ctx.job_meter_no)
    try:
        validate_reading(draft.old_final_kwh, last=ctx.last_reading_kwh,
                         last_at=ctx.last_reading_at, at=draft.recorded_at, now=ctx.now)
    except DomainError as exc:
        problems["old_final_kwh"] = exc
    if not BALANCE_MIN_FEN <= draft.old_remaining_fen <= BALANCE_MAX_FEN:
        problems["old_remaining_fen"] = DomainError(
            ErrorCode.SWAP_BALANCE_ABSURD, min=BALANCE_MIN_FEN // 100, max=BALANCE_MAX_FEN // 100)
    new_no = draft.new_meter_no.strip()
    if new_no == draft.old_meter_no.strip() or new_no == ctx.job_meter_no:
        problems["new_meter_no"] = DomainError(ErrorCode.SWAP_NEW_METER_SAME)
    elif ctx.new_meter_status is None:
        if ctx.register_complete:
            problems["new_meter_no"] = DomainError(ErrorCode.SWAP_NEW_METER_UNKNOWN, meter=new_no)
    elif ctx.new_meter_status != MeterStatus.IN_STOCK:
        problems["new_meter_no"] = DomainError(
            ErrorCode.SWAP_NEW_METER_NOT_IN_STOCK, meter=new_no,
            status=ctx.new_meter_status.value)
    if draft.new_start_kwh < 0 or draft.new_start_kwh > NEW_START_MAX:
        problems["new_start_kwh"] = DomainError(ErrorCode.SWAP_NEW_START_TOO_HIGH,
                                                max=str(NEW_START_MAX))
    if not CARD_RE.match(draft.new_card_no):
        problems["new_card_no"] = DomainError(ErrorCode.SWAP_CARD_INVALID, min_len=8, max_len=20)
    bad_seals = [s for s in draft.seal_numbers if not SEAL_RE.match(s)]
    if bad_seals or len(draft.seal_numbers) > MAX_SEALS:
        problems["seal_numbers"] = DomainError(ErrorCode.SWAP_SEAL_INVALID,
                                               seal=", ".join(bad_seals) or "too many")
    photos = (draft.old_face_photo, draft.new_face_photo)
    if not all(p and SHA256_RE.match(p) for p in photos):
        problems["photos"] = DomainError(ErrorCode.SWAP_PHOTOS_REQUIRED)
    return problems


def validate_swap(draft: SwapDraft, ctx: SwapContext) -> None:
    """Raise ``FieldErrors`` with every problem of the draft at once."""
    problems = swap_problems(draft, ctx)
    if problems:
        raise FieldErrors(problems)
