"""FastAPI dependencies as ``Annotated`` aliases: swap them with ``dependency_overrides``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Connection, String, bindparam, or_
from sqlmodel import Session, select

from server.auth.security import TokenClaims, read_token
from server.config import Settings
from server.customers.models import Account
from server.db import Database, HotRead
from server.storage.store import BlobStore
from server.sync.models import Device
from server.users.models import RefreshToken, User
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.messages import negotiate
from shared.workorders.state_machine import Actor

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

# The dependencies below that only read the request are ``async``: FastAPI runs a plain
# ``def`` dependency in the thread pool, a hop (~0.1 ms and a thread switch) per request each.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def get_blobs(request: Request) -> BlobStore:
    return request.app.state.blobs  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]


def get_session(db: DatabaseDep) -> Iterator[Session]:
    """A read session (writes go through ``server.uow.UnitOfWork``)."""
    with Session(db.reader, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


async def get_lang(accept_language: Annotated[str | None, Header()] = None) -> str:
    return negotiate(accept_language)


LangDep = Annotated[str, Depends(get_lang)]


@dataclass(frozen=True)
class AuthUser:
    """The signed-in user, with what authorisation needs."""

    id: str
    username: str
    role: Role
    display_name: str
    station_id: str | None
    account_ids: frozenset[str]
    device_id: str | None = None  # the device the token was issued to

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.role, self.station_id, self.account_ids,
                     device_id=self.device_id)


def load_auth_user(session: Session, user: User, device_id: str | None = None) -> AuthUser:
    account_ids: frozenset[str] = frozenset()
    if user.role == Role.CUSTOMER:
        account_ids = frozenset(session.exec(
            select(Account.id).where(Account.owner_user_id == user.id)).all())
    return AuthUser(user.id, user.username, Role(user.role), user.display_name,
                    user.station_id, account_ids, device_id)


class DeviceRevoked(DomainError):
    """The token's device was revoked (lost or stolen): ``user_id`` and ``device_id`` say
    whose, so a push from it can be kept for the office (``server.devices``)."""

    def __init__(self, user_id: str, device_id: str) -> None:
        super().__init__(ErrorCode.AUTH_DEVICE_REVOKED)
        self.user_id, self.device_id = user_id, device_id


def _login_statement():  # type: ignore[no-untyped-def]
    """The user row and the login's state in one statement, built once (its cache key is
    computed once too): every authenticated request runs it."""
    family, device = bindparam("family", type_=String), bindparam("device", type_=String)
    alive = or_(family.is_(None), select(RefreshToken.jti).where(
        RefreshToken.family_id == family,
        RefreshToken.revoked_at.is_(None)).limit(1).exists())  # type: ignore[union-attr]
    revoked = select(Device.revoked_at).where(Device.id == device).scalar_subquery()
    return select(User.id, User.username, User.role, User.display_name,  # type: ignore[call-overload]
                  User.station_id, User.active, alive.label("alive"),
                  revoked.label("revoked_at")).where(User.id == bindparam("user"))


_LOGIN = HotRead(_login_statement())
_ACCOUNTS = select(Account.id).where(Account.owner_user_id == bindparam("user"))


def authenticate(conn: Connection, claims: TokenClaims) -> AuthUser:
    """Who the access token's holder is, checked against the database.

    Revocation bites at once: a token whose device was revoked, or whose login (its
    refresh-token family) was ended — signed out, or revoked after a reused refresh token
    — fails on its next request, not when it expires. (Tokens that name neither, minted
    by tests and tools with the server's key, have no login to end.)"""
    row = _LOGIN.one_or_none(conn, {"user": claims.sub, "family": claims.family,
                                    "device": claims.device})
    if row is None:
        raise DomainError(ErrorCode.AUTH_TOKEN_INVALID)
    if not row.active:
        raise DomainError(ErrorCode.AUTH_USER_DISABLED)
    if claims.device is not None and row.revoked_at is not None:
        raise DeviceRevoked(claims.sub, str(claims.device))
    if not row.alive:
        raise DomainError(ErrorCode.AUTH_SESSION_REVOKED)
    role = Role(row.role)
    account_ids: frozenset[str] = frozenset()
    if role == Role.CUSTOMER:
        account_ids = frozenset(conn.execute(_ACCOUNTS, {"user": row.id}).scalars())
    return AuthUser(row.id, row.username, role, row.display_name, row.station_id,
                    account_ids, claims.device)


def get_current_user(
    request: Request, session: SessionDep, settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> AuthUser:
    if not token:
        raise DomainError(ErrorCode.AUTH_REQUIRED)
    claims = read_token(token, secret=request.app.state.secret_key, kind="access")
    auth = authenticate(session.connection(), claims)
    # Give the connection back: the request may wait for a thread-pool thread before it
    # uses the session again (it takes a connection again then).
    session.close()
    return auth


CurrentUser = Annotated[AuthUser, Depends(get_current_user)]


@dataclass(frozen=True)
class RevokedDevice:
    """A request made with a revoked device's token (the push keeps its ops)."""

    user_id: str
    device_id: str


def require_roles(*roles: Role):  # type: ignore[no-untyped-def]
    """A dependency that lets only ``roles`` through (403 FORBIDDEN otherwise)."""
    allowed = frozenset(roles)

    def _check(user: CurrentUser) -> AuthUser:
        if user.role not in allowed:
            raise DomainError(ErrorCode.FORBIDDEN)
        return user

    return Depends(_check)
