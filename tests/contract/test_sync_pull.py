"""Pulls against the real server: a fresh phone downloads its whole scope in pages and
ends up equal to a phone that followed every change; an unusable cursor restarts the
download without touching the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sync.client import rows
from sync.client.store import Key
from tests.contract.conftest import Device, Office
from tests.factories import World


def snapshot(dev: Device) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    with dev.store.read() as conn:
        return {(e, r["id"]): (v, r) for e in (
            "station", "transformer_area", "account", "meter", "meter_reading", "work_order",
            "work_order_event", "meter_swap", "photo_link") for v, r in rows.all_of(conn, e)}


def test_a_fresh_phone_pulls_everything_in_pages_and_matches_a_phone_that_followed_along(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, world: World) -> None:
    follower = device("crew1")
    jobs = [new_job("crew1") for _ in range(4)]
    follower.sync()
    follower.actions.accept(jobs[0]["id"])
    follower.actions.add_note(jobs[1]["id"], "Needs a ladder")
    follower.sync()
    office.act(jobs[2]["id"], "reassign", assignee_id=world.user("crew1b").id, reason="x")
    new_job("crew1b")  # not crew1's
    extra = new_job("crew1")
    follower.sync()

    fresh = device("crew1", pull_limit=3)
    report = fresh.sync()
    assert report.pull.pages > 3  # paged, not one big answer
    assert snapshot(fresh) == snapshot(follower)
    mine = {j["id"] for j in jobs if j["id"] != jobs[2]["id"]} | {extra["id"]}
    assert {v.id for v in fresh.read.my_jobs()} == mine
    assert {v.id for v in follower.read.my_jobs()} == mine
    # A pull with nothing new changes nothing.
    again = fresh.sync()
    assert again.pull.changes == 0 and snapshot(fresh) == snapshot(follower)


def test_a_customer_phone_holds_its_accounts_meters_and_jobs_only(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        world: World) -> None:
    mine = new_job("crew1", account="acc1")
    new_job("crew1", account="acc2")
    phone = device("customer1")
    phone.sync()
    snap = snapshot(phone)
    assert {i for e, i in snap if e == "account"} == {world.accounts["acc1"].id}
    assert {i for e, i in snap if e == "work_order"} == {mine["id"]}
    assert all(r.get("account_id") == world.accounts["acc1"].id
               for (e, _), (_, r) in snap.items() if e == "meter")
    assert "id_card_digest" not in snap[("account", world.accounts["acc1"].id)][1]


def test_an_unusable_cursor_restarts_the_download_and_keeps_the_outbox(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]) -> None:
    job = new_job("crew1")
    phone = device("crew1")
    phone.sync()
    before = snapshot(phone)
    with phone.store.write() as conn:
        phone.store.put(conn, Key.CURSOR, "tampered.cursor")
        rows.apply_changes(conn, [{"entity": "station", "id": "ghost", "version": 1,
                                   "row": {"id": "ghost"}}])
    op = phone.actions.add_note(job["id"], "written before the reset")
    report = phone.sync()
    assert report.pull.resets == 1
    after = snapshot(phone)
    assert ("station", "ghost") not in after
    assert {k for k in after if k[0] != "work_order_event"} == {
        k for k in before if k[0] != "work_order_event"}
    events = [r for (e, _), (_, r) in after.items() if e == "work_order_event"]
    assert op.op_id in {r["id"] for r in events}  # the op was pushed, then pulled back
