"""The sync indicator and the Sync screen: what has and has not reached the server.

``SyncState`` mirrors the engine's status. ``SyncDriver`` connects it to the engine: the
engine's scheduler alone decides *when* to sync (``sync.client.engine``: at once on a
local change or a regained link, a long poll open while online, backoff with jitter and
``Retry-After`` after failures); the driver starts and stops it with the session, passes
nudges on, and refreshes the state whenever the engine reports something (a pass, a
live page, the link lost or back), so "Offline" shows as soon as a request fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import ago, fmt_bytes, t
from mobile.services.backend import Backend
from mobile.state.common import THREADS, Now, default_clock, off_loop
from sync.client.backoff import backoff_s
from sync.client.messages import describe
from sync.client.status import OpInfo, SyncStatus

log = logging.getLogger(__name__)


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
        if self.status.online is False:  # the last request failed: say so, even
            word = t("offline", lang)        # while the engine tries again
        elif self.busy or self.status.syncing:
            word = t("syncing", lang)
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
                or status.data_seq != before.data_seq
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


#: Between passes of the browser's own schedule while syncing works (the phone's engine keeps
#: a long poll open instead; a browser tab's worker has no thread for one).
POLL_S = 10.0


class SyncDriver:
    """Runs the engine's scheduler for one app session and mirrors what it reports.

    The engine reports from its own threads; the driver hands each report to a task on
    the app's loop (created in the session, so the screens it reloads re-render)."""

    def __init__(self, state: SyncState, *, on_auth_lost: Callable[[], Any] | None = None,
                 on_synced: Callable[[], Any] | None = None) -> None:
        self.state = state
        self.on_auth_lost = on_auth_lost
        self.on_synced = on_synced
        self._loop: asyncio.AbstractEventLoop | None = None
        self._heard_event: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._kicked: asyncio.Event | None = None
        self._running = False
        #: the ``data_version`` the screens were last reloaded for: a pass the driver ran
        #: itself (``sync_now`` in the browser) has applied its status already, so a change
        #: is judged against this, not against the status before the refresh
        self._reported = state.data_version

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._loop = asyncio.get_running_loop()
        self._heard_event = asyncio.Event()
        self._task = self._loop.create_task(self._run())
        if THREADS:
            self.state.backend.start_sync(self._heard)
        else:  # Python in the browser has one thread: the scheduler is a task of the loop
            self._kicked = asyncio.Event()
            self._poller = self._loop.create_task(self._poll())

    def kick(self) -> None:
        """Sync now: a local change was made, the link is back, or the user asked."""
        if THREADS:
            self.state.backend.nudge()
        elif self._kicked is not None:
            self._kicked.set()

    async def _poll(self) -> None:
        """The engine's schedule where no thread can run it: a pass now, on a kick, every
        ``POLL_S`` while it works and after a jittered backoff while it fails."""
        assert self._kicked is not None and self._heard_event is not None
        failures, rng = 0, random.Random()
        while self._running:
            self._kicked.clear()
            try:
                await self.state.sync_now()
            except Exception:  # recorded in the status when it is the engine's; never fatal
                log.exception("sync pass failed")
            self._heard_event.set()
            failures = failures + 1 if self.state.status.error_is_current else 0
            wait = POLL_S if failures == 0 else max(1.0, backoff_s(failures, rng))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._kicked.wait(), wait)

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        if self._heard_event is not None:
            self._heard_event.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poller
        if THREADS:
            await off_loop(lambda: self.state.backend.stop_sync(self._heard))

    def _heard(self) -> None:
        """From the engine's threads: wake the driver's task on the app's loop."""
        loop, event = self._loop, self._heard_event
        if loop is None or event is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(event.set)

    async def _run(self) -> None:
        assert self._heard_event is not None
        while self._running:
            await self._heard_event.wait()
            self._heard_event.clear()  # reports that come meanwhile: one refresh
            if not self._running:
                return
            self.state.refresh()
            if self.state.data_version != self._reported:
                self._reported = self.state.data_version
                if self.on_synced is not None:
                    self.on_synced()
            if self.state.status.auth_required and self.on_auth_lost is not None:
                self.on_auth_lost()
