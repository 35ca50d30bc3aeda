"""Password hashing (argon2) and JWT access/refresh tokens."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import DomainError, ErrorCode
from shared.ids import new_id
from shared.timeutil import utcnow

#: argon2id with the first configuration of OWASP's Password Storage Cheat Sheet (19 MiB,
#: two passes, one lane). argon2-cffi's default (64 MiB, three passes, four lanes) took
#: ~100 ms a verify on the 2-core county server, sharing its cores with every request;
#: this takes ~20 ms. A hash made with other parameters still verifies and is redone with
#: these at the next sign-in (``needs_rehash``).
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
ALGORITHM = "HS256"
ISSUER = "gridone"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash (one that just verified) was made with other parameters than
    today's."""
    return _hasher.check_needs_rehash(password_hash)


# Verified against when the user does not exist, so timing does not reveal user names.
DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class TokenClaims:
    sub: str
    kind: str  # access | refresh
    jti: str
    exp: datetime
    family: str | None = None  # the login (refresh-token family) the token belongs to
    device: str | None = None  # the device it was issued to (sign-in's device_id)


def make_token(*, secret: str, sub: str, kind: str, ttl: timedelta,
               family: str | None = None, extra: dict[str, Any] | None = None) -> tuple[str, str]:
    jti = new_id()
    now = utcnow()
    payload: dict[str, Any] = {"sub": sub, "typ": kind, "jti": jti, "iat": now,
                               "exp": now + ttl, "iss": ISSUER, **(extra or {})}
    if family:
        payload["fam"] = family
    return jwt.encode(payload, secret, algorithm=ALGORITHM), jti


def read_token(token: str, *, secret: str, kind: str) -> TokenClaims:
    claims, expires = _verified(token, secret, kind)
    if expires <= time.time():  # PyJWT's own rule (no leeway)
        raise DomainError(ErrorCode.AUTH_TOKEN_EXPIRED)
    return claims


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str, kind: str) -> tuple[TokenClaims, float]:
    """The claims of a token whose signature, issuer and kind are checked, and when it
    expires. Kept for the tokens seen last: a phone sends the same access token with every
    pull for its lifetime, and checking its signature costs more than the rest of a
    no-change pull's CPU. (A token is immutable and signed: the same string always reads
    the same; expiry is checked on every use, revocation in the database.) A bad token
    raises and is not kept."""
    try:
        data = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                          options={"require": ["exp", "sub", "jti", "typ"],
                                   "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise DomainError(ErrorCode.AUTH_TOKEN_INVALID) from exc
    if data.get("typ") != kind or not isinstance(data["exp"], int | float):
        raise DomainError(ErrorCode.AUTH_TOKEN_INVALID)
    return TokenClaims(sub=data["sub"], kind=kind, jti=data["jti"],
                       exp=datetime.fromtimestamp(data["exp"]).astimezone(),
                       family=data.get("fam"), device=data.get("dev")), float(data["exp"])
