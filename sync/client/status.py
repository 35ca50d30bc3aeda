"""What the app shows about sync: a snapshot read from the store plus the engine's
runtime facts (online, running, next attempt). One ``SyncStatus`` for the engine, the
app's screens and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.timeutil import utcnow
from sync.client import outbox, photos, rows
from sync.client.store import ErrorInfo, Key, Store
from sync.client.timefmt import from_iso


@dataclass(frozen=True)
class OpInfo:
    """One op not yet acknowledged, as the Sync screen shows it."""

    op_id: str
    action: str  # accept, arrive, record_swap, report, cash …
    entity_id: str
    state: str  # pending, sending, held, rejected
    created_at: datetime
    code: str | None = None  # rejection code
    message: str | None = None  # the server's message (its language at the time)
    details: dict[str, Any] = field(default_factory=dict)
    can_retry: bool = False
    can_discard: bool = False
    label: str = ""  # what it acted on: a job code


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None = None  # None: not tried yet
    running: bool = False
    syncing: bool = False
    by_state: dict[str, int] = field(default_factory=dict)  # outbox ops by state
    waiting: int = 0  # pending + sending + held: not yet on the server
    rejected: int = 0
    oldest_waiting_at: datetime | None = None
    oldest_waiting_age_s: float | None = None
    photos_waiting: int = 0
    photos_failed: int = 0
    photo_bytes_left: int = 0
    photo_bytes_total: int = 0  # of the photos still queued (for a progress bar)
    last_success_at: datetime | None = None
    last_error: ErrorInfo | None = None
    next_attempt_at: datetime | None = None
    signed_in: bool = False  # the device holds tokens
    auth_required: bool = False  # someone is signed in here but their tokens are gone
    update_required: bool = False  # the server said this app release is too old
    clock_offset_s: float | None = None
    ops: tuple[OpInfo, ...] = ()  # every op not yet acknowledged, oldest first
    data_seq: int = 0  # moves whenever pulled rows changed

    @property
    def error_is_current(self) -> bool:
        """The last error happened after the last success."""
        return self.last_error is not None and (
            self.last_success_at is None or self.last_error.at > self.last_success_at)

    @property
    def current_error(self) -> ErrorInfo | None:
        return self.last_error if self.error_is_current else None

    @property
    def problems(self) -> list[OpInfo]:
        """Rejected ops and the ops held behind them: what needs the user."""
        return [o for o in self.ops if o.state in ("rejected", "held")]


def _op_info(o: outbox.OutboxEntry, codes: dict[str, Any]) -> OpInfo:
    rejected = o.state == outbox.OpState.REJECTED
    held = o.state == outbox.OpState.HELD
    return OpInfo(
        op_id=o.op_id, action=o.action, entity_id=o.entity_id, state=o.state.value,
        created_at=o.created_at, code=o.result_code, message=o.result_message,
        details=dict(o.result_details or {}),
        can_retry=held or (rejected and o.result_code == outbox.GAVE_UP),
        can_discard=rejected or held, label=str(codes.get(o.entity_id) or ""))


def read_status(store: Store, *, online: bool | None = None, running: bool = False,
                syncing: bool = False, next_attempt_at: datetime | None = None,
                update_required: bool = False) -> SyncStatus:
    with store.read() as conn:
        by_state = outbox.counts(conn)
        oldest = outbox.oldest_waiting(conn)
        waiting_photos, failed_photos, bytes_left = photos.totals(conn)
        bytes_total = int(conn.exec_driver_sql(
            "SELECT coalesce(sum(size), 0) FROM photo WHERE state IN "
            "('queued', 'uploading')").scalar() or 0)
        last_success = from_iso(store.get(conn, Key.LAST_SUCCESS))
        last_error = store.last_error(conn)
        signed = store.get(conn, Key.REFRESH_TOKEN) is not None
        someone = store.signed_in(conn) is not None
        offset = store.get(conn, Key.CLOCK_OFFSET)
        data_seq = int(store.get(conn, Key.DATA_SEQ, 0) or 0)
        unacked = [o for o in outbox.live(conn) if o.state not in outbox.ACKED]
        jobs = {o.entity_id: rows.get(conn, "work_order", o.entity_id) for o in unacked}
        codes = {oid: got[1].get("code") for oid, got in jobs.items() if got}
    waiting = sum(by_state[s.value] for s in outbox.WAITING)
    return SyncStatus(
        by_state=by_state, waiting=waiting, rejected=by_state[outbox.OpState.REJECTED.value],
        oldest_waiting_at=oldest,
        oldest_waiting_age_s=(utcnow() - oldest).total_seconds() if oldest else None,
        photos_waiting=waiting_photos, photos_failed=failed_photos,
        photo_bytes_left=bytes_left, photo_bytes_total=bytes_total,
        last_success_at=last_success, last_error=last_error, online=online, running=running,
        syncing=syncing, next_attempt_at=next_attempt_at, signed_in=signed,
        auth_required=someone and not signed, update_required=update_required,
        clock_offset_s=float(offset) if offset is not None else None,
        ops=tuple(_op_info(o, codes) for o in unacked), data_seq=data_seq)
