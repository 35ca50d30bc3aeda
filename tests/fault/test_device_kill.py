"""The phone app killed (SIGKILL) at random moments while it works and syncs, and started
again on the same database: it resumes where it was — nothing it made is lost, nothing
is applied twice (a meter swap's balance is carried once), and it ends up holding exactly
what the server holds.

Each phone is a child process running the real engine; besides the random kills from the
test, it kills itself once at each of the sharpest points: right after a push was
answered (the server applied the ops, the phone has not recorded it), right after a pull
page arrived (not yet applied), right after a photo chunk was stored on the server.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter

from tests.fault.checks import (
    assert_clean,
    assert_same_rows,
    audit_device,
    audit_domain,
    settle,
)
from tests.fault.conftest import FaultEnv
from tests.fault.harness import WorkerProcess, open_device

POINTS = ["push_answered", "pull_page", "photo_chunk"]


def _run_with_kills(workers: dict[str, WorkerProcess], rng: random.Random,
                    budget_s: float = 300) -> Counter[str]:
    """Run the phones to the end, SIGKILLing each 0.2-1 s after each (re)start: the clock
    runs from when the process has started (its imports done), so a slow machine cannot
    kill a phone over and over before it does any work."""
    stats: Counter[str] = Counter()
    kill_at: dict[str, float | None] = {}

    def spawn(name: str, w: WorkerProcess) -> None:
        kill_at[name] = None
        w.spawn()

    for name, w in workers.items():
        spawn(name, w)
    done: set[str] = set()
    deadline = time.monotonic() + budget_s
    while len(done) < len(workers):
        assert time.monotonic() < deadline, f"phones did not finish: {set(workers) - done}"
        for name, w in workers.items():
            if name in done:
                continue
            assert w.proc is not None
            if not w.alive:
                rc = w.proc.returncode
                if rc == 0:
                    done.add(name)
                    continue
                assert rc == -signal.SIGKILL, f"{name} exited {rc}:\n{w.tail()}"
                stats["self_kill"] += 1
                spawn(name, w)
            elif kill_at[name] is None:
                if w.up:
                    kill_at[name] = time.monotonic() + rng.uniform(0.2, 1.0)
            elif time.monotonic() >= kill_at[name]:  # type: ignore[operator]
                w.kill()
                stats["sigkill"] += 1
                spawn(name, w)
        time.sleep(0.02)
    return stats


def test_phones_killed_mid_sync_resume_without_losing_or_doubling_anything(
        env: FaultEnv) -> None:
    rng = random.Random(7)
    w = env.world
    for _ in range(5):
        env.office.new_job(w.accounts["acc1"].id, env.user_id("crew1"))
    for i in range(4):
        env.office.new_job(w.accounts[f"sw{i}"].id, env.user_id("tech1"), kind="meter_swap")
    common = {"ops": 120, "self_kill": 0.0, "kill_once": POINTS, "photo_rate": 0.3,
              "poison_rate": 0.0, "think_ms": [0, 20], "drain_s": 30, "max_s": 300}
    workers = {"crew1": env.worker("crew1", username="crew1", seed="kill:crew1", **common),
               "tech1": env.worker("tech1", username="tech1", seed="kill:tech1", **common)}
    stats = _run_with_kills(workers, rng)
    assert stats["sigkill"] >= 10, stats
    for name, wp in workers.items():
        points = [e["where"] for e in wp.events() if e["event"] == "self_kill"]
        # each point reached (the test's own kill may land just after one: then the phone
        # dies there once more when it comes back)
        assert set(points) == set(POINTS), (name, points)
    phones = {n: env.track(open_device(wp.folder, env.server.url)) for n, wp in workers.items()}
    settle(list(phones.values()))
    for name, dev in phones.items():
        journal = workers[name].journal()
        audit = audit_device(env.db, dev.store, journal=journal)
        assert_clean(audit)
        assert audit.made >= 120 and len(journal) >= 100
        assert audit.applied + audit.recorded_rejections + audit.held + \
            audit.discarded_unsent == audit.made
        assert_same_rows(dev, env.server.url, name, env.root / "fresh" / name)
    effects = audit_domain(env.db, {env.user_id("crew1"), env.user_id("tech1")})
    assert effects["swaps"] >= 1 and effects["photo_links"] >= 1, effects
