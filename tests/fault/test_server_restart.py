"""The server stopped while a push is in flight, and started again on the same database.

Killed (SIGKILL) as soon as ops of the push committed: exactly whole transactions are on
the server (the set-wise push commits each request, up to ``bulk.CHUNK`` ops, at once;
each op with its record, never half of one), the phone never got its answer (the proxy
resets that one), resends everything, and the committed ops come back ``duplicate`` —
each op applied once.
Stopped gracefully (SIGTERM) mid-push: the request in flight finishes first and its
answer reaches the phone (after the restart no op comes back ``duplicate``); a request
that reaches the server once it is stopping is refused whole and sent again. Which of the
two the push's second request meets is a matter of timing (the phone sends it as soon as
the first answer is in), so both are allowed: 250 or all 500 ops committed at the stop.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time

import pytest
from sqlalchemy import text

from server.sync import bulk
from sync.client.errors import TransientError
from tests.fault.checks import assert_clean, assert_same_rows, audit_device, audit_domain, settle
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, Request

NOTES = 100  # per job
JOBS = 5


def _applied(env: FaultEnv) -> int:
    with env.db.reader.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM applied_op")).scalar() or 0)


def _transaction_ends(sizes: list[int]) -> set[int]:
    """How many ops are committed after each of the push's transactions: a request
    is decided in transactions of ``bulk.CHUNK`` ops."""
    ends, done = set(), 0
    for size in sizes:
        for start in range(0, size, bulk.CHUNK):
            done += min(bulk.CHUNK, size - start)
            ends.add(done)
    return ends


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_server_restarted_while_a_push_is_in_flight(env: FaultEnv, how: str) -> None:
    jobs = [env.office.new_job(env.world.accounts["acc1"].id, env.user_id("crew1"))
            for _ in range(JOBS)]
    crew = env.phone("crew1", timeout_s=30)
    crew.sync()
    before = _applied(env)
    for job in jobs:  # a day offline: 500 notes waiting
        for i in range(NOTES):
            crew.actions.add_note(job["id"], f"reading {i}")
    total = JOBS * NOTES
    seen: list[int] = []

    def stop_mid_push() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            n = _applied(env) - before
            if n > 0:  # the first transaction committed, the push goes on
                seen.append(n)
                if how == "kill":
                    env.server.kill()
                else:
                    env.server.stop()
                return
            time.sleep(0.002)

    answered = [False]
    sizes: list[int] = []  # the ops of each push request, in order

    def lose_the_answer(req: Request) -> Fault | None:
        # killed: the requests up to the kill (the resends after it reach no server);
        # stopped: the second request too, which the stopping server may still take
        if req.path == "/api/v1/sync/push" and (not seen or how == "stop"):
            sizes.append(len(json.loads(req.decoded())["ops"]))
        if how == "kill" and req.path == "/api/v1/sync/push" and not answered[0]:
            answered[0] = True
            return Fault.RESET_RESPONSE
        return None

    env.proxy.rule = lose_the_answer
    killer = threading.Thread(target=stop_mid_push)
    killer.start()
    with contextlib.suppress(TransientError):
        crew.sync()
    killer.join()
    assert seen, "the push never committed a chunk"
    committed = _applied(env) - before
    assert 0 < committed <= total, committed
    whole = _transaction_ends(sizes)
    assert committed in whole, \
        f"{committed} ops: half a transaction survived the {how} (whole: {whole})"
    env.proxy.rule = None
    env.server.start()
    env.proxy.upstream_port = env.server.port
    settle([crew])
    statuses = env.proxy.push_statuses()
    if how == "kill":
        assert statuses["duplicate"] == committed, statuses
        assert statuses["applied"] == total - committed, statuses
    else:  # every request the stopping server had taken was finished and answered
        assert statuses["duplicate"] == 0 and statuses["applied"] == total, statuses
    audit = audit_device(env.db, crew.store)
    assert_clean(audit)
    assert audit.applied == total == audit.made
    audit_domain(env.db, {env.user_id("crew1")})
    assert_same_rows(crew, env.server.url, "crew1", env.root / "fresh")
    with env.db.reader.connect() as conn:
        notes = conn.execute(text("SELECT count(*) FROM work_order_event WHERE action = "
                                  "'add_note'")).scalar()
    assert notes == total
