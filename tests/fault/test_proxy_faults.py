"""Each kind of network fault on its own, injected by the proxy between a phone and the
real server (half of all sync requests hit): after a final clean sync every op the phone
made is applied exactly once, and the phone holds what the server holds. Where the
server committed and the answer was lost, the resent ops come back ``duplicate``."""

from __future__ import annotations

import contextlib

import pytest

from sync.client.errors import TransientError
from tests.fault.checks import assert_clean, assert_same_rows, audit_device, audit_domain, settle
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, FaultPlan

GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}
#: Faults after which the server has applied a push the phone never heard about.
ANSWER_LOST = {Fault.DROP_RESPONSE, Fault.RESET_RESPONSE, Fault.ERROR_AFTER}


@pytest.mark.parametrize("fault", [f for f in Fault if f != Fault.PASS])
def test_one_kind_of_fault_at_a_time(env: FaultEnv, fault: Fault) -> None:
    jobs = [env.office.new_job(env.world.accounts["acc1"].id, env.user_id("crew1"))
            for _ in range(4)]
    crew = env.phone("crew1")
    crew.sync()
    env.proxy.plan = FaultPlan(rates={fault: 0.5})
    steps = [("accept", ()), ("start_travel", ()), ("arrive", (GPS,)),
             ("add_note", ("fuse blown",)), ("resolve", ("replaced the fuse", "storm"))]
    for job in jobs:
        for name, args in steps:
            getattr(crew.actions, name)(job["id"], *args)
            with contextlib.suppress(TransientError):
                crew.sync()
    env.proxy.clean()
    settle([crew])
    assert env.proxy.by_path[("/api/v1/sync/push", fault.value)] > 0, env.proxy.by_path
    audit = audit_device(env.db, crew.store)
    assert_clean(audit)
    assert (audit.made, audit.applied) == (20, 20)
    audit_domain(env.db, {env.user_id("crew1")})
    assert_same_rows(crew, env.server.url, "crew1", env.root / "fresh")
    assert {env.office.job(j["id"])["status"] for j in jobs} == {"resolved"}
    statuses = env.proxy.push_statuses()
    assert statuses["applied"] + statuses["duplicate"] >= 20
    if fault in ANSWER_LOST:
        assert statuses["duplicate"] > 0, statuses
