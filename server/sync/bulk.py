"""Set-wise push: a chunk of ops decided at once.

The per-op path (``server.sync.push``) loads each op's job as an ORM object, applies it
through ``work_orders.act`` in its own savepoint and writes ~7 statements per op. Here a
chunk's light ops (the work-order actions that change only the job's row and add a
timeline event: accept, start travel, arrive, note, help, resolve, confirm, cancel,
decline) are decided in memory with the same pure rule (``shared.workorders.rules.decide``)
against rows loaded in a few queries, later ops seeing earlier ones, and written with one
statement per table (``executemany``); results are built without reading anything back.
A job's events of the chunk share one change-log entry (``server.changes.models.TIMELINE``:
every one of them is recorded at the chunk's time) instead of one each.

Everything else goes through the per-op path, in order, inside the same transaction:
heavy ops (report, photo, meter swap, cash, dispatch), a customer's job moving in a way
the customer is told of (set off, arrive, resolve) or that moves a business application on
(``work_orders.does_more_than_the_row``), and any op the fast path cannot
finish itself — a refusal of any kind (lane, payload, visibility, state machine), a
duplicate of a rejected op (its answer carries the server's row). Before such an op the
pending writes are flushed, so it sees the database as the per-op path would; afterwards
its job is read again when next needed. An op id already used as an event id (a client
that reused one) is not looked for: its event's insert fails, and the chunk is replayed
op by op (below), as any conflict is.
The per-op path is thus also the oracle: ``tests/integration/test_bulk_push_property.py``
feeds random op streams to both and compares the databases and the answers.

On PostgreSQL the chunk's jobs are locked (``FOR UPDATE``) in id order when first read.
A conflict while writing (an ``IntegrityError``: e.g. a concurrent push of the same op)
rolls the chunk back and replays it op by op.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from server.db import (
    BulkRead,
    BulkWrite,
    Database,
    DatetimeTexts,
    among,
    among_param,
    among_value,
)
from server.meters.models import MeterSwap
from server.stations.models import Station, TransformerArea
from server.sync import handlers, times
from server.sync import push as per_op
from server.sync.models import AppliedOp
from server.uow import Scope, UnitOfWork, Written
from server.users.models import User
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.enums import (
    AreaClass,
    Priority,
    ReportChannel,
    Role,
    WorkOrderKind,
    WorkOrderStatus,
)
from shared.errors import DomainError
from shared.ids import new_id
from shared.timeutil import utcnow
from shared.workorders.rules import Decision, JobState, decide
from shared.workorders.state_machine import TRANSITIONS, Action, Actor
from sync.clock import Clock
from sync.idempotency import Decided, Gate, gate
from sync.lanes import LaneGate
from sync.protocol import (
    ACTION_OF,
    PROTOCOL_VERSION,
    OpEnvelope,
    OpResult,
    OpType,
    PushRequest,
    PushResponse,
)

log = logging.getLogger("gridone.sync.bulk")
#: Ops per transaction: a whole push. 2,000 notes hold SQLite's write lock 0.09-0.11 s
#: here (another writer waits that long at most); against 500 a transaction, a note's
#: share of the chunk's per-job work (the jobs read and written, their change-log entries,
#: the WAL pages every commit writes again) is a quarter: 654,830 -> 559,549 instructions
#: a note; 4,000 would save only 1.8 % more (``bench/README.md``, 2026-12-04 evening).
CHUNK = 2000

#: The actions decided set-wise: they change the job's row and add one timeline event.
LIGHT = frozenset({Action.ACCEPT, Action.DECLINE, Action.START_TRAVEL, Action.ARRIVE,
                   Action.ADD_NOTE, Action.REQUEST_HELP, Action.RESOLVE, Action.CONFIRM,
                   Action.CANCEL})
_LIGHT_TYPES = {op: action for op, action in ACTION_OF.items() if action in LIGHT}
_ORDERS: Table = WorkOrder.__table__  # type: ignore[attr-defined]
_EVENTS: Table = WorkOrderEvent.__table__  # type: ignore[attr-defined]
_RECORDS: Table = AppliedOp.__table__  # type: ignore[attr-defined]
#: The job's columns a light action may change (written back for every touched job).
_WRITTEN = ("status", "assignee_id", "priority", "dispatched_at", "accepted_at",
            "arrived_at", "resolved_at", "confirmed_at", "closed_at", "cancelled_at",
            "last_activity_at", "help_requested", "reopen_count", "resolution", "cause",
            "cancel_reason", "rating", "rating_comment", "updated_at", "version")
#: The job's columns read: what the rules and the change log need, and what is written.
_READ = [_ORDERS.c[name] for name in ("id", "kind", "station_id", "account_id",
                                      "reported_at", *_WRITTEN)]
_JOBS = BulkRead(_READ)
#: One UPDATE per set of changed columns: SQLite rewrites the entries of every index on a
#: column the statement sets, changed or not (a note sets three unindexed columns; writing
#: all of ``_WRITTEN`` rewrote ~7 of the job's index entries and cost ~40 µs a job).
_UPDATES: dict[frozenset[str], BulkWrite] = {}
_INSERT_EVENTS, _INSERT_RECORDS = BulkWrite(insert(_EVENTS)), BulkWrite(insert(_RECORDS))
#: A pending event's and record's values, in their tables' column order (tuples: no dict
#: an op, and the INSERT takes them as they are).
_EVENT_KEYS = ("id", "work_order_id", "action", "from_status", "to_status", "actor_id",
               "actor_role", "occurred_at", "recorded_at", "data")
_RECORD_KEYS = ("op_id", "device_id", "device_seq", "user_id", "lane", "type", "entity_id",
                "content_hash", "status", "code", "details", "result", "device_created_at",
                "effective_at", "clock_offset_s", "received_at")
if (tuple(_EVENTS.c.keys()) != _EVENT_KEYS
        or tuple(_RECORDS.c.keys()) != _RECORD_KEYS):  # pragma: no cover - a schema change
    raise RuntimeError("server.sync.bulk: the events' or records' columns changed")
_BY_JOB = itemgetter(1, 0)  # an event's work order, then its id


def push(db: Database, *, actor: Any, request: PushRequest, lang: str,
         received_at: datetime | None = None, pepper: str = "") -> list[OpResult]:
    """Same contract as ``server.sync.push.push``; chunks decided set-wise."""
    return per_op.push(db, actor=actor, request=request, lang=lang, received_at=received_at,
                       run=apply_chunk, chunk=CHUNK, pepper=pepper)


def apply_chunk(db: Database, batch: Any, chunk: list[OpEnvelope], lanes: LaneGate, *,
                first: bool) -> list[OpResult]:
    """Decide ``chunk`` set-wise in one transaction; on a write conflict, op by op."""
    closed = lanes.snapshot()
    clock = batch.clock  # the push's own sample (``_touch_device`` puts the session's)
    try:
        with UnitOfWork(db, batch.actor) as uow:
            uow.pepper = batch.pepper
            if first:
                per_op._touch_device(uow, batch)
            results = _Chunk(uow, batch, chunk, lanes).run()
            uow.commit()
        return results
    except IntegrityError as exc:
        log.info("set-wise chunk met a conflict (%s): replayed op by op", exc.orig)
        lanes.restore(closed)
        batch.clock = clock  # the device is noted again from the push's own sample
        return per_op.apply_chunk(db, batch, chunk, lanes, first=first)


@dataclass
class _Pending:
    """Writes decided but not yet sent to the database."""

    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: per pending job, the columns changed since it was read
    changed: dict[str, set[str]] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # _EVENT_KEYS
    records: list[tuple[Any, ...]] = field(default_factory=list)  # _RECORD_KEYS

    def __bool__(self) -> bool:
        return bool(self.jobs or self.events or self.records)


class _Chunk:
    def __init__(self, uow: UnitOfWork, batch: Any, chunk: list[OpEnvelope],
                 lanes: LaneGate) -> None:
        self.uow, self.session, self.batch = uow, uow.session, batch
        self.actor = batch.actor
        self.chunk, self.lanes = chunk, lanes
        #: when the chunk is recorded: the records' receipt, the events' and jobs' writes
        self.now = utcnow()
        self.offset_s = batch.clock.offset.total_seconds()
        self.dialect = self.session.get_bind().dialect.name
        self.known = _decided(self.session, chunk, self.dialect)
        self.holders = per_op.seq_holders(self.session, batch.request.device_id, chunk)
        self.pending = _Pending()
        self.jobs: dict[str, dict[str, Any] | None] = {}  # None: not visible to the actor
        #: per job read, what its ops share until the job changes more than its activity
        #: time (``_Fixed``): dropped when it does, and when the job is read again
        self.fixed: dict[str, _Fixed] = {}
        self.swapped: set[str] = set()
        self._load(sorted({op.entity_id for op in chunk if op.type in _LIGHT_TYPES}))

    # -- reading -------------------------------------------------------------------
    def _load(self, order_ids: list[str]) -> None:
        """The jobs the actor may see among ``order_ids``, locked in id order."""
        if not order_ids:
            return
        rows = {r["id"]: _typed(r) for r in _JOBS.run(
            self.session, _jobs_of(self.actor, self.dialect),
            {"ids": among_value(order_ids, self.dialect)})}
        swaps = [i for i, r in rows.items() if r["kind"] == WorkOrderKind.METER_SWAP.value]
        if swaps:
            swap_job = MeterSwap.__table__.c.work_order_id  # type: ignore[attr-defined]
            self.swapped.update(self.session.execute(select(swap_job).where(
                among(swap_job, swaps, self.dialect))).scalars())
        for order_id in order_ids:
            self.jobs[order_id] = rows.get(order_id)
            self.fixed.pop(order_id, None)

    def _job(self, order_id: str) -> dict[str, Any] | None:
        if order_id not in self.jobs:
            self._load([order_id])
        return self.jobs[order_id]

    def _fixed(self, job: dict[str, Any]) -> _Fixed:
        """What the ops of ``job`` share while it changes no more than its activity time
        (a note changes nothing else): its time floors and its change-log scope."""
        fixed = self.fixed.get(job["id"])
        if fixed is None:
            fixed = self.fixed[job["id"]] = _Fixed(
                {}, Scope(job["station_id"], job["account_id"], job["assignee_id"]))
        return fixed

    def _floor(self, job: dict[str, Any], fixed: _Fixed, moves: bool) -> datetime | None:
        """``times.job_floor`` of ``job`` for an action that moves its status or not,
        worked out when first asked (a chunk of notes never asks the other) and kept in
        ``fixed`` while it holds."""
        floors = fixed.floors
        if moves in floors:
            return floors[moves]
        floor = floors[moves] = times.job_floor(job, actor_id=self.actor.user_id,
                                                transition=moves)
        return floor

    # -- deciding ------------------------------------------------------------------
    def run(self) -> list[OpResult]:
        results = [self._one(op) for op in self.chunk]
        self._flush()
        return results

    def _one(self, op: OpEnvelope) -> OpResult:
        if not self.lanes.open(op.lane):
            return per_op._deferred(op, per_op.SyncErrorCode.LANE_PREDECESSOR_MISSING,
                                    self.batch.lang)
        action = _LIGHT_TYPES.get(op.type)
        content_hash = op.content_hash()
        where, rec = gate(op, content_hash=content_hash, device_id=self.batch.request.device_id,
                          user_id=self.actor.user_id, known=self.known)
        if where == Gate.DECIDED and rec is not None and rec.status == "applied":
            return per_op._from_record(self.session, self.batch, op, rec)
        if where == Gate.PREDECESSOR_MISSING:
            self.lanes.close(op.lane)
            return per_op._deferred(op, per_op.SyncErrorCode.LANE_PREDECESSOR_MISSING,
                                    self.batch.lang)
        if where == Gate.NEW and action is not None and per_op.seq_problem(
                op, out_of_order=self.batch.out_of_order, holders=self.holders) is None:
            done = self._light(op, action, content_hash)
            if done is not None:
                return done
        return self._per_op(op)

    def _per_op(self, op: OpEnvelope) -> OpResult:
        """The op through the per-op path, on the database as it stands after the
        pending writes; its job is read again when next needed."""
        self._flush()
        result = per_op._one_in_chunk(self.uow, self.batch, op, self.lanes, self.known,
                                      self.holders)
        self.jobs.pop(op.entity_id, None)
        self.fixed.pop(op.entity_id, None)
        return result

    def _light(self, op: OpEnvelope, action: Action, content_hash: str) -> OpResult | None:
        """Decide a light op in memory; None: the per-op path must (a refusal, most often)."""
        try:
            _spec, body = handlers.parse(op)
        except (KeyError, handlers.PayloadError):
            return None
        data = handlers.fields_of(body)
        job = self._job(op.entity_id)
        if job is None:
            return None
        if work_orders.does_more_than_the_row(action=action, kind=job["kind"],
                                              account_id=job["account_id"]):
            return None  # the customer is told, an application moves on: work_orders.act
        if data.get("expected_version") and data["expected_version"] != job["version"]:
            return None
        prev = self.known.get(op.lane_prev) if op.lane_prev else None
        fixed = self._fixed(job)
        timing = times.bound(op.created_at, clock=self.batch.clock, received=self.batch.now,
                             floors=[prev.effective_at if prev else None,
                                     self._floor(job, fixed, _MOVES[action])])
        if timing.flag is not None:
            return None  # a flagged time: the per-op path records it on the event
        at, flagged = timing.at, self.batch.clock.flagged
        try:
            decision = decide(_state(job, op.entity_id in self.swapped), self.actor, action,
                              data, at)
        except DomainError:
            return None
        assignee = job["assignee_id"]
        self._store(job, decision, op, at, fixed.scope)
        version = job["version"]
        if job["assignee_id"] != assignee:  # whether the actor still sees it: read again
            self._flush()
            self.jobs.pop(op.entity_id, None)
            self.fixed.pop(op.entity_id, None)
        details: dict[str, Any] = {}
        result = {"entity": "work_order", "entity_id": op.entity_id, "version": version,
                  "clock_flagged": flagged, "time_flagged": None}
        user_id = self.actor.user_id
        self.holders.setdefault(op.device_seq, set()).add(op.op_id)
        self.pending.records.append((  # _RECORD_KEYS
            op.op_id, op.device_id, op.device_seq, user_id, op.lane, op.type, op.entity_id,
            content_hash, "applied", None, details, result, op.created_at, at,
            self.offset_s, self.now))
        self.known[op.op_id] = Decided(op.op_id, user_id, op.entity_id, content_hash,
                                       "applied", None, details, result, at)
        return OpResult.applied(op.op_id, "work_order", op.entity_id, version)

    def _store(self, job: dict[str, Any], decision: Decision, op: OpEnvelope,
               at: datetime, scope: Scope) -> None:
        """``work_orders.apply_decision`` and ``audit_decision``, on a plain row.
        ``scope``: the job's as it was read (``_Fixed``)."""
        uow, actor = self.uow, self.actor
        previous_assignee = job["assignee_id"]
        changed = self.pending.changed.setdefault(job["id"], {"updated_at", "version"})
        moved = False  # anything but the activity time: what ``_Fixed`` holds may change
        for name, value in decision.changes.items():
            if job[name] != value:
                job[name] = value
                changed.add(name)
                moved = moved or name != "last_activity_at"
        if moved:
            self.fixed.pop(job["id"], None)
            scope = Scope(job["station_id"], job["account_id"], job["assignee_id"])
        job["updated_at"] = self.now
        job["version"] += 1
        if job["id"] not in self.pending.jobs:  # its change-log entry reads it at commit
            self.pending.jobs[job["id"]] = job
            uow.written(Written("work_order", job))
        if job["assignee_id"] != previous_assignee:
            for user_id, enter in ((previous_assignee, False), (job["assignee_id"], True)):
                if user_id:
                    uow.scope_move(order_id=job["id"], version=job["version"], enter=enter,
                                   scope=Scope(job["station_id"], job["account_id"], user_id))
        self.pending.events.append((  # _EVENT_KEYS
            op.op_id, job["id"], _TEXT[decision.action], _TEXT[decision.from_status],
            _TEXT[job["status"]], actor.user_id, _TEXT[actor.role], at, self.now,
            decision.event_data))
        uow.timeline(job["id"], self.now, scope)
        work_orders.audit_decision(uow, order_id=job["id"], decision=decision)

    # -- writing -------------------------------------------------------------------
    def _flush(self) -> None:
        """The pending writes: one statement per table."""
        pending, session = self.pending, self.session
        if not pending:
            return
        session.flush()
        formatted = DatetimeTexts()
        by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
        for order_id, names in pending.changed.items():
            job = pending.jobs[order_id]
            by_columns.setdefault(frozenset(names), []).append(
                {"_id": order_id, **{n: _plain(job[n]) for n in names}})
        for columns, rows in by_columns.items():
            _update_of(columns).run(session, rows, formatted=formatted)
        # in the order of the (work order, id) index: a push's events spread over many
        # jobs, and inserted job by job each lands next to the one before (~1 µs a note of
        # SQLite's time over 200 jobs: bench/README.md)
        pending.events.sort(key=_BY_JOB)
        _INSERT_EVENTS.run_values(session, _EVENT_KEYS, pending.events, formatted=formatted)
        _INSERT_RECORDS.run_values(session, _RECORD_KEYS, pending.records,
                                   formatted=formatted)
        # an ORM copy loaded by a per-op op is stale now: the session holds a few objects
        # at most, looked through once (not an identity-map lookup per job written)
        for loaded in [o for o in session.identity_map.values()
                       if isinstance(o, WorkOrder) and o.id in pending.jobs]:
            session.refresh(loaded)
        self.pending = _Pending()


