"""Pull cursors: opaque to devices, signed by the server, bound to one user's scope.

A cursor is compact JSON (base64url) plus an HMAC-SHA256 signature (first 24 hex digits)
over it with the server's secret. ``decode`` refuses a cursor whose signature does not
match, that is not JSON, or that was issued for another scope (``fingerprint``: who the
user is and what shapes their scope): the server then starts the device afresh. What
the JSON holds is the server's business.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class CursorError(Exception):
    """The cursor is not usable (tampered, another user's or scope's): start afresh."""


def _sign(raw: str, secret: str) -> str:
    return hmac.new(secret.encode(), raw.encode(), hashlib.sha256).hexdigest()[:24]


def encode(data: dict[str, Any], *, secret: str, fingerprint: str) -> str:
    """Sign ``data`` (JSON-able) for the scope ``fingerprint``."""
    body = {**data, "f": fingerprint}
    raw = base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode()
    return f"{raw}.{_sign(raw, secret)}"


def decode(cursor: str, *, secret: str, fingerprint: str) -> dict[str, Any]:
    """The data of a cursor issued for ``fingerprint`` (raises ``CursorError``)."""
    raw, _, sig = cursor.partition(".")
    # (bytes: compare_digest refuses str with non-ASCII characters, which a client may send)
    if not hmac.compare_digest(sig.encode(), _sign(raw, secret).encode()):
        raise CursorError("signature")
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except ValueError as exc:
        raise CursorError("format") from exc
    if not isinstance(data, dict) or data.get("f") != fingerprint:
        raise CursorError("scope")
    return data
