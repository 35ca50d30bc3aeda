"""Sign-in and refresh-token rotation with reuse detection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from server.auth.security import (
    DUMMY_HASH,
    hash_password,
    make_token,
    needs_rehash,
    read_token,
    verify_password,
)
from server.config import Settings
from server.sync.models import Device
from server.uow import UnitOfWork
from server.users.models import RefreshToken, User
from shared.errors import DomainError, ErrorCode
from shared.ids import new_id
from shared.timeutil import as_utc, utcnow


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


def _issue(uow: UnitOfWork, *, user: User, settings: Settings, secret: str,
           family: str, device_id: str | None) -> TokenPair:
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    refresh_ttl = timedelta(days=settings.refresh_token_days)
    # The access token names its login and device, so ending either ends it at once
    # (server.deps checks both on every request).
    access, _ = make_token(secret=secret, sub=user.id, kind="access", ttl=access_ttl,
                           family=family, extra={"role": str(user.role),
                                                 **({"dev": device_id} if device_id else {})})
    refresh, jti = make_token(secret=secret, sub=user.id, kind="refresh", ttl=refresh_ttl,
                              family=family)
    uow.session.add(RefreshToken(jti=jti, family_id=family, user_id=user.id,
                                 device_id=device_id, expires_at=utcnow() + refresh_ttl))
    return TokenPair(access, refresh, int(access_ttl.total_seconds()), user)


def login(uow: UnitOfWork, *, username: str, password: str, settings: Settings, secret: str,
          device_id: str | None = None) -> TokenPair:
    if "\x00" in (device_id or ""):
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="device_id: NUL character")
    # (a NUL cannot be part of a user name; PostgreSQL could not even compare it)
    user = None if "\x00" in username else uow.session.exec(
        select(User).where(User.username == username)).first()
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise DomainError(ErrorCode.AUTH_INVALID_CREDENTIALS)
    if not verify_password(user.password_hash, password):
        raise DomainError(ErrorCode.AUTH_INVALID_CREDENTIALS)
    if not user.active:
        raise DomainError(ErrorCode.AUTH_USER_DISABLED)
    if device_id and device_revoked(uow.session, device_id):
        raise DomainError(ErrorCode.AUTH_DEVICE_REVOKED)
    if needs_rehash(user.password_hash):  # stored with older parameters: redone with today's
        user.password_hash = hash_password(password)
        uow.session.add(user)
    return _issue(uow, user=user, settings=settings, secret=secret, family=new_id(),
                  device_id=device_id)


def device_revoked(session: Session, device_id: str) -> bool:
    """A device the office revoked (lost or stolen): no token of it works any more."""
    return session.exec(select(Device.revoked_at).where(
        Device.id == device_id)).first() is not None


#: A used refresh token may be presented again this soon after its first use, as long
#: as the token issued for it was never used: a lost response on a bad mobile link.
REUSE_GRACE = timedelta(seconds=120)


def _unused_successor(uow: UnitOfWork, row: RefreshToken) -> RefreshToken | None:
    """The token issued when ``row`` was used, if it is the only one issued since and was
    never used (had it been used, or the chain moved on, this is a replay)."""
    if row.used_at is None:
        return None
    since = [t for t in uow.session.exec(select(RefreshToken).where(
        RefreshToken.family_id == row.family_id, RefreshToken.jti != row.jti)).all()
        if as_utc(t.issued_at) >= as_utc(row.used_at)]
    if len(since) != 1 or since[0].used_at is not None or since[0].revoked_at is not None:
        return None
    return since[0]


def refresh(uow: UnitOfWork, *, token: str, settings: Settings, secret: str) -> TokenPair:
    """Exchange a refresh token for a new pair; a token works once.

    Presenting an already used token means it was stolen or replayed: the whole family
    (that login) is revoked and the caller must sign in again — unless it comes back
    within ``REUSE_GRACE`` and the token issued for it was never used (a lost response).
    """
    claims = read_token(token, secret=secret, kind="refresh")
    row = uow.session.get(RefreshToken, claims.jti)
    if row is not None and row.device_id and device_revoked(uow.session, row.device_id):
        raise DomainError(ErrorCode.AUTH_DEVICE_REVOKED)
    if row is None or row.revoked_at is not None:
        raise DomainError(ErrorCode.AUTH_TOKEN_INVALID)
    if row.used_at is not None:
        successor = _unused_successor(uow, row)
        if successor is None or utcnow() - as_utc(row.used_at) > REUSE_GRACE:
            revoke_family(uow, family_id=row.family_id)
            uow.commit()  # the revocation must stick even though the request fails
            raise DomainError(ErrorCode.AUTH_REFRESH_REUSED)
        # The answer to the first refresh was lost on the way (its new token was never
        # used): retire that token and answer again, instead of signing the phone out.
        successor.revoked_at = utcnow()
        uow.session.add(successor)
    if as_utc(row.expires_at) < utcnow():
        raise DomainError(ErrorCode.AUTH_TOKEN_EXPIRED)
    user = uow.session.get(User, row.user_id)
    if user is None or not user.active:
        raise DomainError(ErrorCode.AUTH_USER_DISABLED)
    row.used_at = utcnow()
    uow.session.add(row)
    return _issue(uow, user=user, settings=settings, secret=secret, family=row.family_id,
                  device_id=row.device_id)


def revoke_family(uow: UnitOfWork, *, family_id: str) -> None:
    now = utcnow()
    for tok in uow.session.exec(select(RefreshToken).where(
            RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))):  # type: ignore[union-attr]
        tok.revoked_at = now
        uow.session.add(tok)


def logout(uow: UnitOfWork, *, token: str, secret: str) -> None:
    claims = read_token(token, secret=secret, kind="refresh")
    row = uow.session.get(RefreshToken, claims.jti)
    if row is not None:
        revoke_family(uow, family_id=row.family_id)
