"""A crew's day against the real server over real HTTP: offline work that syncs later,
rejections that restore the server's row with the reason, two crews on one job, and
jobs moving between phones on reassignment."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from sync.client import outbox
from sync.client.engine import SyncEngine
from sync.client.errors import TransientError
from sync.client.readmodel import Mark
from sync.client.transport import Transport
from tests.contract.conftest import Device, Office
from tests.factories import World

GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}


def waiting(dev: Device) -> list[outbox.OutboxEntry]:
    with dev.store.read() as conn:
        return outbox.select(conn)


def test_a_crew_works_a_job_offline_and_it_lands_on_the_server_once_synced(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    (view,) = crew.read.my_jobs()
    assert view.id == job["id"] and view.row["status"] == "dispatched"

    # No signal: the same store behind a transport that cannot reach anything.
    dead = Transport("http://127.0.0.1:9", crew.store, timeout_s=1)
    offline = SyncEngine(crew.store, dead)
    a = crew.actions
    a.accept(job["id"])
    a.start_travel(job["id"])
    a.arrive(job["id"], GPS)
    a.add_note(job["id"], "Transformer fuse blown")
    a.resolve(job["id"], "Replaced the fuse", cause="storm")
    with pytest.raises(TransientError):
        offline.sync_once()
    dead.close()
    status = crew.engine.status()
    assert status.waiting == 5 and status.last_error is not None
    assert status.last_error.code == "SYNC_OFFLINE"
    (view,) = crew.read.my_jobs()
    assert view.row["status"] == "resolved" and view.sync.mark == Mark.PENDING

    crew.sync()
    server = office.job(job["id"])
    assert server["status"] == "resolved"
    assert server["resolution"] == "Replaced the fuse"
    ops = {e.op_id for e in waiting(crew)}
    assert ops == set(), "acknowledged, pulled, compacted"
    events = [(e["action"], e["to_status"]) for e in server["timeline"]]
    assert events[-5:] == [("accept", "accepted"), ("start_travel", "en_route"),
                           ("arrive", "on_site"), ("add_note", "on_site"),
                           ("resolve", "resolved")]
    detail = crew.read.job(job["id"])
    assert detail is not None
    assert detail.job.sync.mark == Mark.SYNCED and detail.job.row["status"] == "resolved"
    assert detail.job.row["version"] == server["version"]
    assert [i.sync for i in detail.timeline] == ["synced"] * len(detail.timeline)
    assert len(detail.timeline) == len(server["timeline"])
    st = crew.engine.status()
    assert st.waiting == 0 and st.online and st.last_success_at is not None
    assert st.clock_offset_s is not None and abs(st.clock_offset_s) < 5


def test_a_rejection_restores_the_servers_row_and_shows_the_reason(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    office.act(job["id"], "cancel", reason="Customer fixed it themselves")
    accept = crew.actions.accept(job["id"])  # offline: the phone still sees "dispatched"
    note = crew.actions.add_note(job["id"], "On my way")
    crew.sync()
    detail = crew.read.job(job["id"])
    assert detail is not None
    assert detail.job.row["status"] == "cancelled"
    assert detail.job.sync.mark == Mark.REJECTED
    assert detail.job.sync.code == "WO_TRANSITION_NOT_ALLOWED"
    assert "Cancelled" in (detail.job.sync.reason or "")
    assert [(p.op_id, p.state) for p in detail.problems] == [(accept.op_id, "rejected"),
                                                             (note.op_id, "held")]
    assert office.job(job["id"])["status"] == "cancelled"
    # The crew gives up both; nothing of them reached the server.
    assert crew.engine.discard(accept.op_id) == 2
    crew.sync()
    assert crew.read.job(job["id"]).job.sync.mark == Mark.SYNCED  # type: ignore[union-attr]
    actions = [e["action"] for e in office.job(job["id"])["timeline"]]
    assert "accept" not in actions and "add_note" not in actions


def test_two_crews_on_one_job_the_server_decides_and_the_loser_sees_why(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, world: World) -> None:
    job = new_job("crew1")
    first, second = device("crew1"), device("crew1b")
    first.sync()
    # The office moves the job while crew1 is out of signal.
    office.act(job["id"], "reassign", assignee_id=world.user("crew1b").id,
               reason="crew1 is stuck at another site")
    second.sync()
    second.actions.accept(job["id"])
    second.actions.start_travel(job["id"])
    first.actions.accept(job["id"])
    first.actions.arrive(job["id"], GPS)
    second.sync()
    first.sync()

    server = office.job(job["id"])
    assert server["status"] == "en_route"
    assert server["assignee"]["id"] == world.user("crew1b").id
    actors = {e["actor"]["id"] for e in server["timeline"] if e["action"] in (
        "accept", "start_travel", "arrive")}
    assert actors == {world.user("crew1b").id}
    # The loser's phone: the job left its scope, so the refusal comes without a row
    # (issue 8, item 3) and the job is gone from the list; the refusal stays visible with
    # the reason -- not its assignee any more, whatever crew1b did with it (item 9).
    assert first.read.my_jobs() == []
    problems = first.read.problems()
    assert [p.state for p in problems] == ["rejected", "held"]
    assert problems[0].result_code == "WO_NOT_ASSIGNEE"
    assert "assigned to someone else" in first.read.reason(problems[0])
    # The winner's phone shows the server's state, synced.
    (won,) = second.read.my_jobs()
    assert won.row["status"] == "en_route" and won.sync.mark == Mark.SYNCED


def test_reassignment_moves_the_job_between_phones(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, world: World) -> None:
    job = new_job("crew1")
    old, new = device("crew1"), device("crew1b")
    old.sync()
    new.sync()
    assert [v.id for v in old.read.my_jobs()] == [job["id"]]
    assert new.read.my_jobs() == []
    office.act(job["id"], "reassign", assignee_id=world.user("crew1b").id, reason="closer")
    old.sync()
    new.sync()
    assert old.read.my_jobs() == [] and old.read.job(job["id"]) is None
    (moved,) = new.read.my_jobs()
    assert moved.id == job["id"] and moved.row["status"] == "dispatched"
    detail = new.read.job(job["id"])
    assert detail is not None and [i.action for i in detail.timeline][-1] == "reassign"


def test_the_running_engine_sends_a_new_action_at_once(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    crew.engine.interval_s = 3600  # only a nudge can explain a prompt push
    crew.engine.start()
    crew.actions.accept(job["id"])  # nudges the engine
    deadline = time.monotonic() + 10
    while office.job(job["id"])["status"] != "accepted" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert office.job(job["id"])["status"] == "accepted"
    assert crew.engine.stop(10)


def test_a_revoked_phone_is_signed_out_at_once_and_its_unsent_work_goes_to_the_office(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, world: World) -> None:
    """Issue 8, item 16: the office revokes a lost phone. Its next sync is refused
    (sign in again), nothing it had queued is applied, its outbox stays on the phone, and
    the office sees what it tried to send."""
    from sync.client.errors import AuthRequired

    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    crew.actions.accept(job["id"])
    crew.actions.add_note(job["id"], "at the substation")
    crew1 = world.user("crew1").id
    manager = Office(str(office.http.base_url).rstrip("/"), world.user("manager1").id)
    try:
        devices = manager.call("GET", f"/api/v1/users/{crew1}/devices")
        assert [d["id"] for d in devices] == [crew.store.device_id]
        manager.call("POST", f"/api/v1/users/{crew1}/devices/{crew.store.device_id}/revoke",
                     json={"reason": "lost on the mountain road"})
        with pytest.raises(AuthRequired) as err:
            crew.sync()
        assert err.value.code == "AUTH_DEVICE_REVOKED"
        assert crew.engine.status().waiting == 2  # kept on the phone, nothing lost
        assert office.job(job["id"])["status"] == "dispatched"  # nothing applied
        held = manager.call("GET", f"/api/v1/users/{crew1}/devices/"
                                   f"{crew.store.device_id}/held-ops")
        assert [h["type"] for h in held] == ["work_order.accept@1", "work_order.add_note@1"]
    finally:
        manager.close()
