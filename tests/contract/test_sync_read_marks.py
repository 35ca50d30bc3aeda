"""Inbox read marks travel (issue 15): a message read on one of a customer's phones — even
with no signal — reaches the server as a ``notification.read@1`` op once it syncs; the
customer's other phone then pulls it read, and the office's view of the account shows
when it was read. A customer cannot mark another customer's message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from shared.timeutil import utcnow
from sync.client import outbox, rows
from sync.client.engine import SyncEngine
from sync.client.errors import TransientError
from sync.client.timefmt import from_iso
from sync.client.transport import Transport
from sync.protocol import OpType
from tests.contract.conftest import Device, Office
from tests.factories import World


def publish_outage(office: Office, world: World, *areas: str) -> dict[str, Any]:
    """A planned outage for ``areas``: each of their customers gets an inbox message."""
    start = utcnow() + timedelta(days=1)
    return office.call("POST", "/api/v1/outages", json={
        "area_ids": [world.areas[a].id for a in areas], "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(),
        "reason": "Replacing the 10 kV switch"})


def inbox(dev: Device) -> dict[str, dict[str, Any]]:
    with dev.store.read() as conn:
        return {r["id"]: r for _, r in rows.all_of(conn, "notification")}


def ops(dev: Device) -> list[outbox.OutboxEntry]:
    with dev.store.read() as conn:
        return outbox.select(conn)


def test_a_message_read_offline_on_one_phone_is_read_on_the_other_and_at_the_office(
        device: Callable[..., Device], office: Office, world: World) -> None:
    publish_outage(office, world, "town")
    phone_a, phone_b = device("customer1", name="a"), device("customer1", name="b")
    phone_a.sync()
    phone_b.sync()
    (note_id,) = inbox(phone_a)
    assert inbox(phone_b)[note_id]["read_at"] is None

    # No signal on phone A: the mark is kept there as an op, and sent later.
    dead = Transport("http://127.0.0.1:9", phone_a.store, timeout_s=1)
    (queued,) = phone_a.actions.mark_read([note_id])
    assert queued.type == OpType.NOTE_READ.value and queued.entity_id == note_id
    assert phone_a.actions.mark_read([note_id]) == []  # once is enough
    with pytest.raises(TransientError):
        SyncEngine(phone_a.store, dead).sync_once()
    dead.close()
    assert [(o.type, o.state.value) for o in ops(phone_a)] == [
        (OpType.NOTE_READ.value, "pending")]
    assert phone_a.actions.read_marks() == {note_id}  # read on this phone meanwhile
    account = office.call("GET", f"/api/v1/customers/{world.accounts['acc1'].id}")
    assert [m["read_at"] for m in account["messages"] if m["id"] == note_id] == [None]

    phone_a.sync()  # the signal is back
    assert ops(phone_a) == [], "applied, pulled back read, compacted"
    read_at = inbox(phone_a)[note_id]["read_at"]
    assert read_at is not None
    assert queued.created_at - timedelta(seconds=5) <= from_iso(read_at) <= utcnow()

    phone_b.sync()  # the other phone pulls the message read
    assert inbox(phone_b)[note_id]["read_at"] == read_at
    assert phone_b.actions.mark_read([note_id]) == []  # nothing left to say
    account = office.call("GET", f"/api/v1/customers/{world.accounts['acc1'].id}")
    assert [m["read_at"] is not None for m in account["messages"]
            if m["id"] == note_id] == [True]


def test_a_customer_cannot_mark_another_customers_message(
        device: Callable[..., Device], office: Office, world: World) -> None:
    publish_outage(office, world, "town", "rural")
    owner, other = device("customer1", name="owner"), device("customer2", name="other")
    owner.sync()
    other.sync()
    (theirs,) = inbox(owner)
    (mine,) = inbox(other)
    assert theirs not in inbox(other)
    assert other.actions.mark_read([theirs]) == []  # not on this phone: nothing to send

    # A hand-made op for someone else's message is refused with a code and a message.
    other.store.enqueue(OpType.NOTE_READ.value, theirs, {})
    other.actions.mark_read([mine])
    other.sync()
    (refused,) = [o for o in ops(other) if o.entity_id == theirs]
    assert (refused.state.value, refused.result_code) == ("rejected",
                                                          "NOTIFICATION_NOT_FOUND")
    assert refused.result_message
    assert inbox(other)[mine]["read_at"] is not None  # their own went through

    owner.sync()
    assert inbox(owner)[theirs]["read_at"] is None  # still unread where it belongs
    account = office.call("GET", f"/api/v1/customers/{world.accounts['acc1'].id}")
    assert [m["read_at"] for m in account["messages"] if m["id"] == theirs] == [None]
