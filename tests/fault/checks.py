"""What must hold after faults, checked against the server's database and the phones.

``settle`` syncs every phone (no faults any more) until a whole round moves nothing.

``audit_device`` — every op the phone made (``device_seq`` 1..N) is accounted for exactly
once: applied on the server (``applied_op``), or refused with its record and shown on the
phone with the same code and a reason, or held / discarded on the phone and never
applied; nothing is left unsent, no sequence number is recorded twice, and every op in
the phone's journal is the one the server or the outbox knows under that number.

``audit_domain`` — the effects happened once: one timeline event per applied action op
(its id is the op id), one report event per applied report, one swap record, swap
event, carry-over audit entry (and one ledger entry of amount 0) per applied swap, the
new meter holding the carried (ledger's) balance, a balance discrepancy exactly when the
reading differed, one photo link per applied photo op, and a change-log
entry for every event (its own, or its job's timeline entry counting it) and every work
order's current version.

``assert_same_rows`` — a phone's rows equal what a fresh phone of the same user pulls.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text

from server.changes.models import TIMELINE, timeline_of
from server.db import Database
from shared.timeutil import as_utc, utcnow
from sync.client import outbox
from sync.client.errors import TransientError
from sync.client.outbox import GAVE_UP, OpState
from sync.client.readmodel import ReadModel
from sync.client.store import Key, Store
from sync.protocol import OpType
from tests.contract.conftest import Device
from tests.fault.harness import device_rows, diff_rows, fresh_rows
from tests.fault.player import photos_waiting, unsent

S = OpState
_ACTION_TYPES = {t.value: t.value.split(".", 1)[1].split("@")[0] for t in OpType
                 if t.value.startswith("work_order.") and t != OpType.WO_REPORT}


def _rows(db: Database, sql: str, **params: Any) -> list[Any]:
    with db.reader.connect() as conn:
        return list(conn.execute(text(sql), params).all())


# -- settling -------------------------------------------------------------------------
def settle(devices: list[Device], *, timeout: float = 120.0) -> int:
    """Sync all phones until one whole round pushes, uploads and pulls nothing and no
    phone has anything left to send. Returns the number of rounds."""
    deadline = time.monotonic() + timeout
    rounds = 0
    while True:
        rounds += 1
        quiet = True
        for dev in devices:
            try:
                report = dev.sync()
            except TransientError:
                quiet = False
                continue
            if report.push.sent or report.upload.chunks or report.pull.changes:
                quiet = False
            if unsent(dev.store) or photos_waiting(dev.store):
                quiet = False
        if quiet:
            return rounds
        if time.monotonic() > deadline:
            raise AssertionError(f"phones did not settle in {timeout} s: " + ", ".join(
                f"{d.name}: unsent={unsent(d.store)} photos={photos_waiting(d.store)}"
                for d in devices))
        time.sleep(_backoff_wait(devices))


def _backoff_wait(devices: list[Device]) -> float:
    """Until the earliest op backing off may go again (at most 2 s)."""
    now = utcnow().isoformat()
    soonest: str | None = None
    for d in devices:
        with d.store.read() as conn:
            at = conn.exec_driver_sql(
                "SELECT min(next_attempt_at) FROM outbox WHERE state IN ('pending', 'sending') "
                "AND next_attempt_at > ?", (now,)).scalar()
        if at and (soonest is None or at < soonest):
            soonest = at
    if soonest is None:
        return 0.05
    from sync.client.timefmt import from_iso

    when = from_iso(soonest)
    assert when is not None
    return min(max((when - utcnow()).total_seconds(), 0.05), 2.0)


def tidy(dev: Device) -> int:
    """The user deals with every refused op: a malformed one is put away and what waited
    behind it released; when the job itself said no (not yours any more, already done),
    the refused op goes with everything held behind it."""
    with dev.store.read() as conn:
        refused = outbox.select(conn, "state = 'rejected'")
    for op in refused:
        dev.engine.discard(op.op_id, with_dependents=op.result_code != "SYNC_BAD_PAYLOAD")
    return len(refused)


# -- one phone ------------------------------------------------------------------------
@dataclass
class Audit:
    device_id: str
    made: int = 0
    applied: int = 0
    recorded_rejections: int = 0
    held: int = 0
    discarded_unsent: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def audit_device(db: Database, store: Store, *, journal: list[dict[str, Any]] | None = None
                 ) -> Audit:
    read = ReadModel(store, lang="en")
    with store.read() as conn:
        device_id = str(Store.get(conn, Key.DEVICE_ID))
        made = int(Store.get(conn, Key.DEVICE_SEQ, 0) or 0)
        local = {e.device_seq: e for e in outbox.select(conn)}
    audit = Audit(device_id, made)
    p = audit.problems
    records = _rows(db, "SELECT op_id, device_seq, status, code, type FROM applied_op "
                        "WHERE device_id = :d", d=device_id)
    by_seq: dict[int, Any] = {}
    for r in records:
        if r.device_seq in by_seq:
            p.append(f"seq {r.device_seq}: recorded twice ({by_seq[r.device_seq].op_id}, "
                     f"{r.op_id})")
        if not 1 <= r.device_seq <= made:
            p.append(f"seq {r.device_seq}: recorded but the phone made only {made} ops")
        by_seq[r.device_seq] = r
    shown = {e.op_id for e in read.problems()}
    for seq in range(1, made + 1):
        e, r = local.get(seq), by_seq.get(seq)
        if e is None:  # compacted: only acknowledged ops ever leave the outbox
            if r is None or r.status != "applied":
                p.append(f"seq {seq}: gone from the phone, server has {r and r.status}")
            else:
                audit.applied += 1
            continue
        if r is not None and r.op_id != e.op_id:
            p.append(f"seq {seq}: phone op {e.op_id} but server op {r.op_id}")
        if e.state in (S.PENDING, S.SENDING):
            p.append(f"seq {seq}: still {e.state} after the final sync")
        elif e.state in (S.APPLIED, S.DUPLICATE):
            if r is None or r.status != "applied":
                p.append(f"seq {seq}: {e.state} on the phone, server has {r and r.status}")
            else:
                audit.applied += 1
        elif e.state == S.REJECTED:
            if e.result_code == GAVE_UP:
                p.append(f"seq {seq}: given up on the phone ({e.result_details})")
            elif r is None or r.status != "rejected" or r.code != e.result_code:
                p.append(f"seq {seq}: rejected {e.result_code} on the phone, server has "
                         f"{r and (r.status, r.code)}")
            else:
                audit.recorded_rejections += 1
                audit.codes[e.result_code or ""] += 1
            if not e.result_message or not read.reason(e) or e.op_id not in shown:
                p.append(f"seq {seq}: rejection not shown with a reason")
        elif e.state == S.HELD:
            audit.held += 1
            if r is not None:
                p.append(f"seq {seq}: held on the phone, but the server {r.status} it")
            if e.op_id not in shown or not read.reason(e):
                p.append(f"seq {seq}: held op not shown")
        elif e.state == S.DISCARDED:
            if e.result_code:  # refused by the server, then put away by the user
                if r is None or r.status != "rejected":
                    p.append(f"seq {seq}: discarded rejection, server has {r and r.status}")
                else:
                    audit.recorded_rejections += 1
                    audit.codes[e.result_code] += 1
            else:
                audit.discarded_unsent += 1
                if r is not None:
                    p.append(f"seq {seq}: discarded unsent, but the server {r.status} it")
    # The server's records of this phone, counted: exactly the ops made, less those
    # refused (recorded as such) and those the phone never sent (held, put away).
    applied_rows = sum(1 for r in records if r.status == "applied")
    rejected_rows = sum(1 for r in records if r.status == "rejected")
    if (applied_rows, rejected_rows) != (audit.applied, audit.recorded_rejections):
        p.append(f"server records: {applied_rows} applied, {rejected_rows} rejected; phone: "
                 f"{audit.applied} applied, {audit.recorded_rejections} refused")
    if audit.applied + audit.recorded_rejections + audit.held + audit.discarded_unsent != made:
        p.append(f"{made} ops made, but {audit} accounts for a different number")
    for j in journal or ():
        seq = int(j["seq"])
        e, r = local.get(seq), by_seq.get(seq)
        known = {x.op_id for x in (e, r) if x is not None}
        if j["op_id"] not in known:
            p.append(f"journal seq {seq} op {j['op_id']}: not what the phone/server hold "
                     f"({known or 'nothing'})")
    return audit


# -- the server's effects -------------------------------------------------------------
def audit_domain(db: Database, user_ids: set[str]) -> dict[str, int]:
    problems: list[str] = []
    ops = _rows(db, "SELECT op_id, type, entity_id, user_id, status FROM applied_op "
                    "WHERE status = 'applied'")
    ops = [o for o in ops if o.user_id in user_ids]
    events = {e.id: e for e in _rows(
        db, "SELECT id, work_order_id, action, actor_id, recorded_at FROM work_order_event")}
    op_ids = {o.op_id for o in ops}
    # Action ops: exactly one event each, with the op's id, action and actor.
    for o in ops:
        action = _ACTION_TYPES.get(o.type)
        if action is None:
            continue
        ev = events.get(o.op_id)
        if ev is None or ev.action != action or ev.actor_id != o.user_id or (
                ev.work_order_id != o.entity_id):
            problems.append(f"op {o.op_id} ({o.type}): event {ev}")
    # Events of the phones' users that are not action ops: reports and swaps only, one
    # per applied op.
    other = Counter((e.actor_id, e.action) for e in events.values()
                    if e.actor_id in user_ids and e.id not in op_ids)
    wanted = Counter((o.user_id, "report" if o.type == OpType.WO_REPORT else "record_swap")
                     for o in ops if o.type in (OpType.WO_REPORT, OpType.METER_SWAP_RECORD))
    if other != wanted:
        problems.append(f"report/swap events {dict(other)} != applied ops {dict(wanted)}")
    for o in ops:
        if o.type == OpType.WO_REPORT:
            got = _rows(db, "SELECT reporter_id FROM work_order WHERE id = :i", i=o.entity_id)
            if [g.reporter_id for g in got] != [o.user_id]:
                problems.append(f"report op {o.op_id}: work order {got}")
    # Photos: one link per applied photo op.
    photo_ops: Counter[str] = Counter()
    for o in ops:
        if o.type == OpType.WO_ADD_PHOTO:
            photo_ops[o.entity_id] += 1
    links = Counter(r.work_order_id for r in _rows(
        db, "SELECT work_order_id FROM photo_link WHERE purpose = 'job' AND added_by IN "
            f"({', '.join(repr(u) for u in sorted(user_ids)) or 'NULL'})"))
    if links != photo_ops:
        problems.append(f"photo links {dict(links)} != photo ops {dict(photo_ops)}")
    # Swaps: one record per applied swap op, the balance carried once.
    swap_ops = [o for o in ops if o.type == OpType.METER_SWAP_RECORD]
    swaps = _rows(db, "SELECT id, work_order_id, old_meter_id, new_meter_id, carried_fen, "
                      "old_remaining_fen FROM meter_swap")
    per_order = Counter(s.work_order_id for s in swaps)
    if any(n > 1 for n in per_order.values()):
        problems.append(f"two swaps on one job: {per_order}")
    if len(swaps) != len(swap_ops) or {s.work_order_id for s in swaps} != {
            o.entity_id for o in swap_ops}:
        problems.append(f"{len(swaps)} swap records for {len(swap_ops)} applied swap ops")
    carry = Counter(r.entity_id for r in _rows(
        db, "SELECT entity_id FROM audit_log WHERE action = 'meter_swap.balance_carry_over'"))
    has_ledger = "ledger_entry" in inspect(db.reader).get_table_names()
    for s in swaps:
        if carry[s.id] != 1:
            problems.append(f"swap {s.id}: {carry[s.id]} carry-over audit entries")
        (new,) = _rows(db, "SELECT status, balance_fen, purchase_count FROM meter WHERE id = :i",
                       i=s.new_meter_id)
        (old,) = _rows(db, "SELECT status, balance_fen FROM meter WHERE id = :i",
                       i=s.old_meter_id)
        if tuple(old) != ("removed", 0):
            problems.append(f"swap {s.id}: old meter {tuple(old)}")
        later = [t for t in swaps if t.old_meter_id == s.new_meter_id]
        if not later and tuple(new) != ("installed", s.carried_fen, 0):
            problems.append(f"swap {s.id}: new meter {tuple(new)}, carried {s.carried_fen}")
        if has_ledger:
            n = len(_rows(db, "SELECT id FROM ledger_entry WHERE source_type = 'meter_swap' "
                              "AND source_id = :i", i=s.id))
            if n != 1:  # one entry of amount 0: a swap moves no money
                problems.append(f"swap {s.id}: {n} ledger entries")
            gaps = _rows(db, "SELECT difference_fen FROM balance_discrepancy WHERE "
                             "swap_id = :i", i=s.id)
            want = [s.old_remaining_fen - s.carried_fen] if (
                s.old_remaining_fen != s.carried_fen) else []
            if [g.difference_fen for g in gaps] != want:
                problems.append(f"swap {s.id}: discrepancies {list(gaps)}, expected {want}")
    # The change log: every event (by an entry of its own, or by its job's timeline entry
    # of the set-wise push that wrote it, which counts its events), and every job's
    # current version.
    logged = {r.entity_id for r in _rows(
        db, "SELECT entity_id FROM change_log WHERE entity = 'work_order_event'")}
    by_timeline: Counter[tuple[str, Any]] = Counter(
        (e.work_order_id, as_utc(datetime.fromisoformat(str(e.recorded_at))))
        for e in events.values() if e.id not in logged)
    counted: Counter[tuple[str, Any]] = Counter()  # a job's entries of one time: one a scope
    for r in _rows(db, "SELECT entity_id, version FROM change_log WHERE entity = :t",
                   t=TIMELINE):
        counted[timeline_of(r.entity_id)] += r.version
    for key in counted.keys() | by_timeline.keys():
        if counted[key] != by_timeline[key]:
            problems.append(f"job {key[0]} at {key[1]}: {by_timeline[key]} events without an "
                            f"entry of their own, {counted[key]} counted by timeline entries")
    versions = {r.entity_id: r.v for r in _rows(
        db, "SELECT entity_id, max(version) AS v FROM change_log WHERE entity = 'work_order' "
            "GROUP BY entity_id")}
    for r in _rows(db, "SELECT id, version FROM work_order"):
        if versions.get(r.id) != r.version:
            problems.append(f"work order {r.id}: version {r.version}, change log "
                            f"{versions.get(r.id)}")
    assert not problems, "\n".join(problems[:30])
    return {"applied_ops": len(ops), "events": len(events), "swaps": len(swaps),
            "photo_links": sum(links.values())}


def assert_same_rows(dev: Device, url: str, username: str, folder: Path) -> int:
    mine = device_rows(dev.store)
    theirs = fresh_rows(url, username, folder)
    assert mine == theirs, f"{dev.name} differs from a fresh pull:\n{diff_rows(mine, theirs)}"
    return len(mine)


def assert_clean(audit: Audit) -> None:
    assert not audit.problems, "\n".join(audit.problems[:30])
