"""An agent's end-of-day cash hand-over at the station counter (issue 15): the counter
counts the paper receipts and the cash and enters what it counted; the rule compares that
with the receipts recorded for the day. Equal: confirmed. Different: refused, unless a
note explains the difference — then it is confirmed *with a discrepancy* (both figures
kept). The office's form and the server decide with this same function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.errors import DomainError, ErrorCode
from shared.money import format_fen

NOTE_MIN, NOTE_MAX = 4, 200


@dataclass(frozen=True)
class Tally:
    """A number of receipts and their total."""

    receipts: int
    total_fen: int


@dataclass(frozen=True)
class HandoverDecision:
    recorded: Tally
    counted: Tally
    note: str | None

    @property
    def discrepancy(self) -> bool:
        return self.counted != self.recorded

    @property
    def difference_fen(self) -> int:
        """Counted minus recorded (negative: cash short)."""
        return self.counted.total_fen - self.recorded.total_fen


def signed_fen(fen: int) -> str:
    return ("+" if fen > 0 else "") + format_fen(fen)


def clean_note(note: str | None) -> str | None:
    return " ".join((note or "").split()) or None


def decide_handover(*, day: date, recorded: Tally, counted: Tally, note: str | None
                    ) -> HandoverDecision:
    """The hand-over to confirm, or a coded refusal: HANDOVER_NOTHING_RECORDED (no cash
    that day), HANDOVER_NOTE_REQUIRED (the count differs and no note of
    ``NOTE_MIN``–``NOTE_MAX`` characters explains it)."""
    if recorded.receipts == 0:
        raise DomainError(ErrorCode.HANDOVER_NOTHING_RECORDED, day=day.isoformat())
    text = clean_note(note)
    decision = HandoverDecision(recorded, counted, text)
    if decision.discrepancy and (text is None or not NOTE_MIN <= len(text) <= NOTE_MAX):
        raise DomainError(
            ErrorCode.HANDOVER_NOTE_REQUIRED, recorded_count=recorded.receipts,
            recorded_total=format_fen(recorded.total_fen), counted_count=counted.receipts,
            counted_total=format_fen(counted.total_fen),
            difference=signed_fen(decision.difference_fen), min=NOTE_MIN, max=NOTE_MAX)
    return decision