class _Fixed(NamedTuple):
    """What a job's ops share while it changes no more than its activity time
    (``_Chunk._fixed``): its time floors (by whether the action moves its status:
    ``times.job_floor``), filled in as asked (``_Chunk._floor``), and its change-log
    scope."""

    floors: dict[bool, datetime | None]
    scope: Scope


#: Whether an action moves the job's status (``times.job_floor``'s ``transition``).
_MOVES = {action: t.target is not None for action, t in TRANSITIONS.items()}


def _update_of(names: frozenset[str]) -> BulkWrite:
    """The job UPDATE setting just ``names`` (cached: a handful of sets occur)."""
    write = _UPDATES.get(names)
    if write is None:
        columns = sorted(names)
        write = _UPDATES[names] = BulkWrite(
            update(_ORDERS).where(_ORDERS.c.id == bindparam("_id"))
            .values({name: bindparam(name) for name in columns}))
    return write


@functools.lru_cache(maxsize=1024)
def _jobs_of(actor: Any, dialect: str) -> Any:
    """The read of the jobs ``actor`` may see among the ``ids``, in id order (locked on
    PostgreSQL), built once per actor."""
    stmt = (_JOBS.select(dialect).where(among_param(_ORDERS.c.id, "ids", dialect),
                                        work_orders.visible_clause(actor))
            .order_by(_ORDERS.c.id))
    return stmt.with_for_update() if dialect == "postgresql" else stmt


