"""The board's live feed: one long poll on ``/api/v1/dispatch/changes`` per office session.

Each answer names the jobs that changed after the last sequence number seen (a crew's
synced op, another dispatcher's action, a stall mark); the screens that listen refresh
only what those changes touch. Without a connection it tries again every few seconds
(the frame shows the banner meanwhile); when the connection comes back every screen
reloads, since changes may have been missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from mobile.office.client import CHANGES_WAIT_S, OfficeError, Offline, SignedOut
from mobile.office.context import OfficeContext

log = logging.getLogger(__name__)
RETRY_S = 2.0


@dataclass(frozen=True)
class Change:
    """What changed: job ids (empty with ``everything``: reload all you show)."""

    order_ids: frozenset[str] = frozenset()
    crews: bool = False
    everything: bool = False

    def touches(self, order_ids: set[str] | frozenset[str]) -> bool:
        return self.everything or bool(self.order_ids & order_ids)


class ReloadsOnReconnect:
    """For a page whose rows are not jobs (notices, cash hand-overs): the feed's job changes
    leave it as it is; when the connection came back (``everything``), it reads its rows
    again, since another person may have changed them meanwhile."""

    async def on_changes(self, change: Change) -> None:
        if change.everything:
            await self.load()  # type: ignore[attr-defined]  # (the page's own)


@dataclass
class ChangeFeed:
    octx: OfficeContext
    wait_s: float = CHANGES_WAIT_S
    retry_s: float = RETRY_S
    since: int = -1
    running: bool = False
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def publish(self, change: Change) -> None:
        for state in self.octx.listeners():
            try:
                await state.on_changes(change)
            except OfficeError:
                pass  # the screen shows its own error; the feed goes on
            except Exception:
                log.exception("a screen failed to apply a change")

    def start_at(self, seq: int | None) -> None:
        """Take the position a screen's first answer gave (the server's ``seq``, read
        before that answer's rows): the first poll then asks for what changed after it,
        and the separate call for a starting position is saved."""
        if self.since < 0 and seq is not None:
            self.since = seq

    async def step(self) -> Change | None:
        """One long poll; returns what changed (None: nothing, or no connection)."""
        was_offline = self.octx.shell.online is False
        try:
            answer = await self.octx.outcome(self.octx.send_long(
                self.octx.client.changes, self.since, self.wait_s if self.since >= 0 else 0))
        except (Offline, SignedOut):
            return None
        first = self.since < 0
        self.since = int(answer.get("seq", self.since))
        if was_offline:
            return Change(everything=True)
        if first:
            return None
        if answer.get("more"):
            return Change(everything=True)
        ids = frozenset(answer.get("order_ids") or ())
        crews = bool(answer.get("crews"))
        if not ids and not crews:
            return None
        return Change(order_ids=ids, crews=crews)

    async def run(self) -> None:
        self.running = True
        self._stop.clear()
        try:
            while not self._stop.is_set():
                try:
                    change = await self.step()
                except OfficeError:
                    change = None
                    await self._sleep(self.retry_s * 2)
                if change is not None:
                    await self.publish(change)
                if self.octx.shell.online is False:
                    await self._sleep(self.retry_s)
        finally:
            self.running = False

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    def stop(self) -> None:
        self._stop.set()
