"""What the screens need from the device's data and the sync engine, as one interface.

``Backend`` is implemented by ``mobile.services.engine_backend.EngineBackend`` over
``sync.client`` (the only code that talks to the network) and by a fake in the unit tests.
Reads return the server's rows with the user's unsynced work laid over them; writes
check the action with the shared rules (raising ``shared.errors.DomainError`` when it is
not possible) and commit the local change and its op in one local transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from shared.enums import Role
from shared.meter_rules import SwapDraft
from shared.workorders.state_machine import Actor
from sync.client.readmodel import JobDetail, JobView
from sync.client.status import SyncStatus

Row = dict[str, Any]


@dataclass(frozen=True)
class SessionInfo:
    user_id: str
    role: Role
    username: str
    display_name: str
    server_url: str
    station_id: str | None = None
    account_ids: tuple[str, ...] = ()

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.role, self.station_id, frozenset(self.account_ids))


class Backend(Protocol):
    # -- session ------------------------------------------------------------------------
    def session(self) -> SessionInfo | None: ...
    def sign_in(self, server_url: str, username: str, password: str) -> SessionInfo: ...
    def sign_out(self) -> None: ...
    def set_language(self, lang: str) -> None: ...

    # -- reads (sync.client.readmodel's views, and plain server rows) ------------------
    def my_jobs(self, *, include_done: bool = False) -> list[JobView]: ...
    def job(self, order_id: str) -> JobDetail | None: ...
    def thumbnail(self, sha256: str) -> bytes | None: ...
    def rows(self, entity: str) -> list[Row]: ...
    def row(self, entity: str, row_id: str) -> Row | None: ...

    # -- writes (local first) -----------------------------------------------------------
    def act(self, order_id: str, action: str, payload: dict[str, Any]) -> None: ...
    def add_photo(self, order_id: str, data: bytes, caption: str | None = None) -> str: ...
    def record_swap(self, order_id: str, draft: SwapDraft) -> None: ...
    def report(self, *, account_id: str, description: str,
               location: dict[str, Any] | None, photo_shas: list[str]) -> str: ...
    def store_photo(self, data: bytes) -> str: ...

    # -- online reads -------------------------------------------------------------------
    def my_scorecard(self, month: str | None = None) -> tuple[dict[str, Any], bool]: ...

    # -- sync ---------------------------------------------------------------------------
    def status(self) -> SyncStatus: ...
    def sync_once(self) -> SyncStatus: ...
    def discard(self, op_id: str) -> None: ...
    def retry(self, op_id: str) -> None: ...
