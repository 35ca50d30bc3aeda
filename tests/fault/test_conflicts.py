"""Two crews act on the same jobs offline while the network loses answers, duplicates and
resets requests: the server's decision wins, every op is decided once, and the losing
crew's phone shows the server's row with the reason for each refused op."""

from __future__ import annotations

import contextlib

from sync.client.errors import TransientError
from sync.client.readmodel import Mark
from tests.fault.checks import (
    assert_clean,
    assert_same_rows,
    audit_device,
    audit_domain,
    settle,
)
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, FaultPlan

GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}


def test_two_crews_on_the_same_jobs_offline_the_server_decides_under_faults(
        env: FaultEnv) -> None:
    acc = env.world.accounts["acc1"].id
    jobs = [env.office.new_job(acc, env.user_id("crew1")) for _ in range(4)]
    first, second = env.phone("crew1"), env.phone("crew1b")
    first.sync()
    # The office moves the jobs while crew1 is out of signal; crew1b gets them.
    for job in jobs:
        env.office.act(job["id"], "reassign", assignee_id=env.user_id("crew1b"),
                       reason="crew1 is stuck at another site")
    second.sync()
    for job in jobs:
        second.actions.accept(job["id"])
        second.actions.start_travel(job["id"])
        first.actions.accept(job["id"])
        first.actions.arrive(job["id"], GPS)
        first.actions.add_note(job["id"], "on site")
    env.proxy.plan = FaultPlan(rates={Fault.DROP_RESPONSE: 0.25, Fault.DUPLICATE: 0.2,
                                      Fault.ERROR_AFTER: 0.15, Fault.RESET_REQUEST: 0.1})
    for _ in range(4):  # crew1b's phone gets through first
        for phone in (second, first):
            with contextlib.suppress(TransientError):
                phone.sync()
    env.proxy.clean()
    settle([second, first])
    assert env.proxy.injected(Fault.DROP_RESPONSE, Fault.DUPLICATE, Fault.ERROR_AFTER) > 0

    crew1b = env.user_id("crew1b")
    for job in jobs:
        server = env.office.job(job["id"])
        assert server["status"] == "en_route"
        assert server["assignee"]["id"] == crew1b
        actors = {e["actor"]["id"] for e in server["timeline"]
                  if e["action"] in ("accept", "start_travel", "arrive", "add_note")}
        assert actors == {crew1b}
        # The winner's phone: the server's state, synced.
        won = second.read.job(job["id"])
        assert won is not None and won.job.sync.mark == Mark.SYNCED
        assert won.job.row["status"] == "en_route"
        # The loser's phone: the job left its scope, so the refusal came without a row
        # (issue 8, item 3) and the job is gone from it; the refusal and why stay.
        assert first.read.job(job["id"]) is None
        mine = [p for p in first.read.problems() if p.entity_id == job["id"]]
        assert [p.state for p in mine] == ["rejected", "held", "held"]
        assert mine[0].result_code == "WO_NOT_ASSIGNEE"  # item 9
        assert first.read.reason(mine[0])
    assert first.read.my_jobs() == []
    for phone, name in ((first, "crew1"), (second, "crew1b")):
        audit = audit_device(env.db, phone.store)
        assert_clean(audit)
        assert_same_rows(phone, env.server.url, name, env.root / "fresh" / name)
    assert audit_device(env.db, first.store).recorded_rejections == len(jobs)
    audit_domain(env.db, {env.user_id("crew1"), crew1b})
