"""Per-device sync budgets as route dependencies.

The budget is spent before the request opens its database session: the user comes
from the access token's signature alone (the full check follows in ``CurrentUser``).
Holding a pooled connection while waiting for the writer's would let a burst of requests
hold every connection of the pool and wait for each other."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from server.auth.security import read_token
from server.deps import DatabaseDep, SettingsDep, oauth2_scheme
from server.ratelimit.service import spend
from shared.errors import DomainError, ErrorCode

#: The device's own id (the one it signed in with), sent by the phone's transport. A token
#: issued to a device carries that device (``dev``): then the budget is that device's,
#: whatever the header says — a client cannot buy a fresh budget with a new header.
DEVICE_ID_MAX = 64
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
DEVICE_ID_DOC = ("The device's id; sync budgets are counted per user and device (the "
                 "token's device when it names one)")
DeviceHeader = Annotated[str | None, Header(
    alias="X-Device-ID", max_length=DEVICE_ID_MAX, pattern=DEVICE_ID_PATTERN,
    description=DEVICE_ID_DOC)]


def _budget(kind: str, limit_of: str):  # type: ignore[no-untyped-def]
    def check(request: Request, db: DatabaseDep, settings: SettingsDep,
              token: Annotated[str | None, Depends(oauth2_scheme)],
              device: DeviceHeader = None) -> None:
        if not settings.rate_limits:
            return
        if not token:
            raise DomainError(ErrorCode.AUTH_REQUIRED)
        claims = read_token(token, secret=request.app.state.secret_key, kind="access")
        spend(db, kind=kind, subject=f"{claims.sub}:{claims.device or device or '-'}",
              limit=getattr(settings, limit_of), window_s=settings.sync_budget_window_s)

    return Depends(check)


#: One push request of the device's budget (``sync_push_per_minute`` per window).
PUSH_BUDGET = _budget("sync:push", "sync_push_per_minute")
# The pull budget (``sync_pull_per_minute``) is spent by the pull route itself, in
# memory: ``server.sync.router``.
