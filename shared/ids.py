"""Identifiers made on the device: UUIDv7, time-ordered, as lowercase strings."""

from __future__ import annotations

import re
import sys
import uuid

# Python 3.14 (the browser build's) has UUIDv7 itself; importing uuid6 there cost ~0.2 s
# of the app's start (it reads the installed packages' metadata at import).
if sys.version_info >= (3, 14):
    from uuid import uuid7
else:
    from uuid6 import uuid7

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def new_id() -> str:
    """A new UUIDv7 as a 36-character lowercase string."""
    return str(uuid7())


def is_uuid(value: str) -> bool:
    """True when ``value`` is a canonical lowercase UUID string (any version)."""
    return bool(_UUID_RE.match(value))


def uuid_version(value: str) -> int | None:
    return uuid.UUID(value).version if is_uuid(value) else None
