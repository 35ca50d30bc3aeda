"""The finding of a usage-inspection job, checked the same way on the phone (offline) and
the server.

A crew sent by the monitoring loop records what it found: the meter is fine, the meter is
faulty, tampering (a bypass, a broken seal), a wiring or mapping error (the customer hangs
on another transformer than the register says), or nothing found; the register reading
and the load measured with a clamp meter; photos (by SHA-256); a note. Tampering needs a
photo, and every outcome but "meter OK" / "nothing found" a note saying what was seen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from shared.enums import WorkOrderKind
from shared.errors import DomainError, ErrorCode
from shared.ids import is_uuid
from shared.meter_rules import SHA256_RE, validate_reading
from shared.workorders.rules import Decision, JobState, decide
from shared.workorders.state_machine import Action, Actor

MAX_PHOTOS = 10
MAX_NOTE = 2000
MAX_LOAD_KW = Decimal("10000")


class FindingOutcome(StrEnum):
    METER_OK = "meter_ok"
    METER_FAULT = "meter_fault"
    TAMPERING = "tampering"
    WIRING_OR_MAPPING = "wiring_or_mapping"
    NOTHING_FOUND = "nothing_found"


#: What the job's resolution says of each outcome (Chinese, English).
OUTCOME_TEXT = {
    FindingOutcome.METER_OK: ("电表正常", "meter OK"),
    FindingOutcome.METER_FAULT: ("电表故障", "meter fault"),
    FindingOutcome.TAMPERING: ("发现窃电/私改计量", "tampering found"),
    FindingOutcome.WIRING_OR_MAPPING: ("接线或户变关系错误", "wiring or mapping error"),
    FindingOutcome.NOTHING_FOUND: ("未发现异常", "nothing found"),
}

#: Outcomes that must say in a note what was seen.
NOTE_REQUIRED = frozenset({FindingOutcome.METER_FAULT, FindingOutcome.TAMPERING,
                           FindingOutcome.WIRING_OR_MAPPING})


@dataclass(frozen=True)
class Finding:
    outcome: FindingOutcome
    register_kwh: Decimal | None
    measured_load_kw: Decimal | None
    photos: tuple[str, ...]
    note: str
    correct_area_id: str | None  # wiring_or_mapping: the area the customer is really on

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome.value,
                "register_kwh": None if self.register_kwh is None else str(self.register_kwh),
                "measured_load_kw": (None if self.measured_load_kw is None
                                     else str(self.measured_load_kw)),
                "photos": list(self.photos), "note": self.note,
                "correct_area_id": self.correct_area_id}


def _bad(field: str, problem: str) -> DomainError:
    return DomainError(ErrorCode.FINDING_FIELD_INVALID, field=field, problem=problem)


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(field, "a decimal number as text, e.g. \"1234.56\"")
    try:
        out = Decimal(str(value).strip())
    except InvalidOperation:
        raise _bad(field, f"not a number: {str(value)[:40]!r}") from None
    if not out.is_finite() or out != out.quantize(Decimal("0.01")):
        raise _bad(field, "a number with at most two decimals")
    return out


def validate_finding(data: dict[str, Any]) -> Finding:
    """The finding in ``data`` (a form or op payload), or a coded refusal."""
    try:
        outcome = FindingOutcome(str(data.get("outcome") or ""))
    except ValueError:
        raise _bad("outcome", "one of " + ", ".join(o.value for o in FindingOutcome)) from None
    register = _decimal(data.get("register_kwh"), "register_kwh")
    if register is not None:
        validate_reading(register)  # negative, beyond the register
    load = _decimal(data.get("measured_load_kw"), "measured_load_kw")
    if load is not None and not Decimal(0) <= load <= MAX_LOAD_KW:
        raise _bad("measured_load_kw", f"from 0 to {MAX_LOAD_KW} kW")
    photos = data.get("photos") or []
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS or not all(
            isinstance(p, str) and SHA256_RE.match(p) for p in photos):
        raise _bad("photos", f"at most {MAX_PHOTOS} SHA-256 hashes (64 lowercase hex)")
    note = data.get("note") or ""
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise _bad("note", f"text of at most {MAX_NOTE} characters")
    note = note.strip()
    area = data.get("correct_area_id") or None
    if area is not None and (not isinstance(area, str) or not is_uuid(area)):
        raise _bad("correct_area_id", "the id of a transformer area")
    if area is not None and outcome != FindingOutcome.WIRING_OR_MAPPING:
        raise _bad("correct_area_id", "only with a wiring or mapping error")
    if outcome in NOTE_REQUIRED and not note:
        raise DomainError(ErrorCode.FINDING_NOTE_REQUIRED, outcome=outcome.value)
    if outcome == FindingOutcome.TAMPERING and not photos:
        raise DomainError(ErrorCode.FINDING_PHOTO_REQUIRED)
    return Finding(outcome, register, load, tuple(dict.fromkeys(photos)), note, area)


def resolve_fields(finding: Finding) -> dict[str, Any]:
    """The ``resolve`` a finding makes of its job: the outcome in words, and the cause."""
    zh, en = OUTCOME_TEXT[finding.outcome]
    note = f"{finding.note}" if finding.note else ""
    return {"resolution": f"检查结果：{zh}。{note}\nFinding: {en}."[:2000],
            "cause": f"inspection:{finding.outcome.value}"}


def decide_finding(state: JobState, actor: Actor | None, data: Mapping[str, Any],
                   at: datetime) -> tuple[Finding, Decision]:
    """Recording a finding on a job, decided: the finding checked, the job's kind, then the
    state machine's ``resolve`` (the assignee, on site). The server's service and the
    phone (its action and its overlay of a pending finding) call this same function."""
    finding = validate_finding(dict(data))
    if state.kind != WorkOrderKind.USAGE_INSPECTION:
        raise DomainError(ErrorCode.FINDING_WRONG_KIND)
    return finding, decide(state, actor, Action.RESOLVE, resolve_fields(finding), at)
