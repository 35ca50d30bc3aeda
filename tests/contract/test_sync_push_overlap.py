"""A push of several batches with the next batch out while the last one's answers are
recorded (``Pusher.overlap``), against the real server: the same outcome as one step at
a time, a refusal included, and the batches really do overlap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sync.client import outbox, sending
from sync.client import push as pushing
from tests.contract.conftest import Device, Office


def states(dev: Device) -> dict[str, str]:
    with dev.store.read() as conn:
        return {e.op_id: e.state for e in outbox.select(conn)}


@pytest.mark.parametrize("overlap", [False, True], ids=["one-step", "overlapped"])
def test_a_backlog_in_several_batches_lands_in_order_with_its_refusal_held(
        overlap: bool, device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pushing, "MAX_PUSH_OPS", 3)  # 11 ops: four requests at least
    a, b, c = new_job("crew1"), new_job("crew1"), new_job("crew1")
    crew = device("crew1")
    crew.sync()
    office.act(b["id"], "cancel", reason="Customer fixed it themselves")
    act = crew.actions
    notes_a = [act.add_note(a["id"], f"A{i}").op_id for i in range(4)]
    accept_b = act.accept(b["id"]).op_id  # refused: the office cancelled the job
    note_b = act.add_note(b["id"], "on my way").op_id  # held behind it
    notes_c = [act.add_note(c["id"], f"C{i}").op_id for i in range(3)]
    notes_a += [act.add_note(a["id"], f"A{i}").op_id for i in range(4, 6)]

    # What the phone holds of the earlier batches as each batch is marked to go out.
    crew.engine.pusher.overlap = overlap
    sent: list[list[str]] = []
    earlier_at_send: list[dict[str, str]] = []
    mark = sending.mark_sending

    def spy(conn: Any, entries: Any, now: Any) -> None:
        held = {e.op_id: e.state for e in outbox.select(conn)}
        earlier_at_send.append({op: held[op] for batch in sent for op in batch})
        sent.append([e.op_id for e in entries])
        mark(conn, entries, now)

    monkeypatch.setattr(sending, "mark_sending", spy)
    report = crew.engine.pusher.run(crew.store.signed_in())

    # batches of three: A0-A2 | A3, the refused accept, the note behind it | C0-C2 | A4-A5
    assert report.requests == 4 and report.sent == 11
    assert (report.outcome.acked, report.outcome.rejected, report.outcome.held) == (9, 1, 1)
    after = states(crew)
    assert after[accept_b] == "rejected" and after[note_b] == "held"
    assert {after[op] for op in notes_a + notes_c} == {"applied"}
    timeline_a = [e["data"].get("text") for e in office.job(a["id"])["timeline"]
                  if e["action"] == "add_note"]
    assert timeline_a == [f"A{i}" for i in range(6)]
    timeline_c = [e["data"].get("text") for e in office.job(c["id"])["timeline"]
                  if e["action"] == "add_note"]
    assert timeline_c == [f"C{i}" for i in range(3)]
    assert office.job(b["id"])["status"] == "cancelled"
    # Overlapped, the second batch leaves while the first one's answers are still being
    # recorded: its ops are "sending" then. One step at a time they are recorded first.
    first_batch = sent[0]
    assert {earlier_at_send[1][op] for op in first_batch} == (
        {"sending"} if overlap else {"applied"})
