"""Per-device sync budgets as route dependencies (after authentication)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from server.deps import CurrentUser, DatabaseDep, SettingsDep
from server.ratelimit.service import spend

#: The device's own id (the one it signed in with), sent by the phone's transport.
DeviceHeader = Annotated[str | None, Header(
    alias="X-Device-ID", max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
    description="The device's id; sync budgets are counted per user and device")]


def _budget(kind: str, limit_of: str):  # type: ignore[no-untyped-def]
    def check(user: CurrentUser, db: DatabaseDep, settings: SettingsDep,
              device: DeviceHeader = None) -> None:
        if settings.rate_limits:
            spend(db, kind=kind, subject=f"{user.id}:{device or '-'}",
                  limit=getattr(settings, limit_of), window_s=settings.sync_budget_window_s)

    return Depends(check)


#: One push request of the device's budget (``sync_push_per_minute`` per window).
PUSH_BUDGET = _budget("sync:push", "sync_push_per_minute")
#: One pull page of the device's budget (``sync_pull_per_minute`` per window).
PULL_BUDGET = _budget("sync:pull", "sync_pull_per_minute")
