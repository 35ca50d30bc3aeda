"""Token refresh through the faulty network: a refresh whose answer is lost (dropped, or
replaced by a 500 after the server rotated the token) does not sign the phone out — it
asks again with the same refresh token inside the server's grace window, and the outbox
goes on with the same sign-in.

(A refresh request that reaches the server twice, with the phone keeping the first
answer, does sign it out today: the server retires the token of that first answer when
the copy arrives. See the fault-test report.)"""

from __future__ import annotations

import contextlib

import pytest

from sync.client.errors import TransientError
from sync.client.store import Key
from tests.fault.checks import assert_clean, audit_device, settle
from tests.fault.conftest import FaultEnv
from tests.fault.proxy import Fault, Request

REFRESH = "/api/v1/auth/refresh"


def _expire(dev: object) -> None:
    store = dev.store  # type: ignore[attr-defined]
    with store.write() as conn:  # the access token ran out
        store.put(conn, Key.ACCESS_TOKEN, "expired.access.token")


@pytest.mark.parametrize("fault", [Fault.DROP_RESPONSE, Fault.ERROR_AFTER])
def test_a_refresh_lost_or_duplicated_on_the_way_keeps_the_phone_signed_in(
        env: FaultEnv, fault: Fault) -> None:
    job = env.office.new_job(env.world.accounts["acc1"].id, env.user_id("crew1"))
    crew = env.phone("crew1")
    crew.sync()
    hit: list[int] = []

    def rule(req: Request) -> Fault | None:
        if req.path == REFRESH and not hit:
            hit.append(req.seq)
            return fault
        return Fault.PASS

    env.proxy.rule = rule
    env.proxy.error_status = 500
    _expire(crew)
    crew.actions.accept(job["id"])
    with contextlib.suppress(TransientError):
        crew.sync()
    assert hit and env.proxy.injected(fault) == 1
    for step in ("start_travel", "arrive"):  # later refreshes go through as usual
        _expire(crew)
        getattr(crew.actions, step)(job["id"], *(() if step == "start_travel" else (None,)))
        with contextlib.suppress(TransientError):
            crew.sync()
    settle([crew])  # the accept may back off a little (see the report)
    status = crew.engine.status()
    assert status.signed_in and status.waiting == 0
    assert env.office.job(job["id"])["status"] == "on_site"
    assert_clean(audit_device(env.db, crew.store))
