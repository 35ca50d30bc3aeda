"""Randomised trials with fixed seeds: five phones (three crews, a meter technician, a
customer), each a child process running the real device engine on its own SQLite file,
make hundreds of ops each through the fault proxy (every fault kind, network outages),
while the test SIGKILLs and restarts them at random moments (and they kill themselves at
the sharpest points), the server is killed or stopped and started again on the same
database, and a dispatcher reassigns, cancels and hands out jobs on the online API.

After a final clean sync: every op each phone made is applied exactly once or refused
with its record (and shown on the phone with the reason), none is lost, the effects
happened once (events, swaps and carried balances, photo links, change log), and every
phone holds exactly what a fresh download of its user gets.

``GRIDONE_FAULT_TRIALS`` (default 1) trials of ``GRIDONE_FAULT_OPS`` (default 200) ops per
phone, seeds from ``GRIDONE_FAULT_SEED`` (default 1000) on.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import threading
import time
from collections import Counter
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.enums import WorkOrderKind
from tests.fault.checks import (
    assert_clean,
    assert_same_rows,
    audit_device,
    audit_domain,
    settle,
    tidy,
)
from tests.fault.conftest import FaultEnv
from tests.fault.harness import ROOT, WorkerProcess, open_device
from tests.fault.proxy import Fault, FaultPlan

TRIALS = int(os.environ.get("GRIDONE_FAULT_TRIALS", "1"))
OPS = int(os.environ.get("GRIDONE_FAULT_OPS", "200"))
BASE_SEED = int(os.environ.get("GRIDONE_FAULT_SEED", "1000"))
FAULT_RATE = float(os.environ.get("GRIDONE_FAULT_RATE", "0.2"))
#: Mean seconds between SIGKILLs of each phone, and between server restarts.
KILL_EVERY = float(os.environ.get("GRIDONE_FAULT_KILL_EVERY", "4"))
RESTART_EVERY = float(os.environ.get("GRIDONE_FAULT_RESTART_EVERY", "12"))
PHONES = {"crew1": "crew1", "crew1b": "crew1b", "crew2": "crew2", "tech1": "tech1",
          "customer1": "customer1"}
OPEN = ("dispatched", "accepted", "en_route", "on_site")


class OfficeLoop(threading.Thread):
    """The dispatchers at work: hand out jobs (new ones when a crew runs low, and the
    customer's reports), move jobs between the two crews of station 1, cancel some."""

    def __init__(self, env: FaultEnv, rng: random.Random, period: float = 0.3) -> None:
        super().__init__(name="office", daemon=True)
        self.env, self.rng, self.period = env, rng, period
        self.done = threading.Event()
        self.counts: Counter[str] = Counter()

    def run(self) -> None:
        while not self.done.wait(self.period):
            try:
                self.tick()
            except (httpx.HTTPError, AssertionError) as exc:  # races, restarts: fine
                self.counts[f"failed:{type(exc).__name__}"] += 1

    def stop(self) -> None:
        self.done.set()
        self.join(30)

    def _open_jobs(self, user: str) -> list[Any]:
        with self.env.db.reader.connect() as conn:
            return list(conn.execute(text(
                "SELECT id, status, kind FROM work_order WHERE assignee_id = :u AND status IN "
                "('dispatched', 'accepted', 'en_route', 'on_site') ORDER BY id"),
                {"u": self.env.user_id(user)}).all())

    def tick(self) -> None:
        env, rng, w = self.env, self.rng, self.env.world
        for crew, acc, office in (("crew1", "acc1", env.office), ("crew1b", "acc2", env.office),
                                  ("crew2", "acc3", env.office2)):
            if len(self._open_jobs(crew)) < 3:
                office.new_job(w.accounts[acc].id, env.user_id(crew))
                self.counts["new_job"] += 1
        with env.db.reader.connect() as conn:
            reported = [r.id for r in conn.execute(text(
                "SELECT id FROM work_order WHERE status = 'reported' AND station_id = :s "
                "AND kind = 'fault_repair' ORDER BY id"), {"s": w.stations["s1"].id})]
        for oid in reported:
            env.office.act(oid, "dispatch",
                           assignee_id=env.user_id(rng.choice(["crew1", "crew1b"])))
            self.counts["dispatch"] += 1
        x = rng.random()
        if x < 0.12:
            src, dst = rng.sample(["crew1", "crew1b"], 2)
            jobs = self._open_jobs(src)
            if jobs:
                env.office.act(rng.choice(jobs).id, "reassign", assignee_id=env.user_id(dst),
                               reason="closer to the site")
                self.counts["reassign"] += 1
        elif x < 0.18:
            jobs = [j for j in self._open_jobs(rng.choice(["crew1", "crew1b", "tech1"]))
                    if j.kind != WorkOrderKind.METER_SWAP.value or rng.random() < 0.3]
            if jobs:
                env.office.act(rng.choice(jobs).id, "cancel", reason="customer fixed it")
                self.counts["cancel"] += 1


def _configs(seed: int) -> dict[str, dict[str, Any]]:
    return {name: {"username": user, "seed": f"{seed}:{name}", "ops": OPS,
                   "self_kill": 0.01, "expire_rate": 0.005, "photo_rate": 0.05,
                   "poison_rate": 0.01, "dead_zone_rate": 0.02, "think_ms": [0, 15],
                   "drain_s": 20, "max_s": 900}
            for name, user in PHONES.items()}


def _run(env: FaultEnv, workers: dict[str, WorkerProcess], rng: random.Random,
         budget_s: float) -> Counter[str]:
    """Run the phones to completion under kills, server restarts and outages."""
    stats: Counter[str] = Counter()
    now = time.monotonic()
    deadline = now + budget_s
    # A phone's next SIGKILL is drawn once it is up (its start counted, its imports done),
    # not from its spawn: on a slow, busy host a start can take seconds, and kills timed
    # from the spawn would leave a phone no time to make ops between them.
    next_kill: dict[str, float | None] = {n: None for n in workers}
    next_restart = now + rng.uniform(0.3, 0.6) * RESTART_EVERY
    next_outage = now + rng.uniform(2.0, 5.0)
    done: set[str] = set()
    for w in workers.values():
        w.spawn()
    while len(done) < len(workers):
        now = time.monotonic()
        if now > deadline:
            raise AssertionError(f"phones did not finish in {budget_s} s: "
                                 f"{sorted(set(workers) - done)}")
        for name, w in workers.items():
            if name in done:
                continue
            if not w.alive:
                assert w.proc is not None
                rc = w.proc.returncode
                if rc == 0:
                    done.add(name)
                    continue
                assert rc == -signal.SIGKILL, f"{name} exited {rc}:\n{w.tail()}"
                w.spawn()  # it killed itself mid-sync: start the app again
                next_kill[name] = None
            elif next_kill[name] is None:
                if w.up:
                    next_kill[name] = now + rng.uniform(0.5, 1.5) * KILL_EVERY
            elif now >= next_kill[name]:
                w.kill()
                stats["sigkill"] += 1
                w.spawn()
                next_kill[name] = None
        if now >= next_restart:
            kill = rng.random() < 0.5
            env.restart_server(kill=kill)
            stats["server_killed" if kill else "server_stopped"] += 1
            next_restart = time.monotonic() + rng.uniform(0.5, 1.5) * RESTART_EVERY
        if now >= next_outage:
            env.proxy.outage(rng.uniform(0.5, 2.0))
            stats["outage"] += 1
            next_outage = now + rng.uniform(3.0, 7.0)
        time.sleep(0.05)
    for w in workers.values():
        stats["self_kill"] += sum(1 for e in w.events() if e["event"] == "self_kill")
        stats["relogin"] += sum(1 for e in w.events() if e["event"] == "relogin")
        stats["starts"] += w.starts
    return stats


@pytest.mark.parametrize("seed", [BASE_SEED + i for i in range(TRIALS)])
def test_random_trial(env: FaultEnv, seed: int) -> None:
    started = time.monotonic()
    rng = random.Random(seed)
    env.proxy.rng.seed(seed)
    w = env.world
    for crew, acc, office in (("crew1", "acc1", env.office), ("crew1b", "acc2", env.office),
                              ("crew2", "acc3", env.office2)):
        for _ in range(3):
            office.new_job(w.accounts[acc].id, env.user_id(crew))
    for i in range(6):
        env.office.new_job(w.accounts[f"sw{i}"].id, env.user_id("tech1"), kind="meter_swap")
    env.proxy.plan = FaultPlan.everything(FAULT_RATE, prefixes=(
        "/api/v1/sync/", "/api/v1/photos/", "/api/v1/auth/refresh"))
    workers = {n: env.worker(n, **cfg) for n, cfg in _configs(seed).items()}
    office = OfficeLoop(env, rng)
    office.start()
    try:
        stats = _run(env, workers, rng, budget_s=900)
    finally:
        office.stop()
    env.proxy.clean()
    phones = {n: env.track(open_device(workers[n].folder, env.server.url)) for n in workers}
    rounds = settle(list(phones.values()))
    # The users deal with what was refused: put the refused op away and let what waited
    # behind it go (which the server may refuse in turn).
    for _ in range(6):
        tidied = sum(tidy(dev) for dev in phones.values())
        if not tidied:
            break
        rounds += settle(list(phones.values()))
    totals: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    for name, dev in phones.items():
        audit = audit_device(env.db, dev.store, journal=workers[name].journal())
        if audit.problems:  # keep the evidence: the phones' stores, the server's database
            _keep(env, seed)
        assert_clean(audit)
        assert audit.made >= OPS
        totals["ops"] += audit.made
        totals["applied"] += audit.applied
        totals["rejected"] += audit.recorded_rejections
        totals["held"] += audit.held
        totals["discarded_unsent"] += audit.discarded_unsent
        codes.update(audit.codes)
        totals["rows"] += assert_same_rows(dev, env.server.url, PHONES[name],
                                           env.root / "fresh" / name)
    effects = audit_domain(env.db, {env.user_id(u) for u in PHONES.values()})
    faults = {k: v for k, v in env.proxy.stats.items() if k != Fault.PASS.value}
    summary = {"seed": seed, "ops_per_phone": OPS, "seconds": round(time.monotonic() - started),
               "settle_rounds": rounds, **totals, "codes": dict(codes), "effects": effects,
               "faults": faults, "requests": sum(env.proxy.stats.values()), **stats,
               "office": dict(office.counts)}
    _record(summary)
    # The trial really was rough: every kind of trouble happened.
    assert all(env.proxy.injected(f) > 0 for f in Fault if f != Fault.PASS), faults
    assert stats["sigkill"] > 0 and stats["server_killed"] + stats["server_stopped"] > 0
    assert totals["rejected"] > 0  # poison ops at least
    assert office.counts["reassign"] + office.counts["cancel"] > 0


def _keep(env: FaultEnv, seed: int) -> None:
    """A failed trial's folder (server database, phones' stores and journals, logs) into
    ``test-artifacts/fault/failed-<seed>``: the temporary folder does not outlive the run."""
    out = ROOT / "test-artifacts" / "fault" / f"failed-{seed}"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(env.root, out, ignore=shutil.ignore_patterns("*.jpg", "*.webp"))
    print(f"trial {seed} kept in {out}")


def _record(summary: dict[str, Any]) -> None:
    out = ROOT / "test-artifacts" / "fault"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "trials.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(summary) + "\n")
    print(json.dumps(summary))
