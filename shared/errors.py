"""The domain's error tree.

Every refusal the domain can make is a ``DomainError`` carrying a stable machine ``code``
(an ``ErrorCode``) and ``details`` used to fill in the message. Messages in Simplified
Chinese and English live in ``shared.messages``; the code never changes once released.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # -- generic request problems
    VALIDATION_ERROR = "VALIDATION_ERROR"
    MALFORMED_JSON = "MALFORMED_JSON"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VERSION_CONFLICT = "VERSION_CONFLICT"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # -- authentication and authorisation
    AUTH_REQUIRED = "AUTH_REQUIRED"
    AUTH_INVALID_CREDENTIALS = "AUTH_INVALID_CREDENTIALS"
    AUTH_TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"
    AUTH_TOKEN_INVALID = "AUTH_TOKEN_INVALID"
    AUTH_REFRESH_REUSED = "AUTH_REFRESH_REUSED"
    AUTH_USER_DISABLED = "AUTH_USER_DISABLED"
    FORBIDDEN = "FORBIDDEN"
    # -- lookups
    ACCOUNT_NOT_FOUND = "ACCOUNT_NOT_FOUND"
    METER_NOT_FOUND = "METER_NOT_FOUND"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    WORK_ORDER_NOT_FOUND = "WORK_ORDER_NOT_FOUND"
    STATION_NOT_FOUND = "STATION_NOT_FOUND"
    # -- work orders
    WO_TRANSITION_NOT_ALLOWED = "WO_TRANSITION_NOT_ALLOWED"
    WO_ROLE_NOT_ALLOWED = "WO_ROLE_NOT_ALLOWED"
    WO_NOT_ASSIGNEE = "WO_NOT_ASSIGNEE"
    WO_NOT_OWNER = "WO_NOT_OWNER"
    WO_REASON_REQUIRED = "WO_REASON_REQUIRED"
    WO_ASSIGNEE_INVALID = "WO_ASSIGNEE_INVALID"
    WO_RATING_INVALID = "WO_RATING_INVALID"
    WO_ACCOUNT_REQUIRED = "WO_ACCOUNT_REQUIRED"
    WO_GPS_INVALID = "WO_GPS_INVALID"
    WO_RESOLUTION_REQUIRED = "WO_RESOLUTION_REQUIRED"
    WO_SWAP_REQUIRED = "WO_SWAP_REQUIRED"
    WO_KIND_NOT_REPORTABLE = "WO_KIND_NOT_REPORTABLE"
    # -- meter readings
    READING_NEGATIVE = "READING_NEGATIVE"
    READING_TOO_LARGE = "READING_TOO_LARGE"
    READING_BELOW_LAST = "READING_BELOW_LAST"
    READING_IMPLAUSIBLE_JUMP = "READING_IMPLAUSIBLE_JUMP"
    READING_IN_FUTURE = "READING_IN_FUTURE"
    # -- meter swap
    SWAP_WRONG_KIND = "SWAP_WRONG_KIND"
    SWAP_WRONG_STATUS = "SWAP_WRONG_STATUS"
    SWAP_OLD_METER_MISMATCH = "SWAP_OLD_METER_MISMATCH"
    SWAP_NEW_METER_UNKNOWN = "SWAP_NEW_METER_UNKNOWN"
    SWAP_NEW_METER_NOT_IN_STOCK = "SWAP_NEW_METER_NOT_IN_STOCK"
    SWAP_NEW_METER_SAME = "SWAP_NEW_METER_SAME"
    SWAP_NEW_START_TOO_HIGH = "SWAP_NEW_START_TOO_HIGH"
    SWAP_BALANCE_ABSURD = "SWAP_BALANCE_ABSURD"
    SWAP_CARD_INVALID = "SWAP_CARD_INVALID"
    SWAP_SEAL_INVALID = "SWAP_SEAL_INVALID"
    SWAP_PHOTOS_REQUIRED = "SWAP_PHOTOS_REQUIRED"
    SWAP_ALREADY_RECORDED = "SWAP_ALREADY_RECORDED"


class DomainError(Exception):
    """A rule of the domain refused something. ``details`` fill in the message template."""

    def __init__(self, code: ErrorCode, /, **details: Any) -> None:
        self.code = code
        self.details = details
        super().__init__(f"{code}: {details}" if details else str(code))


class FieldErrors(DomainError):
    """Several field-level problems at once (a form's worth): ``errors`` maps field to error."""

    def __init__(self, errors: dict[str, DomainError]) -> None:
        self.errors = errors
        first = next(iter(errors.values()))
        super().__init__(first.code, **first.details)
        self.details = {
            **first.details,
            "fields": {f: {"code": e.code.value, **e.details} for f, e in errors.items()},
        }
