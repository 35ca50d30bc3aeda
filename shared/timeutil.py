"""Timestamps are timezone-aware. Naive datetimes are refused, never guessed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

#: The county's local time (China Standard Time), used for "today" and daily boundaries.
LOCAL_TZ = timezone(timedelta(hours=8), "CST")


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_aware(value: datetime) -> datetime:
    """Return ``value`` in UTC; raise ``ValueError`` when it carries no timezone."""
    if value.tzinfo is UTC:  # already so (the usual case): no new object
        return value
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError("timestamp must carry a timezone")
    return value.astimezone(UTC)


def as_utc(value: datetime) -> datetime:
    """Like ensure_aware, but treats a naive value as UTC (for values read back from SQLite)."""
    tz = value.tzinfo
    if tz is UTC:
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
