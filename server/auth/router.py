"""``/api/v1/auth``: OAuth2 password flow, refresh rotation, logout; ``/api/v1/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from server.auth import service
from server.auth.schemas import RefreshIn
from server.deps import CurrentUser, DatabaseDep, SettingsDep
from server.ratelimit.service import login_guard
from server.uow import UnitOfWork
from shared.enums import Role

router = APIRouter(prefix="/api/v1", tags=["auth"])


class TokenOut(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Access-token lifetime in seconds")
    user_id: str
    role: Role


class MeOut(BaseModel):
    id: str
    username: str
    role: Role
    display_name: str
    station_id: str | None
    account_ids: list[str]


def _out(pair: service.TokenPair) -> TokenOut:
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token,
                    expires_in=pair.expires_in, user_id=pair.user.id, role=pair.user.role)


@router.post("/auth/token", response_model=TokenOut, summary="Sign in (OAuth2 password flow)",
             responses={429: {"description": "AUTH_RATE_LIMITED: too many failed sign-ins "
                                             "for this user or address (Retry-After)"}})
def token(request: Request, db: DatabaseDep, settings: SettingsDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()],
          device_id: Annotated[str | None, Form(max_length=64)] = None) -> TokenOut:
    """Exchange user name and password for a short-lived access token and a refresh token.
    Too many wrong passwords lock the user name (and the address) out for a while."""
    username = form.username[:64]
    with login_guard(db, settings=settings, username=username,
                     address=request.client.host if request.client else None), \
            UnitOfWork(db) as uow:
        pair = service.login(uow, username=username, password=form.password[:256],
                             settings=settings, secret=request.app.state.secret_key,
                             device_id=device_id)
        uow.commit()
    return _out(pair)


@router.post("/auth/refresh", response_model=TokenOut, summary="Rotate the refresh token")
def refresh(request: Request, db: DatabaseDep, settings: SettingsDep, body: RefreshIn
            ) -> TokenOut:
    """A refresh token works once; reusing one signs that login out everywhere."""
    with UnitOfWork(db) as uow:
        pair = service.refresh(uow, token=body.refresh_token, settings=settings,
                               secret=request.app.state.secret_key)
        uow.commit()
    return _out(pair)


@router.post("/auth/logout", status_code=204, summary="Revoke this login's refresh tokens")
def logout(request: Request, db: DatabaseDep, body: RefreshIn) -> None:
    with UnitOfWork(db) as uow:
        service.logout(uow, token=body.refresh_token, secret=request.app.state.secret_key)
        uow.commit()


@router.get("/me", response_model=MeOut, summary="Who am I")
def me(user: CurrentUser) -> MeOut:
    return MeOut(id=user.id, username=user.username, role=user.role,
                 display_name=user.display_name, station_id=user.station_id,
                 account_ids=sorted(user.account_ids))
