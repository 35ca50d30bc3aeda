"""Pulling the server's changes: page after page, each page and its cursor committed in one
local transaction, so a crash resumes from the last committed page.

While a page is applied the next ones are already on their way (``prefetch``): a helper
thread asks for each page as soon as the one before it has arrived (its ``next_cursor``),
so the server works on page n+2 while page n is written and n+1 waits. The network, the
server and the local writes overlap; at most three pages are held in memory.

No cursor means a full download: the device's server rows are dropped in the
transaction that applies the first page. ``reset: true`` means the same mid-way (the
cursor was unusable). Neither touches the outbox. After the last page (``has_more``
false), acknowledged ops that this pull has reflected are compacted away.

``listen`` is the live half: one long poll (``wait`` seconds) after the stored cursor.
Two pulls may run at once (a pass's and the listener's); a page is applied only if the
stored cursor is still the one it was fetched after, so the cursor never goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from shared.timeutil import utcnow
from sync.client import outbox, rows
from sync.client.ahead import THREADS, Chain
from sync.client.store import Key, Store
from sync.client.timefmt import to_iso
from sync.protocol import DEFAULT_PULL_LIMIT

if TYPE_CHECKING:  # made by the device, imported with httpx only when used
    from sync.client.transport import Transport

Page = dict[str, Any]

@dataclass
class PullReport:
    pages: int = 0
    changes: int = 0
    resets: int = 0
    compacted: int = 0
    #: the last page said ``has_more`` (a long poll's page: the rest is for a full pull)
    more: bool = False


class Puller:
    def __init__(self, store: Store, transport: Transport, *,
                 limit: int = DEFAULT_PULL_LIMIT, prefetch: bool = THREADS) -> None:
        self.store = store
        self.transport = transport
        self.limit = limit
        self.prefetch = prefetch

    def run(self) -> PullReport:
        report = PullReport()
        started = utcnow()
        cursor = self.store.state(Key.CURSOR)
        page = self.transport.pull(cursor, self.limit)
        pages = self._chain(page)
        try:
            while True:
                if not self._apply(page, cursor, started, report):
                    # the live listener moved the cursor meanwhile: go on from there
                    if pages is not None:
                        pages.close()
                    cursor = self.store.state(Key.CURSOR)
                    page = self.transport.pull(cursor, self.limit)
                    pages = self._chain(page)
                    continue
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    return report
                page = pages.next() if pages is not None else self.transport.pull(
                    cursor, self.limit)
        finally:  # a failure (or the end) drops the pages still on their way
            if pages is not None:
                pages.close()

    def _chain(self, page: Page) -> Chain[Page] | None:
        """The pages after ``page``, fetched one after another in a helper thread."""
        if not (self.prefetch and page["has_more"]):
            return None
        return Chain(lambda cursor: self.transport.pull(cursor, self.limit),  # type: ignore[arg-type]
                     page["next_cursor"],
                     lambda p: p["next_cursor"] if p["has_more"] else None)

    def listen(self, wait_s: float, *, wanted: Callable[[], bool] = lambda: True
               ) -> PullReport | None:
        """One long poll after the stored cursor. None when there is no cursor yet (a
        full download is the engine's job), another pull moved the cursor while this
        one waited (its page is then stale and dropped), or the engine stopped meanwhile
        (``wanted()`` false: the page is dropped too)."""
        cursor = self.store.state(Key.CURSOR)
        if cursor is None:
            return None
        started = utcnow()
        page = self.transport.pull(cursor, self.limit, wait_s=wait_s)
        if not wanted():
            return None
        report = PullReport()
        if not self._apply(page, cursor, started, report):
            return None
        return report

    def _apply(self, page: Page, cursor: str | None, started: datetime, report: PullReport
               ) -> bool:
        """Apply a page fetched after ``cursor`` with its next cursor, if ``cursor`` is
        still the stored one (False: another pull moved it; nothing written)."""
        with self.store.write() as conn:
            if self.store.get(conn, Key.CURSOR) != cursor:
                return False
            if page.get("reset") or cursor is None:
                rows.clear(conn)
                report.resets += 1 if page.get("reset") else 0
            changed = rows.apply_changes(conn, page["changes"])
            if changed or page.get("reset") or cursor is None:
                seq = int(self.store.get(conn, Key.DATA_SEQ, 0) or 0)
                self.store.put(conn, Key.DATA_SEQ, seq + 1)
            report.changes += changed
            self.store.put(conn, Key.CURSOR, page["next_cursor"])
            if not page["has_more"]:
                report.compacted += outbox.compact(conn, acked_before=started)
                self.store.put(conn, Key.LAST_PULL_STARTED, to_iso(started))
        report.pages += 1
        report.more = bool(page["has_more"])
        return True
