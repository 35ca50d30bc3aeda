"""An inspection job's finding recorded on the phone with no signal (``inspection.finding@1``),
synced later through the same service as the online endpoint: the job resolves on the
phone at once and on the server once, tampering opens the office's follow-up, the finding
comes back to the phone in the pull, and the customer never sees any of it."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlmodel import Session, func, select

from server.db import Database
from server.monitoring.models import InspectionFinding
from server.work_orders.models import WorkOrder
from shared.errors import DomainError
from sync.client import outbox
from sync.client.engine import SyncEngine
from sync.client.errors import TransientError
from sync.client.readmodel import Mark
from sync.client.transport import Transport
from sync.protocol import OpType
from tests.contract.conftest import Device, LiveServer, Office
from tests.contract.test_sync_delivery import LoseAnswers


def picture() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (160, 120), (150, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


def queued(dev: Device) -> list[outbox.OutboxEntry]:
    with dev.store.read() as conn:
        return outbox.select(conn)


def test_tampering_found_offline_resolves_the_job_once_and_opens_the_follow_up(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    job = new_job("crew1", account="acc2", kind="usage_inspection")
    crew = device("crew1")
    crew.sync()
    a = crew.actions
    a.accept(job["id"])
    a.arrive(job["id"], {"lat": 27.8, "lon": 112.9, "accuracy_m": 6.0})
    crew.sync()

    dead = Transport("http://127.0.0.1:9", crew.store, timeout_s=1)
    offline = SyncEngine(crew.store, dead)
    # the rules run on the phone: tampering without a photo is refused, nothing queued
    before = len(queued(crew))
    with pytest.raises(DomainError) as refused:
        a.record_finding(job["id"], {"outcome": "tampering", "note": "表前绕越"})
    assert refused.value.code == "FINDING_PHOTO_REQUIRED"
    assert len(queued(crew)) == before
    sha = a.take_photo(picture())
    a.record_finding(job["id"], {"outcome": "tampering", "note": "表前绕越计量",
                                 "photos": [sha], "register_kwh": "1520.40",
                                 "measured_load_kw": "3.2"})
    with pytest.raises(TransientError):
        offline.sync_once()
    dead.close()
    detail = crew.read.job(job["id"])
    assert detail is not None
    assert detail.job.row["status"] == "resolved" and detail.job.sync.mark == Mark.PENDING
    assert detail.job.row["cause"] == "inspection:tampering"
    assert detail.finding is not None and detail.finding["pending"] is True
    assert sha in {p.sha256 for p in detail.photos}
    with pytest.raises(DomainError) as twice:
        a.record_finding(job["id"], {"outcome": "meter_ok"})
    assert twice.value.code == "FINDING_ALREADY_RECORDED"
    [op] = [o for o in queued(crew) if o.type == OpType.INSPECTION_FINDING]
    assert op.lane == f"work_order:{job['id']}" and op.photos == [sha]

    crew.sync()
    server = office.job(job["id"])
    assert server["status"] == "resolved" and server["cause"] == "inspection:tampering"
    inspection = office.call("GET", f"/api/v1/work-orders/{job['id']}/inspection")
    found = inspection["finding"]
    assert found["id"] == op.payload["id"] and found["outcome"] == "tampering"
    assert found["register_kwh"] == "1520.40" and found["photos"] == [sha]
    follow = office.job(found["follow_up_work_order_id"])
    assert (follow["kind"], follow["priority"]) == ("usage_inspection", "high")
    assert office.call("GET", f"/api/v1/photos/{sha}")["status"] == "complete"
    # the finding came back with the pull: the op is done, the phone shows the server's
    assert not [o for o in queued(crew) if o.type == OpType.INSPECTION_FINDING]
    detail = crew.read.job(job["id"])
    assert detail is not None and detail.job.sync.mark == Mark.SYNCED
    assert detail.finding is not None and "pending" not in detail.finding
    assert detail.finding["outcome"] == "tampering"
    assert [e.action for e in detail.timeline].count("resolve") == 1

    # the owner's phone gets none of it
    owner = device("customer2")
    owner.sync()
    with owner.store.read() as conn:
        texts = [r[0] for r in conn.exec_driver_sql("SELECT data FROM server_row")]
    assert texts and not any(job["id"] in t or "窃电" in t or "tampering" in t for t in texts)


def test_a_finding_on_another_kind_of_job_is_refused_on_the_phone(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]]) -> None:
    job = new_job("crew1")
    crew = device("crew1")
    crew.sync()
    crew.actions.accept(job["id"])
    crew.actions.arrive(job["id"], None)
    with pytest.raises(DomainError) as refused:
        crew.actions.record_finding(job["id"], {"outcome": "meter_ok"})
    assert refused.value.code == "FINDING_WRONG_KIND"


def test_a_finding_pushed_again_after_a_lost_answer_is_applied_once(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        live: LiveServer, office: Office, db: Database) -> None:
    job = new_job("crew1", account="acc2", kind="usage_inspection")
    lose = LoseAnswers("/api/v1/sync/push")
    crew = device("crew1", client=httpx.Client(base_url=live.url, timeout=10,
                                               event_hooks={"response": [lose]}))
    lose.left = 0
    crew.sync()
    a = crew.actions
    a.accept(job["id"])
    a.arrive(job["id"], None)
    sha = a.take_photo(picture())
    a.record_finding(job["id"], {"outcome": "tampering", "note": "seal broken",
                                 "photos": [sha]})
    lose.left = 1  # the server applies the batch; its answer never arrives
    with pytest.raises(TransientError):
        crew.sync()
    crew.sync()
    (again,) = lose.answers
    assert [r["status"] for r in again["results"]] == ["duplicate"] * 3
    with Session(db.reader) as s:
        assert s.exec(select(func.count()).select_from(InspectionFinding)).one() == 1
        follow_ups = s.exec(select(func.count()).select_from(WorkOrder).where(
            WorkOrder.kind == "usage_inspection", WorkOrder.status == "reported")).one()
        assert follow_ups == 1
    assert office.job(job["id"])["status"] == "resolved"


def test_a_finding_on_a_job_the_office_cancelled_meanwhile_is_rejected_with_the_reason(
        device: Callable[..., Device], new_job: Callable[..., dict[str, Any]],
        office: Office) -> None:
    job = new_job("crew1", account="acc2", kind="usage_inspection")
    crew = device("crew1")
    crew.sync()
    crew.actions.accept(job["id"])
    crew.actions.arrive(job["id"], None)
    crew.sync()
    crew.actions.record_finding(job["id"], {"outcome": "nothing_found"})
    office.act(job["id"], "cancel", reason="raised twice")
    crew.sync()
    detail = crew.read.job(job["id"])
    assert detail is not None and detail.job.sync.mark == Mark.REJECTED
    assert detail.job.row["status"] == "cancelled"  # the server's row, not the laid finding
    assert detail.job.sync.code == "WO_TRANSITION_NOT_ALLOWED" and detail.job.sync.reason
    assert office.call("GET", f"/api/v1/work-orders/{job['id']}/inspection")["finding"] is None
