"""Timestamps in the local database: UTC ISO-8601 text with microseconds, so that text
order is time order."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.timeutil import ensure_aware


def to_iso(value: datetime) -> str:
    return ensure_aware(value).astimezone(UTC).isoformat(timespec="microseconds")


def now_iso() -> str:
    return to_iso(datetime.now(UTC))


def from_iso(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
