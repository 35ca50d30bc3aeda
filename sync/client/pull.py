"""Pulling the server's changes: page after page, each page and its cursor committed in one
local transaction, so a crash resumes from the last committed page and no page is ever
held in memory beside the next.

No cursor means a full download: the device's server rows are dropped in the
transaction that applies the first page. ``reset: true`` means the same mid-way (the
cursor was unusable). Neither touches the outbox. After the last page (``has_more``
false), acknowledged ops that this pull has reflected are compacted away.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.timeutil import utcnow
from sync.client import outbox, rows
from sync.client.store import Key, Store
from sync.client.timefmt import to_iso
from sync.client.transport import Transport
from sync.protocol import DEFAULT_PULL_LIMIT


@dataclass
class PullReport:
    pages: int = 0
    changes: int = 0
    resets: int = 0
    compacted: int = 0


class Puller:
    def __init__(self, store: Store, transport: Transport, *,
                 limit: int = DEFAULT_PULL_LIMIT) -> None:
        self.store = store
        self.transport = transport
        self.limit = limit

    def run(self) -> PullReport:
        report = PullReport()
        started = utcnow()
        cursor = self.store.state(Key.CURSOR)
        while True:
            page = self.transport.pull(cursor, self.limit)
            with self.store.write() as conn:
                if page.get("reset") or cursor is None:
                    rows.clear(conn)
                    report.resets += 1 if page.get("reset") else 0
                report.changes += rows.apply_changes(conn, page["changes"])
                self.store.put(conn, Key.CURSOR, page["next_cursor"])
                if not page["has_more"]:
                    report.compacted = outbox.compact(conn, acked_before=started)
                    self.store.put(conn, Key.LAST_PULL_STARTED, to_iso(started))
            report.pages += 1
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return report
