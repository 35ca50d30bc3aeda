"""The sync indicator and the Sync screen: what has and has not reached the server.

``SyncState`` mirrors the engine's status. ``SyncDriver`` decides *when* to sync: at once
after a local change or "sync now", every few seconds while the server cannot be reached
(so work goes out soon after the signal comes back), and on a slower timer otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import flet as ft

from mobile.i18n import ago, fmt_bytes, t
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop
from sync.client.messages import describe
from sync.client.status import OpInfo, SyncStatus

OFFLINE_RETRY_S = 3.0
ONLINE_INTERVAL_S = 20.0


@ft.observable
@dataclass
class SyncState:
    backend: Backend
    status: SyncStatus = field(default_factory=SyncStatus)
    busy: bool = False
    #: bumped whenever sync brought new data: screens reload their rows
    data_version: int = 0
    clock: Now = default_clock

    # -- what the indicator shows ---------------------------------------------------------
    @property
    def pending(self) -> int:
        return self.status.waiting

    @property
    def online(self) -> bool | None:
        return self.status.online

    def indicator(self, lang: str) -> str:
        """``Offline · 3 pending`` / ``Online · All synced``."""
        if self.busy or self.status.syncing:
            word = t("syncing", lang)
        elif self.status.online is False:
            word = t("offline", lang)
        else:
            word = t("online", lang)
        tail = t("pending_n", lang, n=self.pending) if self.pending else t("all_synced", lang)
        return f"{word} · {tail}"

    # -- what the Sync screen shows -------------------------------------------------------
    def counts(self) -> list[tuple[str, int]]:
        """Ops by state, only the states that have any, in life-cycle order."""
        order = ("pending", "sending", "held", "rejected")
        return [(s, self.status.by_state.get(s, 0)) for s in order
                if self.status.by_state.get(s, 0)]

    def oldest_pending(self, lang: str) -> str:
        if self.status.oldest_waiting_at is None:
            return t("nothing_pending", lang)
        return ago(self.status.oldest_waiting_at, self.clock(), lang)

    def last_success(self, lang: str) -> str:
        return ago(self.status.last_success_at, self.clock(), lang)

    def photo_left(self, lang: str) -> str:
        if not self.status.photos_waiting:
            return t("nothing_pending", lang)
        return t("photos_left", lang, n=self.status.photos_waiting,
                 size=fmt_bytes(self.status.photo_bytes_left))

    def upload_fraction(self) -> float | None:
        total = self.status.photo_bytes_total
        if not total or not self.status.photos_waiting:
            return None
        return max(0.0, min(1.0, 1 - self.status.photo_bytes_left / total))

    def rejected(self) -> list[OpInfo]:
        return self.status.problems

    @staticmethod
    def reason(op: OpInfo, lang: str) -> str:
        """Why the op was refused, in the user's language (not the server's at the time)."""
        if op.state == "held":
            return describe("SYNC_HELD", lang)
        if op.code:
            return describe(op.code, lang, op.details)
        return op.message or ""

    # -- actions --------------------------------------------------------------------------
    def refresh(self) -> None:
        self.apply(self.backend.status())

    def apply(self, status: SyncStatus) -> None:
        before = self.status
        self.status = status
        if (status.last_success_at != before.last_success_at
                or status.waiting != before.waiting
                or len(status.problems) != len(before.problems)):
            self.data_version += 1

    async def sync_now(self) -> SyncStatus:
        if self.busy:
            return self.status
        self.busy = True
        try:
            status = await off_loop(self.backend.sync_once)
        finally:
            self.busy = False
        self.apply(status)
        return status

    def discard(self, op_id: str) -> None:
        self.backend.discard(op_id)
        self.refresh()
        self.data_version += 1

    def retry(self, op_id: str) -> None:
        self.backend.retry(op_id)
        self.refresh()


class SyncDriver:
    """Runs sync in the background of one app session (an asyncio task)."""

    def __init__(self, state: SyncState, *, on_auth_lost: Callable[[], Any] | None = None,
                 on_synced: Callable[[], Any] | None = None,
                 offline_retry_s: float = OFFLINE_RETRY_S,
                 online_interval_s: float = ONLINE_INTERVAL_S) -> None:
        self.state = state
        self.on_auth_lost = on_auth_lost
        self.on_synced = on_synced
        self.offline_retry_s = offline_retry_s
        self.online_interval_s = online_interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopped = False
            self._task = asyncio.get_running_loop().create_task(self._run())

    def kick(self) -> None:
        """Sync soon: a local change was made or the user asked."""
        self._wake.set()

    async def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def next_delay(self, status: SyncStatus, now: datetime) -> float:
        if status.online is False:
            return self.offline_retry_s
        if status.waiting:
            return self.offline_retry_s
        return self.online_interval_s

    async def _run(self) -> None:
        while not self._stopped:
            self._wake.clear()
            seen = self.state.data_version
            status = await self.state.sync_now()
            if self.state.data_version != seen and self.on_synced is not None:
                self.on_synced()
            if status.auth_required and self.on_auth_lost is not None:
                self.on_auth_lost()
                return
            delay = self.next_delay(status, self.state.clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
