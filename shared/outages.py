"""Planned outage notices (计划停电通知): the rules the office's form, the server and the
phone share — what a valid notice is, and whether one covers an area at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.errors import DomainError, ErrorCode

REASON_MIN, REASON_MAX = 2, 300
MAX_AREAS = 50
MAX_LENGTH = timedelta(hours=72)  # one notice covers at most three days
MAX_AHEAD = timedelta(days=60)
#: A fault report is warned about a notice from this long before it starts until it ends.
WARN_BEFORE = timedelta(hours=2)


@dataclass(frozen=True)
class OutageDraft:
    area_ids: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    reason: str


def check_draft(draft: OutageDraft, *, now: datetime) -> OutageDraft:
    """A cleaned copy of ``draft``, or OUTAGE_INVALID naming the field."""
    areas = tuple(dict.fromkeys(a for a in draft.area_ids if a))
    if not areas or len(areas) > MAX_AREAS:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="areas")
    if draft.starts_at.tzinfo is None or draft.ends_at.tzinfo is None:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="starts_at")
    if draft.ends_at <= draft.starts_at or draft.ends_at - draft.starts_at > MAX_LENGTH:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="ends_at")
    if draft.ends_at <= now or draft.starts_at > now + MAX_AHEAD:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="starts_at")
    reason = " ".join(draft.reason.split())
    if not REASON_MIN <= len(reason) <= REASON_MAX:
        raise DomainError(ErrorCode.OUTAGE_INVALID, field="reason")
    return OutageDraft(areas, draft.starts_at, draft.ends_at, reason)


def check_cancel_reason(reason: str | None) -> str:
    """Why a notice is cancelled, cleaned (the customers are told it), or
    OUTAGE_CANCEL_REASON_INVALID: required, ``REASON_MIN``–``REASON_MAX`` characters."""
    text = " ".join((reason or "").split())
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise DomainError(ErrorCode.OUTAGE_CANCEL_REASON_INVALID, min=REASON_MIN,
                          max=REASON_MAX)
    return text


def covers(*, area_ids: list[str] | tuple[str, ...], starts_at: datetime | None,
           ends_at: datetime | None, status: str, area_id: str | None, at: datetime) -> bool:
    """Does a published notice concern ``area_id`` at ``at`` (or start within
    ``WARN_BEFORE``)?"""
    if status != "published" or area_id is None or starts_at is None or ends_at is None:
        return False
    return area_id in area_ids and starts_at - WARN_BEFORE <= at < ends_at


def upcoming(*, ends_at: datetime | None, status: str, at: datetime) -> bool:
    """Worth showing on an account: published and not over yet."""
    return status == "published" and ends_at is not None and at < ends_at


#: Inbox / SMS texts (merged into ``shared.billing.notices``).
OUTAGE_TEXTS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "outage_planned": (
        ("计划停电通知", "因{reason}，{areas} 将于 {start} 至 {end} 停电（户号 {account_no}）。"
                         "请提前做好准备。"),
        ("Planned outage", "Supply to {areas} (account {account_no}) will be off from {start} "
                           "to {end}: {reason}. Please plan ahead."),
    ),
    "outage_cancelled": (
        ("停电取消", "原定 {start} 至 {end} 的计划停电（{areas}）已取消，原因：{cancel_reason}。"),
        ("Outage cancelled", "The planned outage of {areas} from {start} to {end} is "
                             "cancelled: {cancel_reason}."),
    ),
}
