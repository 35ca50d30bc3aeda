"""Supervision's pure rules: who may record and who may approve a change of money or
counts (four eyes), and which resolved jobs the review sample picks.

Decide, then apply: ``check_request`` and ``check_decision`` refuse with a stable code or
return; the server's service loads the request, calls them and applies the change in the
approval's own transaction.
"""

from __future__ import annotations

from enum import StrEnum

from shared.enums import Role
from shared.errors import DomainError, ErrorCode


class ApprovalKind(StrEnum):
    PURCHASE_COUNT = "purchase_count"  # set a meter's purchase count (购电次数)
    ADJUSTMENT = "adjustment"  # a manual ledger adjustment, either way
    REFUND = "refund"  # money paid back to the customer
    DISCREPANCY_SETTLE = "discrepancy_settle"  # a meter-swap difference: the meter was right
    DISCREPANCY_DISMISS = "discrepancy_dismiss"  # ... the ledger was right


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReviewOutcome(StrEnum):
    APPROVED = "approved"
    RETURNED = "returned"


#: Who may record each kind (the first pair of eyes).
REQUEST_ROLES: dict[ApprovalKind, frozenset[Role]] = {
    ApprovalKind.PURCHASE_COUNT: frozenset({Role.AGENT, Role.MANAGER}),
    ApprovalKind.ADJUSTMENT: frozenset({Role.AGENT, Role.MANAGER}),
    ApprovalKind.REFUND: frozenset({Role.AGENT, Role.MANAGER}),
    ApprovalKind.DISCREPANCY_SETTLE: frozenset({Role.DISPATCHER, Role.MANAGER}),
    ApprovalKind.DISCREPANCY_DISMISS: frozenset({Role.DISPATCHER, Role.MANAGER}),
}
#: Who may approve or reject (the second pair): managers of the station, and admins.
APPROVER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
#: Who reviews resolved jobs.
REVIEWER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
#: A resolution older than this leaves the review queue unreviewed (a review is about
#: recent work; the audit log keeps the rest).
REVIEW_WINDOW_DAYS = 30


def check_request(kind: ApprovalKind, role: Role) -> None:
    if role not in REQUEST_ROLES[kind]:
        raise DomainError(ErrorCode.FORBIDDEN)


def check_decision(*, status: str, requested_by: str, actor_id: str, actor_role: Role,
                   approve: bool) -> None:
    """May this user approve (or reject) this request now? The order of refusals: the
    role, the request already decided, one's own request (for approving; an author may
    not reject their own either: they ask another to)."""
    if actor_role not in APPROVER_ROLES:
        raise DomainError(ErrorCode.FORBIDDEN)
    if status != ApprovalStatus.PENDING:
        raise DomainError(ErrorCode.APPROVAL_CLOSED, status=status)
    if requested_by == actor_id:
        raise DomainError(ErrorCode.APPROVAL_OWN_REQUEST)


def sample_bucket(code: str) -> int:
    """0..99 from a job code's last two digits (codes end in a running number)."""
    tail = code[-2:]
    return int(tail) if tail.isdigit() else 0


def sampled(code: str, percent: int) -> bool:
    """Does a review rule of ``percent`` pick the job with this code?"""
    return sample_bucket(code) < percent


def check_percent(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise DomainError(ErrorCode.VALIDATION_ERROR, field="percent",
                          summary="percent: a whole number 0-100")
    return value