_DECIDED = BulkRead([_RECORDS.c[name] for name in Decided._fields])
_DECIDED_AMONG = {dialect: _DECIDED.select(dialect).where(
    among_param(_RECORDS.c.op_id, "ids", dialect)) for dialect in ("sqlite", "postgresql")}


def _decided(session: Any, chunk: list[OpEnvelope], dialect: str) -> dict[str, Decided]:
    """``per_op._decided`` with plain rows (no ORM objects): the records of the chunk's
    ops and of their lane predecessors."""
    ids = {op.op_id for op in chunk} | {op.lane_prev for op in chunk if op.lane_prev}
    rows = _DECIDED.run(session, _DECIDED_AMONG[dialect],
                        {"ids": among_value(sorted(ids), dialect)})
    return {r["op_id"]: Decided(**r) for r in rows}



#: Enum members as the text they are written as (``.value`` is a descriptor call, several
#: an op).
_TEXT: dict[Any, str] = {m: m.value for kind in (Action, WorkOrderStatus, Priority, Role)
                         for m in kind}


def _plain(value: Any) -> Any:
    """A job's value as written: an enum member as its text, anything else as it is."""
    return _TEXT.get(value, value)


def _typed(job: dict[str, Any]) -> dict[str, Any]:
    """A job's row as read, its status, kind and priority as the rules' enums (once per
    job read, not once per op: written back as text by ``_plain``)."""
    job["status"] = _STATUS.get(job["status"]) or WorkOrderStatus(job["status"])
    job["kind"] = _KIND.get(job["kind"]) or WorkOrderKind(job["kind"])
    job["priority"] = _PRIORITY.get(job["priority"]) or Priority(job["priority"])
    return job


