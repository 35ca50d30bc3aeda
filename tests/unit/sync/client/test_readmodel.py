"""The read model: the server's rows with the user's unsynced work laid over them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import rows, sending
from sync.client.outbox import OutboxEntry
from sync.client.readmodel import Mark, ReadModel
from sync.client.store import SignedIn, Store
from sync.client.timefmt import to_iso
from sync.protocol import OpResult, OpStatus, OpType, SyncErrorCode

NOW = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
CREW = SignedIn(new_id(), Role.CREW, station_id="st1")
STATION, AREA, ACCOUNT = new_id(), new_id(), new_id()


def order_row(**kw: Any) -> dict[str, Any]:
    row = {"id": new_id(), "code": "WO25030100001", "kind": "fault_repair",
           "status": "dispatched", "priority": "normal", "station_id": STATION,
           "area_id": AREA, "account_id": ACCOUNT, "meter_id": None,
           "assignee_id": CREW.user_id, "description": "No power",
           "reported_at": to_iso(NOW - timedelta(minutes=10)), "arrive_by": None,
           "complete_by": to_iso(NOW + timedelta(hours=3)), "arrived_at": None,
           "resolved_at": None, "last_activity_at": to_iso(NOW - timedelta(minutes=10)),
           "help_requested": False, "version": 2}
    row.update(kw)
    return row


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    s.sign_in(CREW, access="a", refresh="r")
    pull(s, [("transformer_area", {"id": AREA, "station_id": STATION, "area_class": "town"}),
             ("account", {"id": ACCOUNT, "area_id": AREA, "station_id": STATION,
                          "address": "1 Road", "lat": 27.8, "lon": 112.9})])
    yield s
    s.close()


def pull(store: Store, items: list[tuple[str, dict[str, Any]]]) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [{"entity": e, "id": r["id"], "version": r.get("version", 1),
                                   "row": r} for e, r in items])


def answer(store: Store, e: OutboxEntry, result: OpResult) -> None:
    with store.write() as conn:
        sending.apply_results(conn, [e], [result], now=utcnow(), rng=random.Random(0))


@pytest.fixture
def model(store: Store) -> ReadModel:
    return ReadModel(store, lang="en")


def test_a_pending_accept_shows_the_job_accepted_and_marked_pending(store: Store,
                                                                    model: ReadModel) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    store.enqueue(OpType.WO_ACCEPT, job["id"], {}, created_at=NOW)
    (view,) = model.my_jobs(now=NOW)
    assert view.row["status"] == "accepted"
    assert view.row["accepted_at"] == to_iso(NOW)
    assert view.server_row is not None and view.server_row["status"] == "dispatched"
    assert (view.sync.mark, view.sync.unsynced) == (Mark.PENDING, 1)
    assert "start_travel" in view.allowed_actions and "accept" not in view.allowed_actions


def test_a_chain_of_offline_actions_is_laid_over_in_order(store: Store, model: ReadModel
                                                          ) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    steps: list[tuple[OpType, dict[str, Any]]] = [
        (OpType.WO_ACCEPT, {}), (OpType.WO_START_TRAVEL, {}), (OpType.WO_ARRIVE, {"gps": None}),
        (OpType.WO_RESOLVE, {"resolution": "Fuse replaced"})]
    for i, (t, p) in enumerate(steps):
        store.enqueue(t, job["id"], p, created_at=NOW + timedelta(minutes=i))
    detail = model.job(job["id"], now=NOW)
    assert detail is not None
    assert detail.job.row["status"] == "resolved"
    assert detail.job.row["resolution"] == "Fuse replaced"
    assert [(i.action, i.to_status, i.sync) for i in detail.timeline] == [
        ("accept", "accepted", "pending"), ("start_travel", "en_route", "pending"),
        ("arrive", "on_site", "pending"), ("resolve", "resolved", "pending")]
    # a resolved job with unsynced work stays in "my jobs" until it is synced
    assert [v.id for v in model.my_jobs(now=NOW)] == [job["id"]]


def test_a_pending_report_shows_the_new_job_with_its_deadlines(tmp_path: Path) -> None:
    s = Store(tmp_path / "c.db")
    customer = SignedIn(new_id(), Role.CUSTOMER, account_ids=(ACCOUNT,))
    s.sign_in(customer, access="a", refresh="r")
    pull(s, [("transformer_area", {"id": AREA, "station_id": STATION, "area_class": "town"}),
             ("account", {"id": ACCOUNT, "area_id": AREA, "station_id": STATION,
                          "address": "1 Road", "lat": 27.8, "lon": 112.9})])
    order_id = new_id()
    s.enqueue(OpType.WO_REPORT, order_id, {"kind": "fault_repair", "account_id": ACCOUNT,
                                           "description": "Sparks at the pole",
                                           "location": None, "photos": []}, created_at=NOW)
    (view,) = ReadModel(s).my_jobs(now=NOW)
    assert view.id == order_id and view.row["status"] == "reported"
    assert view.row["code"] is None and view.server_row is None
    assert view.row["arrive_by"] == to_iso(NOW + timedelta(minutes=45))  # town: 45 min
    assert view.sync.mark == Mark.PENDING
    assert "cancel" in view.allowed_actions
    s.close()


def test_a_rejection_shows_the_servers_row_and_the_reason(store: Store, model: ReadModel
                                                          ) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    accept = store.enqueue(OpType.WO_ACCEPT, job["id"], {}, created_at=NOW)
    note = store.enqueue(OpType.WO_ADD_NOTE, job["id"], {"text": "on my way"}, created_at=NOW)
    taken = {**job, "assignee_id": new_id(), "version": 3}
    answer(store, accept, OpResult(
        op_id=accept.op_id, status=OpStatus.REJECTED, code="WO_NOT_ASSIGNEE",
        message="You are not this job's assignee.", entity="work_order", entity_id=job["id"],
        version=3, row=taken))
    detail = model.job(job["id"], now=NOW)
    assert detail is not None
    assert detail.job.row == taken  # the server's row, nothing laid over it
    assert detail.job.sync.mark == Mark.REJECTED
    assert detail.job.sync.reason == "You are not this job's assignee."
    assert [(p.op_id, p.state) for p in detail.problems] == [
        (accept.op_id, "rejected"), (note.op_id, "held")]
    assert [(i.action, i.sync) for i in detail.timeline] == [("accept", "rejected"),
                                                              ("add_note", "held")]
    assert "rejected" in detail.timeline[1].reason.lower()  # type: ignore[union-attr]
    assert model.my_jobs(now=NOW)[0].sync.mark == Mark.REJECTED  # still listed: needs you


def test_a_pending_op_a_pulled_change_made_impossible_is_marked_as_conflict(
        store: Store, model: ReadModel) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    store.enqueue(OpType.WO_ACCEPT, job["id"], {}, created_at=NOW)
    pull(store, [("work_order", {**job, "status": "cancelled", "version": 3})])
    (view,) = model.my_jobs(now=NOW)
    assert view.row["status"] == "cancelled"
    assert view.sync.mark == Mark.CONFLICT
    assert view.sync.code == "WO_TRANSITION_NOT_ALLOWED"
    assert "cancelled" in (view.sync.reason or "").lower()


def test_an_acknowledged_op_shows_until_the_pull_brings_its_version(store: Store,
                                                                   model: ReadModel) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    accept = store.enqueue(OpType.WO_ACCEPT, job["id"], {}, created_at=NOW)
    answer(store, accept, OpResult(op_id=accept.op_id, status=OpStatus.APPLIED,
                                   entity="work_order", entity_id=job["id"], version=3))
    (view,) = model.my_jobs(now=NOW)
    assert view.row["status"] == "accepted" and view.sync.mark == Mark.SYNCED
    pull(store, [("work_order", {**job, "status": "accepted", "version": 3}),
                 ("work_order_event", {"id": accept.op_id, "work_order_id": job["id"],
                                       "action": "accept", "from_status": "dispatched",
                                       "to_status": "accepted", "occurred_at": to_iso(NOW),
                                       "data": {}})])
    detail = model.job(job["id"], now=NOW)
    assert detail is not None and detail.job.row["status"] == "accepted"
    # the server's event has the op's id: shown once
    assert [(i.id, i.sync) for i in detail.timeline] == [(accept.op_id, "synced")]


def test_held_ops_are_not_laid_over(store: Store, model: ReadModel) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    accept = store.enqueue(OpType.WO_ACCEPT, job["id"], {}, created_at=NOW)
    travel = store.enqueue(OpType.WO_START_TRAVEL, job["id"], {}, created_at=NOW)
    answer(store, accept, OpResult(op_id=accept.op_id, status=OpStatus.APPLIED,
                                   entity="work_order", entity_id=job["id"], version=3))
    answer(store, travel, OpResult(op_id=travel.op_id, status=OpStatus.REJECTED,
                                   code="X", message="no"))
    later = store.enqueue(OpType.WO_ARRIVE, job["id"], {"gps": None}, created_at=NOW)
    assert later.state == "pending"  # nothing held: the lane goes on from the server row
    answer(store, later, OpResult(op_id=later.op_id, status=OpStatus.REJECTED,
                                  code=SyncErrorCode.LANE_PREDECESSOR_REJECTED))
    (view,) = model.my_jobs(now=NOW)
    assert view.row["status"] == "accepted"
    assert view.sync.mark == Mark.REJECTED


def test_my_jobs_are_sorted_by_urgency_and_exclude_other_peoples_and_done_jobs(
        store: Store, model: ReadModel) -> None:
    late = order_row(code="late", arrive_by=to_iso(NOW - timedelta(minutes=5)))
    soon = order_row(code="soon", arrive_by=to_iso(NOW + timedelta(minutes=20)))
    later = order_row(code="later", arrive_by=to_iso(NOW + timedelta(minutes=40)))
    urgent_later = order_row(code="urgent", priority="urgent",
                             arrive_by=to_iso(NOW + timedelta(minutes=40)))
    on_site = order_row(code="onsite", status="on_site", arrived_at=to_iso(NOW),
                        arrive_by=to_iso(NOW - timedelta(minutes=50)),
                        complete_by=to_iso(NOW + timedelta(hours=2)))
    others = order_row(code="others", assignee_id=new_id())
    done = order_row(code="done", status="resolved")
    pull(store, [("work_order", r) for r in (later, done, soon, others, urgent_later,
                                             on_site, late)])
    codes = [v.row["code"] for v in model.my_jobs(now=NOW)]
    assert codes == ["late", "soon", "urgent", "later", "onsite"]
    assert "done" in [v.row["code"] for v in model.my_jobs(now=NOW, include_done=True)]


def test_timeline_merges_server_events_and_pending_ops_by_time(store: Store,
                                                               model: ReadModel) -> None:
    job = order_row(status="accepted")
    pull(store, [("work_order", job),
                 ("work_order_event", {"id": new_id(), "work_order_id": job["id"],
                                       "action": "dispatch", "from_status": "reported",
                                       "to_status": "dispatched",
                                       "occurred_at": to_iso(NOW - timedelta(hours=1)),
                                       "data": {}}),
                 ("work_order_event", {"id": new_id(), "work_order_id": job["id"],
                                       "action": "accept", "from_status": "dispatched",
                                       "to_status": "accepted",
                                       "occurred_at": to_iso(NOW - timedelta(minutes=30)),
                                       "data": {}})])
    store.enqueue(OpType.WO_ADD_NOTE, job["id"], {"text": "gate locked"},
                  created_at=NOW - timedelta(minutes=10))
    detail = model.job(job["id"], now=NOW)
    assert detail is not None
    assert [(i.action, i.sync) for i in detail.timeline] == [
        ("dispatch", "synced"), ("accept", "synced"), ("add_note", "pending")]
    assert detail.timeline[-1].data == {"text": "gate locked"}


def test_photos_of_a_job_include_pending_ones_with_their_upload_state(store: Store,
                                                                      model: ReadModel) -> None:
    job = order_row(status="on_site")
    sha_done, sha_new = "a" * 64, "b" * 64
    pull(store, [("work_order", job),
                 ("photo_link", {"id": new_id(), "sha256": sha_done, "work_order_id": job["id"],
                                 "purpose": "job", "caption": "before"})])
    with store.write() as conn:
        conn.exec_driver_sql(
            "INSERT INTO photo (sha256, path, size, content_type, state, confirmed, created_at,"
            " updated_at) VALUES (?, '/p/b.jpg', 10, 'image/jpeg', 'queued', 0, 'x', 'x')",
            (sha_new,))
    store.enqueue(OpType.WO_ADD_PHOTO, job["id"], {"sha256": sha_new, "caption": "after"},
                  photos=[sha_new])
    detail = model.job(job["id"], now=NOW)
    assert detail is not None
    assert [(p.sha256, p.caption, p.synced, p.upload) for p in detail.photos] == [
        (sha_done, "before", True, None), (sha_new, "after", False, "queued")]


def test_a_pending_swap_is_shown_on_its_job(store: Store, model: ReadModel) -> None:
    job = order_row(kind="meter_swap", status="on_site")
    pull(store, [("work_order", job)])
    store.enqueue(OpType.METER_SWAP_RECORD, job["id"], {"id": new_id(), "new_meter_no": "N1"})
    detail = model.job(job["id"], now=NOW)
    assert detail is not None and detail.swap is not None
    assert detail.swap["pending"] is True and detail.swap["new_meter_no"] == "N1"


def test_problems_lists_rejected_and_held_ops(store: Store, model: ReadModel) -> None:
    job = order_row()
    pull(store, [("work_order", job)])
    a = store.enqueue(OpType.WO_ACCEPT, job["id"], {})
    store.enqueue(OpType.WO_ADD_NOTE, job["id"], {"text": "x"})
    answer(store, a, OpResult(op_id=a.op_id, status=OpStatus.REJECTED, code="WO_NOT_ASSIGNEE",
                              message="nope"))
    assert [p.state for p in model.problems()] == ["rejected", "held"]
    assert model.reason(model.problems()[0]) == "nope"
