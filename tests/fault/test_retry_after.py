"""A busy server's ``503`` with ``Retry-After`` is honoured by the running engine, even when
the user keeps working (each action nudges the engine): nothing is sent before the time
the server asked for, and the work goes through once it has passed."""

from __future__ import annotations

import threading
import time

from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, Request

WAIT_S = 3


def test_retry_after_is_honoured_although_the_user_keeps_tapping(env: FaultEnv) -> None:
    jobs = [env.office.new_job(env.world.accounts["acc1"].id, env.user_id("crew1"))
            for _ in range(3)]
    crew = env.phone("crew1")
    crew.sync()
    crew.engine.interval_s = 3600  # only nudges and the server's timing can wake it
    seen: list[tuple[float, str]] = []
    busy = threading.Event()
    busy.set()

    def rule(req: Request) -> Fault | None:
        if req.path.startswith("/api/v1/sync/"):
            seen.append((time.monotonic(), req.path))
            if busy.is_set():
                busy.clear()  # one 503, then the server is fine again
                return Fault.ERROR_BEFORE
        return Fault.PASS

    env.proxy.rule = rule
    env.proxy.error_status = 503
    env.proxy.retry_after_s = WAIT_S
    crew.engine.start()
    crew.actions.accept(jobs[0]["id"])  # nudge: the push meets the 503
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    assert seen, "the engine never pushed"
    refused_at = seen[0][0]
    # The user keeps working through the wait: every action nudges the engine.
    for job in jobs:
        for act in ("accept", "start_travel", "arrive"):
            time.sleep(0.2)
            if act == "accept" and job is jobs[0]:
                continue
            args = (None,) if act == "arrive" else ()
            getattr(crew.actions, act)(job["id"], *args)
    deadline = time.monotonic() + 15
    while crew.engine.status().waiting and time.monotonic() < deadline:
        time.sleep(0.05)
    assert crew.engine.stop(10)
    early = [round(t - refused_at, 2) for t, _ in seen[1:] if t - refused_at < WAIT_S - 0.05]
    assert early == [], f"requests {early} s after a 503 asking to wait {WAIT_S} s"
    assert crew.engine.status().waiting == 0
    assert {env.office.job(j["id"])["status"] for j in jobs} == {"on_site"}