#: The enums' members by their text: looked up, not called (an enum call is a Python
#: call of the metaclass, ~1 µs, three a job read); an unknown text still raises as the
#: call does.
_STATUS = {m.value: m for m in WorkOrderStatus}
_KIND = {m.value: m for m in WorkOrderKind}
_PRIORITY = {m.value: m for m in Priority}


def _state(job: dict[str, Any], has_swap: bool) -> JobState:
    return JobState(job["status"], job["kind"], job["station_id"], job["assignee_id"],
                    job["account_id"], job["priority"], job["last_activity_at"],
                    job["reopen_count"], has_swap)


# -- start-up -------------------------------------------------------------------------
#: How long the warm-up waits for a lock another worker holds (PostgreSQL) before it gives
#: up: start-up is never held behind someone's long transaction.
WARM_LOCK_TIMEOUT_MS = 2000


def warm_up(db: Database, notes: int = CHUNK) -> int:
    """A push of ``notes`` notes decided at start-up and undone. A job of nobody's (its
    station, area and crew made for it, in the same transaction) gets a crew's backlog
    of notes: checked as the route checks a push, decided set-wise, logged as a commit
    logs it and answered; then the transaction is rolled back and nothing is kept. The
    statements a push runs are compiled then, and the heap has grown to a chunk's size,
    not while the first phone after a restart waits: the first big push after a start ran
    ~15 % slower than the next (``bench/README.md``). The job is written directly (no
    report, no dispatch: no job number taken, no audit entry), so the only shared rows it
    locks are the change log's counter, at the end, for the rehearsed commit; on
    PostgreSQL it waits for a lock at most ``WARM_LOCK_TIMEOUT_MS``. Returns the notes
    applied (the log says so when not all were)."""
    from server.sync.envelope import check_ops  # the route's own check of the envelopes

    now = utcnow()
    before = now - timedelta(minutes=1)
    tag = new_id()
    with UnitOfWork(db) as uow:
        session = uow.session
        if not db.is_sqlite:
            session.execute(text(f"SET LOCAL lock_timeout = {WARM_LOCK_TIMEOUT_MS}"))
        station = Station(code=f"W{tag[-15:]}", name="warm-up", county="warm-up")
        session.add(station)
        session.flush()
        area = TransformerArea(code=f"W{tag[-23:]}", name="warm-up", station_id=station.id,
                               rated_kva=1, area_class=AreaClass.TOWN)
        person = User(username=f"warm-up-{tag}", password_hash="!", role=Role.CREW,
                      display_name="warm-up", station_id=station.id)
        session.add_all([area, person])
        session.flush()
        order = WorkOrder(code=f"W{tag[-23:]}", kind=WorkOrderKind.FAULT_REPAIR,
                          status=WorkOrderStatus.DISPATCHED, channel=ReportChannel.HOTLINE,
                          station_id=station.id, area_id=area.id, area_class=AreaClass.TOWN,
                          assignee_id=person.id, description="warm-up", reported_at=before,
                          dispatched_at=before, complete_by=now + timedelta(days=1),
                          last_activity_at=before)
        session.add(order)
        session.flush()
        crew = Actor(person.id, Role.CREW, station.id)
        device, last = f"warm-up-{tag}", None
        raw = []
        for i in range(notes):
            op_id = new_id()
            raw.append({"op_id": op_id, "device_id": device, "device_seq": i + 1,
                        "lane": f"work_order:{order.id}", "lane_prev": last,
                        "type": OpType.WO_ADD_NOTE.value, "entity_id": order.id,
                        "base_version": None, "payload": {"text": f"warm-up {i}"},
                        "photos": [], "created_at": now.isoformat()})
            last = op_id
        checked = check_ops(raw)
        request = PushRequest.model_construct(protocol=PROTOCOL_VERSION, device_id=device,
                                              sent_at=now, ops=checked.envelopes)
        batch = per_op._Batch(crew, request, Clock.of_push(now, now), "en", now)
        per_op._touch_device(uow, batch)  # as a push's first chunk does
        results = _Chunk(uow, batch, checked.envelopes, LaneGate()).run()
        PushResponse(server_time=now, results=results).model_dump_json()
        uow.rehearse()
    applied = sum(r.status == "applied" for r in results)
    if applied != notes:
        log.warning("push warm-up: %d of %d notes applied", applied, notes)
    return applied
