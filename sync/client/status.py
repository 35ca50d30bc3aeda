"""What the app shows about sync: a snapshot read from the store plus the engine's
runtime facts (online, running, next attempt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.timeutil import utcnow
from sync.client import outbox, photos
from sync.client.store import ErrorInfo, Key, Store
from sync.client.timefmt import from_iso


@dataclass(frozen=True)
class SyncStatus:
    by_state: dict[str, int]  # outbox ops by state (pending, sending, held, rejected, …)
    waiting: int  # pending + sending + held: not yet on the server
    rejected: int
    oldest_waiting_at: datetime | None
    oldest_waiting_age_s: float | None
    photos_waiting: int
    photos_failed: int
    photo_bytes_left: int
    last_success_at: datetime | None
    last_error: ErrorInfo | None
    online: bool | None  # None: not tried yet
    running: bool
    syncing: bool
    next_attempt_at: datetime | None
    signed_in: bool  # False: sign in again (tokens gone or refused)
    update_required: bool  # the server said this app release is too old
    clock_offset_s: float | None

    @property
    def error_is_current(self) -> bool:
        """The last error happened after the last success."""
        return self.last_error is not None and (
            self.last_success_at is None or self.last_error.at > self.last_success_at)


def read_status(store: Store, *, online: bool | None = None, running: bool = False,
                syncing: bool = False, next_attempt_at: datetime | None = None,
                update_required: bool = False) -> SyncStatus:
    with store.read() as conn:
        by_state = outbox.counts(conn)
        oldest = outbox.oldest_waiting(conn)
        waiting_photos, failed_photos, bytes_left = photos.totals(conn)
        last_success = from_iso(store.get(conn, Key.LAST_SUCCESS))
        last_error = store.last_error(conn)
        signed = store.get(conn, Key.REFRESH_TOKEN) is not None
        offset = store.get(conn, Key.CLOCK_OFFSET)
    waiting = sum(by_state[s.value] for s in outbox.WAITING)
    return SyncStatus(
        by_state=by_state, waiting=waiting, rejected=by_state[outbox.OpState.REJECTED.value],
        oldest_waiting_at=oldest,
        oldest_waiting_age_s=(utcnow() - oldest).total_seconds() if oldest else None,
        photos_waiting=waiting_photos, photos_failed=failed_photos,
        photo_bytes_left=bytes_left, last_success_at=last_success, last_error=last_error,
        online=online, running=running, syncing=syncing, next_attempt_at=next_attempt_at,
        signed_in=signed, update_required=update_required,
        clock_offset_s=float(offset) if offset is not None else None)
