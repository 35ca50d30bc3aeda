"""HMAC-SHA256 signatures of messages from outside parties (payment provider, metering
head-end), in the style of common payment webhooks::

    X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + raw body>

The timestamp is signed with the body, so a captured message cannot be re-dated; a
message older than the tolerance is refused as a replay.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

HEADER = "X-Signature"


def derive_key(secret: str, label: str) -> bytes:
    """A key for one counterpart, derived from the server's secret (one secret to manage)."""
    return hmac.new(secret.encode(), f"gridone/{label}".encode(), hashlib.sha256).digest()


def sign(key: bytes, body: bytes, at: datetime) -> str:
    t = int(at.timestamp())
    mac = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass(frozen=True)
class Verified:
    ok: bool
    stale: bool = False
    signed_at: int | None = None


def verify(key: bytes, body: bytes, header: str | None, *, now: datetime,
           tolerance_s: int, future_s: int = 300) -> Verified:
    """``ok``: the signature is right; ``stale``: right, but too old (or from the future)."""
    if not header:
        return Verified(False)
    parts = dict(p.strip().split("=", 1) for p in header.split(",") if "=" in p)
    t, mac = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or len(t) > 12 or len(mac) != 64:
        return Verified(False)
    good = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(good.encode(), mac.encode()):  # bytes: mac may be non-ASCII
        return Verified(False)
    age = now.timestamp() - int(t)
    return Verified(True, stale=age > tolerance_s or age < -future_s, signed_at=int(t))
