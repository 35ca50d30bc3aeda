"""A poison op at the head of one lane does not slow the other lanes.

Two crews each work ten jobs offline (four ops per job). The first phone's queue is
clean — the baseline. The second phone's first job starts with a poison op:

* ``refused`` — a malformed op the server refuses (``SYNC_BAD_PAYLOAD``);
* ``server_fault`` — an op on which the server's database fails (a trigger aborts its
  insert): only that op is deferred, with a long ``retry_after``;
* ``bad_envelope`` — an op that makes the server refuse the whole request (422; as if
  from a damaged outbox row): the phone splits the batch until it is alone;
* ``proxy_500`` — every request carrying the op fails with a 500 on the way.

Measured: with the poison, the other nine lanes are all applied in the same single sync
pass as the baseline's, with as many push requests as the baseline when the server
decides per op, and at most 2·log2(batch) more when a whole request fails. The poisoned
lane waits (held behind the refusal, or backing off), and nothing else does.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import pytest

from sync.client import outbox
from sync.client.outbox import ACKED
from sync.protocol import OpType
from tests.contract.conftest import Device
from tests.fault.checks import assert_clean, audit_device
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, Request

GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}
LANES = 10
PILL = "POISON-PILL"


def _work(dev: Device, jobs: list[dict[str, Any]]) -> None:
    for job in jobs:
        a, oid = dev.actions, job["id"]
        a.accept(oid)
        a.start_travel(oid)
        a.arrive(oid, GPS)
        a.add_note(oid, "pole leaning")


def _lanes_done(dev: Device, jobs: list[dict[str, Any]]) -> int:
    """How many of ``jobs`` have every op acknowledged."""
    with dev.store.read() as conn:
        ops = outbox.select(conn)
    done = 0
    for job in jobs:
        mine = [o for o in ops if o.entity_id == job["id"]]
        if all(o.state in ACKED for o in mine):
            done += 1
    return done


@pytest.mark.parametrize("poison", ["refused", "server_fault", "bad_envelope", "proxy_500"])
def test_a_poison_op_does_not_slow_the_other_lanes(env: FaultEnv, poison: str) -> None:
    acc = env.world.accounts["acc1"].id
    clean_jobs = [env.office.new_job(acc, env.user_id("crew1")) for _ in range(LANES)]
    jobs = [env.office.new_job(acc, env.user_id("crew1b")) for _ in range(LANES)]
    baseline, phone = env.phone("crew1"), env.phone("crew1b")
    baseline.sync()
    phone.sync()

    _work(baseline, clean_jobs)
    base = baseline.sync()
    assert _lanes_done(baseline, clean_jobs) == LANES

    head = jobs[0]["id"]
    if poison == "refused":
        pill = phone.store.enqueue(OpType.WO_ADD_NOTE.value, head, {"text": ""})
    elif poison == "server_fault":
        with sqlite3.connect(env.server.db_path) as db:
            db.execute(f"CREATE TRIGGER poison BEFORE INSERT ON work_order_event WHEN "
                       f"NEW.data LIKE '%{PILL}%' BEGIN SELECT RAISE(ABORT, 'poison'); END")
        pill = phone.actions.add_note(head, f"{PILL} (the server chokes on this one)")
    else:
        pill = phone.actions.add_note(head, "an ordinary note")
        if poison == "bad_envelope":  # the stored op was damaged: its photo list is junk
            with phone.store.write() as conn:
                conn.exec_driver_sql("UPDATE outbox SET photos = '[\"not-a-hash\"]' "
                                     "WHERE op_id = ?", (pill.op_id,))
        else:
            def rule(req: Request) -> Fault | None:
                hit = req.path == "/api/v1/sync/push" and pill.op_id.encode() in req.decoded()
                return Fault.ERROR_BEFORE if hit else None
            env.proxy.rule = rule
            env.proxy.error_status = 500
    _work(phone, jobs)  # the poison first, then four ops on each of the ten jobs
    report = phone.sync()  # one pass
    print(f"{poison}: baseline {base.push.requests} push request(s), {base.push.sent} ops; "
          f"poisoned {report.push.requests} request(s), {report.push.sent} ops sent")

    # Every other lane went through in this one pass.
    assert _lanes_done(phone, jobs[1:]) == LANES - 1
    for job in jobs[1:]:
        assert env.office.job(job["id"])["status"] == "on_site"
    assert env.office.job(head)["status"] == "dispatched"  # the poisoned lane waits
    if poison in ("refused", "server_fault"):  # decided per op: no extra requests
        assert report.push.requests == base.push.requests == 1
    else:
        extra = 2 * math.ceil(math.log2(4 * LANES + 1))
        assert report.push.requests <= base.push.requests + extra, report.push
    with phone.store.read() as conn:
        got = outbox.get(conn, pill.op_id)
        behind = outbox.select(conn, "entity_id = ? AND device_seq > ?",
                               (head, pill.device_seq))
    assert got is not None and len(behind) == 4
    if poison in ("refused", "bad_envelope"):
        assert got.state == "rejected" and got.result_message
        assert {o.state for o in behind} == {"held"}
        problems = phone.read.job(head)
        assert problems is not None and problems.job.sync.mark == "rejected"
    else:  # a server-side failure: the op backs off on its own, its lane waits in order
        assert got.state == "pending" and got.attempts == 1 and got.next_attempt_at
        assert {o.state for o in behind} == {"pending"}
    if poison == "server_fault":
        assert got.last_error == "INTERNAL_ERROR"
    # The baseline phone was not disturbed by any of it.
    assert_clean(audit_device(env.db, baseline.store))
