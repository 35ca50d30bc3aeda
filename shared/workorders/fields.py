"""What a work-order action's fields must hold: limits and checks, in one place.

The decision (``shared.workorders.rules.decide``) checks an action's fields with these;
the server's request schemas take their limits from here, and the phone shows the same
refusals before anything is queued. A refusal is a ``DomainError`` whose ``details``
name the ``field`` it is about, so a form can show it beside that field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shared.errors import DomainError, ErrorCode
from shared.text import TextError, clean_line, clean_paragraphs

#: Free text: notes, resolutions, fault descriptions.
MAX_TEXT = 2000
#: A reason (decline, help, cancel, reassign, reopen).
MAX_REASON = 500
MAX_CAUSE = 200
MAX_CAPTION = 200
MAX_COMMENT = 500
#: GPS fixes with an accuracy radius beyond this are refused (not a position at all).
GPS_MAX_ACCURACY_M = 5000
#: GPS fixes worse than this are kept but marked poor.
GPS_POOR_M = 100.0
RATING_MIN, RATING_MAX = 1, 5


def _clean(value: str, *, field: str, one_line: bool) -> str:
    """Typed text made safe by the one text rule (``shared.text``: control characters
    refused, invisible format characters removed, NFC, stripped)."""
    try:
        return clean_line(value) if one_line else clean_paragraphs(value)
    except TextError as exc:
        raise DomainError(ErrorCode.VALIDATION_ERROR, field=field,
                          summary=f"{field}: {exc}") from None


def required_text(value: Any, *, field: str, code: ErrorCode, limit: int,
                  one_line: bool = False) -> str:
    """Cleaned text, refused with ``code`` when empty and VALIDATION_ERROR when longer
    than ``limit`` characters."""
    text = _clean(value, field=field, one_line=one_line) if isinstance(value, str) else ""
    if not text:
        raise DomainError(code, field=field)
    return _within(text, field=field, limit=limit)


def optional_text(value: Any, *, field: str, limit: int, one_line: bool = False
                  ) -> str | None:
    """Cleaned text or None (empty); VALIDATION_ERROR when longer than ``limit``."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise DomainError(ErrorCode.VALIDATION_ERROR, field=field, summary=f"{field}: text")
    text = _clean(value, field=field, one_line=one_line)
    return _within(text, field=field, limit=limit) or None


def _within(text: str, *, field: str, limit: int) -> str:
    if len(text) > limit:
        raise DomainError(ErrorCode.VALIDATION_ERROR, field=field,
                          summary=f"{field}: at most {limit} characters")
    return text


def reason(data: Mapping[str, Any]) -> str:
    return required_text(data.get("reason"), field="reason", code=ErrorCode.WO_REASON_REQUIRED,
                         limit=MAX_REASON)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not finite")
    return number


def check_gps(gps: Any, *, field: str = "gps") -> dict[str, float] | None:
    """A GPS fix ``{lat, lon, accuracy_m}`` as floats, or None (a position entered by hand).
    Refused: anything else, or a value out of range (accuracy beyond
    ``GPS_MAX_ACCURACY_M``)."""
    if gps is None:
        return None
    try:
        lat, lon, acc = (_number(gps["lat"]), _number(gps["lon"]), _number(gps["accuracy_m"]))
    except (KeyError, TypeError, ValueError):
        raise DomainError(ErrorCode.WO_GPS_INVALID, field=field,
                          max_accuracy=GPS_MAX_ACCURACY_M) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= acc <= GPS_MAX_ACCURACY_M):
        raise DomainError(ErrorCode.WO_GPS_INVALID, field=field, max_accuracy=GPS_MAX_ACCURACY_M)
    return {"lat": lat, "lon": lon, "accuracy_m": acc}


def gps_quality(accuracy_m: float) -> str:
    """``good``, or ``poor`` for a fix kept but not to be trusted to the metre."""
    return "good" if accuracy_m <= GPS_POOR_M else "poor"


def check_rating(rating: Any, *, required: bool) -> int | None:
    """A whole number 1-5; None only when not ``required`` (office confirming for a
    customer)."""
    if rating is None and not required:
        return None
    if isinstance(rating, bool) or not isinstance(rating, int) or not (
            RATING_MIN <= rating <= RATING_MAX):
        raise DomainError(ErrorCode.WO_RATING_INVALID, field="rating")
    return rating
