"""The care list (用电关怀): categories, and the rules of adding and removing an account.

A change is *requested* by one desk person (category, reason, review date) and takes
effect only when *approved* by another: nobody approves their own request. Listed
accounts are never disconnected automatically, are alerted earlier
(``shared.billing.alerts.level`` with ``care=True``), get a care-visit job when the
balance runs low, and a care-visit job on their review date.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from shared.enums import Role
from shared.errors import DomainError, ErrorCode, FieldErrors

E = ErrorCode
REASON_MAX = 200
#: A review date is within this many days (at least a day ahead).
REVIEW_MAX_DAYS = 730
CARE_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


class CareCategory(StrEnum):
    ELDERLY_ALONE = "elderly_alone"  # 独居老人
    DISABILITY = "disability"  # 残疾人
    MEDICAL_EQUIPMENT = "medical_equipment"  # 家用医疗设备
    LOW_INCOME = "low_income"  # 低保户
    OTHER = "other"


class CareChange(StrEnum):
    ADD = "add"
    REMOVE = "remove"


class CareRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


@dataclass(frozen=True)
class CareRequestIn:
    change: CareChange
    category: CareCategory | None
    reason: str
    review_on: date | None


def check_request(data: Mapping[str, Any], *, today: date, listed: bool) -> CareRequestIn:
    """A request as sent: an add names a category, a reason and a review date (tomorrow
    at the earliest, within two years); a removal names its reason. Adding a listed
    account or removing an unlisted one is refused."""
    errors: dict[str, DomainError] = {}
    try:
        change = CareChange(data.get("change"))
    except ValueError:
        raise DomainError(E.CARE_FIELD_INVALID, field="change", reason="add or remove") from None
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > REASON_MAX:
        errors["reason"] = DomainError(E.CARE_FIELD_INVALID, field="reason",
                                       reason=f"1 to {REASON_MAX} characters")
    category = review_on = None
    if change == CareChange.ADD:
        try:
            category = CareCategory(data.get("category"))
        except ValueError:
            errors["category"] = DomainError(E.CARE_FIELD_INVALID, field="category",
                                             reason="a care category")
        raw = data.get("review_on")
        try:
            review_on = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            errors["review_on"] = DomainError(E.CARE_FIELD_INVALID, field="review_on",
                                              reason="a date (YYYY-MM-DD)")
        else:
            if not today < review_on <= today + timedelta(days=REVIEW_MAX_DAYS):
                errors["review_on"] = DomainError(
                    E.CARE_FIELD_INVALID, field="review_on",
                    reason=f"after today, within {REVIEW_MAX_DAYS} days")
    if errors:
        raise FieldErrors(errors)
    if change == CareChange.ADD and listed:
        raise DomainError(E.CARE_ALREADY_LISTED)
    if change == CareChange.REMOVE and not listed:
        raise DomainError(E.CARE_NOT_LISTED)
    assert isinstance(reason, str)
    return CareRequestIn(change, category, reason.strip(), review_on)


def check_decision(*, status: CareRequestStatus | str, requested_by: str, decider_id: str,
                   decider_role: Role, approve: bool, note: Any = None) -> str | None:
    """May this person decide the request? Returns the checked note (a refusal needs one)."""
    if decider_role not in CARE_ROLES:
        raise DomainError(E.FORBIDDEN)
    if CareRequestStatus(status) != CareRequestStatus.PENDING:
        raise DomainError(E.CARE_REQUEST_CLOSED)
    if decider_id == requested_by:
        raise DomainError(E.CARE_OWN_REQUEST)
    if note is not None and (not isinstance(note, str) or len(note) > REASON_MAX):
        raise DomainError(E.CARE_FIELD_INVALID, field="note",
                          reason=f"at most {REASON_MAX} characters")
    text = note.strip() if isinstance(note, str) and note.strip() else None
    if not approve and text is None:
        raise DomainError(E.CARE_FIELD_INVALID, field="note", reason="a refusal says why")
    return text
