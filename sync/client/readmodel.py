"""What the screens show: the server's rows with the user's own unsynced work laid over.

* a pending accept shows the job as accepted, marked "pending";
* a pending report shows the new job before the server has seen it;
* a rejected op shows the server's row as it is, with the reason in the user's language;
* ops held behind a rejection, and pending ops a pulled change made impossible, are shown
  with what they wait for, not laid over the row.

Statuses and fields come from the shared rules (``sync.client.overlay``), so the phone
computes what the server will. Times are judged against the server's clock (device
clock corrected by the offset measured at each sync).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.enums import (
    FIELD_ROLES,
    OPEN_STATUSES,
    PRIORITY_RANK,
    Priority,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.timeutil import utcnow
from shared.workorders import deadlines
from shared.workorders.rules import JobState, available_actions
from shared.workorders.state_machine import Action, Actor
from sync.client import outbox, rows
from sync.client.messages import describe
from sync.client.outbox import ACKED, OpState, OutboxEntry
from sync.client.overlay import Effect, lay_over
from sync.client.sqlite import Connection
from sync.client.store import Key, Store
from sync.client.timefmt import from_iso
from sync.clock import Clock
from sync.lanes import order_lane, order_of
from sync.protocol import OpType

S = WorkOrderStatus
_FAR = datetime.max.replace(tzinfo=UTC)


class Mark(StrEnum):
    SYNCED = "synced"
    PENDING = "pending"  # unsynced ops laid over the row
    CONFLICT = "conflict"  # a pending op is no longer possible: the server will refuse it
    HELD = "held"  # ops wait behind a rejected one
    REJECTED = "rejected"  # the server refused an op: its row is shown, with the reason


@dataclass(frozen=True)
class SyncMark:
    mark: Mark
    unsynced: int = 0
    code: str | None = None
    reason: str | None = None
    op_id: str | None = None


@dataclass(frozen=True)
class JobView:
    row: dict[str, Any]  # as shown (server row + laid ops)
    server_row: dict[str, Any] | None
    sync: SyncMark
    flags: deadlines.Flags | None
    allowed_actions: tuple[str, ...]
    ops: tuple[OutboxEntry, ...] = ()
    effects: tuple[Effect, ...] = ()
    has_swap: bool = False  # its meter swap is pulled, or pending and laid over

    @property
    def id(self) -> str:
        return str(self.row["id"])

    @property
    def status(self) -> WorkOrderStatus:
        return S(self.row["status"])


@dataclass(frozen=True)
class TimelineItem:
    id: str
    action: str
    from_status: str | None
    to_status: str | None
    occurred_at: datetime
    actor_id: str | None
    data: dict[str, Any]
    sync: str  # synced | pending | held | rejected | conflict
    reason: str | None = None


@dataclass(frozen=True)
class PhotoItem:
    sha256: str
    purpose: str
    caption: str | None
    local_path: str | None
    upload: str | None  # queued | uploading | done | failed (None: not taken on this device)
    synced: bool


@dataclass(frozen=True)
class CashLine:
    """One field-cash recharge the user recorded: synced (a ledger entry), or an op not
    yet brought back by a pull (``pending``, ``rejected`` with the reason)."""

    id: str  # ledger entry id, or the op id while it is not synced
    account_id: str
    amount_fen: int
    receipt_no: str
    at: datetime
    state: str  # synced | pending | sent (acknowledged, not pulled yet) | rejected
    reason: str | None = None
    op_id: str | None = None


@dataclass(frozen=True)
class JobDetail:
    job: JobView
    timeline: list[TimelineItem]
    photos: list[PhotoItem]
    swap: dict[str, Any] | None
    problems: list[OutboxEntry] = field(default_factory=list)  # rejected / held ops
    #: an inspection job's finding: pulled, or its op (``pending``: not acknowledged yet)
    finding: dict[str, Any] | None = None


def _dt(value: Any) -> datetime | None:
    return from_iso(value) if isinstance(value, str) else value


def assess(row: dict[str, Any], now: datetime) -> deadlines.Flags | None:
    complete_by = _dt(row.get("complete_by"))
    if complete_by is None:
        return None
    return deadlines.assess(
        kind=WorkOrderKind(row["kind"]), status=S(row["status"]), now=now,
        arrive_by=_dt(row.get("arrive_by")), complete_by=complete_by,
        arrived_at=_dt(row.get("arrived_at")), resolved_at=_dt(row.get("resolved_at")),
        last_activity_at=_dt(row.get("last_activity_at")) or now)


def urgency_key(view: JobView, now: datetime) -> tuple[Any, ...]:
    """Open before done; then jobs whose next deadline has passed; then by that deadline
    (arrival while not yet on site, else completion); then priority; then oldest report."""
    row = view.row
    status = S(row["status"])
    arrived = row.get("arrived_at") is not None or status not in (
        S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE)
    deadline = (None if arrived else _dt(row.get("arrive_by"))) or _dt(row.get("complete_by"))
    late = deadline is not None and deadline < now
    return (status not in OPEN_STATUSES, not late, deadline or _FAR,
            PRIORITY_RANK.get(Priority(row.get("priority") or "normal"), 9),
            _dt(row.get("reported_at")) or _FAR, row["id"])


class ReadModel:
    """Queries for the screens. ``lang`` picks the language of device-made messages
    (the server's messages arrive in the language the device asked for)."""

    def __init__(self, store: Store, *, lang: str = "zh") -> None:
        self.store = store
        self.lang = lang

    def server_now(self, conn: Connection) -> datetime:
        return Clock.of_seconds(self.store.get(conn, Key.CLOCK_OFFSET)).server_now()

    # -- lists ----------------------------------------------------------------------
    def my_jobs(self, *, now: datetime | None = None, include_done: bool = False
                ) -> list[JobView]:
        """The user's jobs, most urgent first. Jobs with unsynced ops always show."""
        with self.store.read() as conn:
            who = self.store.signed_in(conn)
            actor = who.actor if who else None
            now = now or self.server_now(conn)
            ops = self._ops_by_order(conn, who.user_id if who else None)
            server = self._orders(conn, actor, extra_ids=ops.keys())
            views = []
            for oid in set(server) | set(ops):
                view = self._view(conn, server.get(oid), ops.get(oid, []), actor, now)
                if view is None:
                    continue
                mine = actor is None or actor.role not in FIELD_ROLES or (
                    view.row.get("assignee_id") == actor.user_id)
                done = view.status not in OPEN_STATUSES
                if view.sync.mark != Mark.SYNCED or (mine and (include_done or not done)):
                    views.append(view)
        return sorted(views, key=lambda v: urgency_key(v, now))

    def job(self, order_id: str, *, now: datetime | None = None) -> JobDetail | None:
        with self.store.read() as conn:
            who = self.store.signed_in(conn)
            actor = who.actor if who else None
            now = now or self.server_now(conn)
            got = rows.get(conn, "work_order", order_id)
            ops = [o for o in outbox.for_lane(conn, order_lane(order_id))
                   if o.state != OpState.DISCARDED and (who is None or o.user_id == who.user_id)]
            view = self._view(conn, got[1] if got else None, ops, actor, now)
            if view is None:
                return None
            return JobDetail(job=view, timeline=self._timeline(conn, view),
                             photos=self._photos(conn, view), swap=self._swap(conn, view),
                             problems=[o for o in ops if o.state in (OpState.REJECTED,
                                                                     OpState.HELD)],
                             finding=self._finding(conn, view))

    def cash_recharges(self) -> list[CashLine]:
        """The signed-in user's field cash, newest first: the ledger entries they recorded
        and their ``recharge.cash@1`` ops that no pull has brought back yet."""
        with self.store.read() as conn:
            who = self.store.signed_in(conn)
            if who is None:
                return []
            out: list[CashLine] = []
            seen_ops: set[str] = set()
            for _, e in rows.all_of(conn, "ledger_entry", "json_extract(data, '$.kind') = ? "
                                    "AND json_extract(data, '$.actor_id') = ?",
                                    ("recharge_cash", who.user_id)):
                data = e.get("data") or {}
                if data.get("op_id"):
                    seen_ops.add(str(data["op_id"]))
                out.append(CashLine(str(e["id"]), str(e["account_id"]), int(e["amount_fen"]),
                                    str(data.get("receipt_no") or ""),
                                    _dt(e.get("occurred_at")) or utcnow(), "synced"))
            ledger_ids = {c.id for c in out}
            for op in outbox.select(conn, "type = ? AND user_id = ? AND state != 'discarded'",
                                    (OpType.RECHARGE_CASH.value, who.user_id)):
                if op.op_id in seen_ops or (op.state in ACKED
                                            and op.result_entity_id in ledger_ids):
                    continue
                rejected = op.state == OpState.REJECTED
                out.append(CashLine(
                    op.op_id, str(op.payload.get("account_id")),
                    int(op.payload.get("amount_fen") or 0), str(op.payload.get("receipt_no")),
                    op.created_at, "rejected" if rejected else (
                        "sent" if op.state in ACKED else "pending"),
                    self.reason(op) if rejected else None, op.op_id))
        return sorted(out, key=lambda c: c.at, reverse=True)

    def problems(self) -> list[OutboxEntry]:
        """Every rejected or held op (the "needs your attention" list)."""
        with self.store.read() as conn:
            return outbox.select(conn, "state IN ('rejected', 'held')")

    def reason(self, op: OutboxEntry) -> str:
        """Why an op is rejected or held, in the user's language."""
        if op.state == OpState.HELD:
            return describe("SYNC_HELD", self.lang)
        if op.result_message and op.result_code != outbox.GAVE_UP:
            return op.result_message
        return describe(op.result_code or "SYNC_TRANSIENT", self.lang, op.result_details)

    # -- assembling -----------------------------------------------------------------
    def _ops_by_order(self, conn: Connection, user_id: str | None
                      ) -> dict[str, list[OutboxEntry]]:
        out: dict[str, list[OutboxEntry]] = defaultdict(list)
        for op in outbox.live(conn, user_id):
            order_id = order_of(op.lane)
            if order_id is not None:
                out[order_id].append(op)
        return out

    def _orders(self, conn: Connection, actor: Actor | None, extra_ids: Any
                ) -> dict[str, dict[str, Any]]:
        if actor is not None and actor.role in FIELD_ROLES:
            found = {r["id"]: r for _, r in rows.all_of(
                conn, "work_order", "json_extract(data, '$.assignee_id') = ?",
                (actor.user_id,))}
            for oid in extra_ids:
                if oid not in found and (got := rows.get(conn, "work_order", oid)):
                    found[oid] = got[1]
            return found
        return {r["id"]: r for _, r in rows.all_of(conn, "work_order")}

    def _reflected(self, conn: Connection, op: OutboxEntry, row: dict[str, Any] | None
                   ) -> bool:
        """Does the pulled row already contain this acknowledged op's effect?"""
        if op.result_version is None or op.result_entity is None:
            return True  # unknown: the next pull shows it
        if op.result_entity == "work_order" and row is not None:
            return int(row.get("version") or 0) >= op.result_version
        got = rows.get(conn, op.result_entity, op.result_entity_id or op.entity_id)
        return got is not None and got[0] >= op.result_version

    def _view(self, conn: Connection, row: dict[str, Any] | None, ops: list[OutboxEntry],
              actor: Actor | None, now: datetime) -> JobView | None:
        if row is None:  # left the user's scope: show the row a rejection came back with
            row = next((o.result_row for o in reversed(ops)
                        if o.state == OpState.REJECTED and o.result_row), None)
        laid = [o for o in ops if o.state in outbox.UNSENT
                or (o.state in ACKED and not self._reflected(conn, o, row))]
        pulled_swap = (row is not None and row.get("kind") == WorkOrderKind.METER_SWAP.value
                       and bool(rows.children(conn, "meter_swap", row["id"])))
        shown, effects = lay_over(row, laid, actor, self._lookup(conn), has_swap=pulled_swap)
        if shown is None:
            return None
        mark = self._mark(ops, effects)
        has_swap = pulled_swap or any(e.laid and e.action == Action.RECORD_SWAP
                                      for e in effects)
        acts = tuple(a.value for a in available_actions(
            JobState.of(shown, has_swap=has_swap), actor)) if actor else ()
        return JobView(shown, row, mark, assess(shown, now), acts, tuple(ops), tuple(effects),
                       has_swap)

    def _lookup(self, conn: Connection) -> Any:
        def lookup(entity: str, rid: str) -> dict[str, Any] | None:
            got = rows.get(conn, entity, rid)
            return got[1] if got else None
        return lookup

    def _mark(self, ops: list[OutboxEntry], effects: list[Effect]) -> SyncMark:
        unsynced = sum(1 for o in ops if o.state in outbox.WAITING)
        rejected = [o for o in ops if o.state == OpState.REJECTED]
        if rejected:
            last = rejected[-1]
            return SyncMark(Mark.REJECTED, unsynced, last.result_code, self.reason(last),
                            last.op_id)
        held = [o for o in ops if o.state == OpState.HELD]
        if held:
            return SyncMark(Mark.HELD, unsynced, "SYNC_HELD", self.reason(held[0]),
                            held[0].op_id)
        for eff in effects:
            if eff.problem is not None and eff.op.state in outbox.UNSENT:
                return SyncMark(Mark.CONFLICT, unsynced, eff.problem.code.value,
                                describe(eff.problem.code, self.lang, eff.problem.details),
                                eff.op.op_id)
        if unsynced:
            return SyncMark(Mark.PENDING, unsynced)
        return SyncMark(Mark.SYNCED)

    def _timeline(self, conn: Connection, view: JobView) -> list[TimelineItem]:
        items: list[TimelineItem] = []
        seen: set[str] = set()
        for ev in rows.children(conn, "work_order_event", view.id):
            seen.add(ev["id"])
            items.append(TimelineItem(
                ev["id"], ev["action"], ev.get("from_status"), ev.get("to_status"),
                _dt(ev["occurred_at"]) or utcnow(), ev.get("actor_id"), ev.get("data") or {},
                "synced"))
        effects = {e.op.op_id: e for e in view.effects}
        for op in view.ops:
            eff = effects.get(op.op_id)
            if op.op_id in seen or (op.state in ACKED and eff is None):
                continue  # on the server's timeline already (or soon, with the next pull)
            sync = {OpState.HELD: "held", OpState.REJECTED: "rejected", OpState.APPLIED: "synced",
                    OpState.DUPLICATE: "synced"}.get(op.state, "pending")
            reason = self.reason(op) if op.state in (OpState.HELD, OpState.REJECTED) else None
            if eff is not None and eff.problem is not None and op.state in outbox.UNSENT:
                sync = "conflict"
                reason = describe(eff.problem.code, self.lang, eff.problem.details)
            laid = eff is not None and eff.laid
            items.append(TimelineItem(
                op.op_id, op.action, eff.from_status if laid and eff else None,
                eff.to_status if laid and eff else None, op.created_at, op.user_id,
                op.payload, sync, reason))
        return sorted(items, key=lambda i: i.occurred_at)

    def _photos(self, conn: Connection, view: JobView) -> list[PhotoItem]:
        local = {r[0]: (r[1], r[2]) for r in conn.exec_driver_sql(
            "SELECT sha256, path, state FROM photo")}
        out: dict[str, PhotoItem] = {}

        def add(sha: str, purpose: str, caption: str | None, synced: bool) -> None:
            path, state = local.get(sha, (None, None))
            if sha not in out:
                out[sha] = PhotoItem(sha, purpose, caption, path, state, synced)

        for link in rows.children(conn, "photo_link", view.id):
            add(link["sha256"], link.get("purpose") or "job", link.get("caption"), True)
        for op in view.ops:
            if op.state == OpState.DISCARDED:
                continue
            if op.type == OpType.WO_ADD_PHOTO:
                add(op.payload["sha256"], "job", op.payload.get("caption"), False)
            elif op.type == OpType.METER_SWAP_RECORD:
                add(op.payload.get("old_face_photo", ""), "old_face", None, False)
                add(op.payload.get("new_face_photo", ""), "new_face", None, False)
            else:
                for sha in op.photos:
                    add(sha, "report" if op.type == OpType.WO_REPORT else "job", None, False)
        return [p for p in out.values() if p.sha256]

    def _finding(self, conn: Connection, view: JobView) -> dict[str, Any] | None:
        return self._record(conn, view, "inspection_finding", OpType.INSPECTION_FINDING)

    def _swap(self, conn: Connection, view: JobView) -> dict[str, Any] | None:
        return self._record(conn, view, "meter_swap", OpType.METER_SWAP_RECORD)

    def _record(self, conn: Connection, view: JobView, entity: str, op_type: OpType
                ) -> dict[str, Any] | None:
        """A job's one record of ``entity`` (its swap, its finding): pulled, or the op
        that makes it — unsent, or acknowledged and not yet brought back by a pull
        (``pending``: not acknowledged yet)."""
        found = rows.children(conn, entity, view.id)
        if found:
            return found[0]
        for op in view.ops:
            if op.type == op_type and (op.state in outbox.WAITING or op.state in ACKED):
                return {**op.payload, "work_order_id": view.id,
                        "pending": op.state in outbox.WAITING}
        return None
