"""Issue 8, item 3 end to end: a refused op for a job the user may no longer see comes
back with ``row: null`` (the server's half) and the phone removes the job (its half)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.client import outbox, rows
from tests.contract.conftest import Device, Office
from tests.factories import World


def test_a_refused_op_on_a_job_the_user_may_no_longer_see_removes_it_from_the_phone(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, world: World) -> None:
    """Issue 8, item 3 (the phone's half): the crew accepts offline; the job is
    reassigned; its tombstone arrives before the accept is pushed (a live pull). The
    refused accept comes back with ``row: null`` — the phone drops the job instead of
    putting it back for good, and shows the refusal once, with its reason."""
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    crew.actions.accept(job["id"])  # offline: pending
    office.act(job["id"], "reassign", assignee_id=world.user("crew1b").id, reason="closer")
    crew.engine.puller.run()  # the tombstone comes first
    crew.sync()  # the accept is refused
    with crew.store.read() as conn:
        refused = outbox.select(conn)
        assert rows.get(conn, "work_order", job["id"]) is None
        assert rows.children(conn, "work_order_event", job["id"]) == []
    assert [(o.state.value, o.result_code, o.result_row) for o in refused] == [
        ("rejected", refused[0].result_code, None)]
    assert refused[0].result_code in ("WO_NOT_ASSIGNEE", "WO_NOT_FOUND", "FORBIDDEN")
    assert crew.read.job(job["id"]) is None
    assert crew.read.my_jobs() == []
    problems = crew.engine.status().problems
    assert [p.op_id for p in problems] == [refused[0].op_id] and problems[0].message
    crew.sync()  # stays gone
    assert crew.read.job(job["id"]) is None
