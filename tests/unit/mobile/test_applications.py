"""The customer's applications on the phone (real local store, no server): apply offline
with document photos — checked by the shared rules, queued with the photos — follow the
steps, send documents again, rate; the technician's installation op."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mobile.services.engine_backend import EngineBackend
from mobile.state.applications import AppDetailState, ApplyState, AppsState, InstallState
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import outbox
from sync.client.timefmt import to_iso
from tests.unit.mobile.test_support import (
    CUSTOMER,
    STATION,
    TECH,
    jpeg_bytes,
    make_device,
    order_row,
    pull,
)

ID_CARD = "11010519491231002X"


@pytest.fixture
def customer(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "cust", CUSTOMER)
    pull(backend, [("station", {"id": STATION, "code": "ST01", "name": "Chengguan"})])
    yield backend
    backend.close()


def _filled(backend: EngineBackend) -> ApplyState:
    form = ApplyState(backend)
    form.start()
    form.applicant_name, form.id_card_no = "Li Hua", ID_CARD
    form.contact_phone, form.address, form.capacity_kw = "13912345678", "8 Orchard Lane", "8"
    return form


def test_apply_offline_with_two_document_photos(customer: EngineBackend) -> None:
    form = _filled(customer)
    assert form.station_id == STATION and form.required_docs() == ["id_card", "property_cert"]
    # without the photos: every problem at once, nothing queued
    form.id_card_no = "110105194912310021"  # wrong check digit
    assert form.submit("en") is None
    assert set(form.errors) == {"doc_id_card", "doc_property_cert", "id_card_no"}
    assert form.errors["doc_property_cert"] == "Photograph the Property certificate"
    form.id_card_no = ID_CARD
    asyncio.run(form.add_document("id_card", jpeg_bytes(color=(10, 20, 30))))
    asyncio.run(form.add_document("property_cert", jpeg_bytes(color=(90, 20, 30))))
    app_id = form.submit("en")
    assert app_id and form.errors == {}
    with customer.store.read() as conn:
        (op,) = outbox.select(conn, "type = 'application.submit@1'")
    assert op.entity_id == app_id and op.lane == f"application:{app_id}"
    assert sorted(op.photos) == sorted(form.documents.values())
    assert op.payload["documents"] == form.documents and op.payload["capacity_kw"] == 8
    status = customer.status()
    assert status.photos_waiting == 2
    # the list shows it at once, not sent yet, at its first step
    apps = AppsState(customer, lang="en")
    apps.reload()
    (card,) = apps.cards
    assert card.title == "New connection (residential) · Not sent yet"
    assert (card.status, card.step, card.pending) == ("In progress", "Acceptance", True)


def test_kinds_ask_what_they_need(customer: EngineBackend, tmp_path: Path) -> None:
    form = _filled(customer)
    assert "contact_change" in form.kinds()
    newcomer = make_device(tmp_path / "new", CUSTOMER)
    try:
        with newcomer.store.write() as conn:
            conn.exec_driver_sql("DELETE FROM server_row WHERE entity = 'account'")
        assert ApplyState(newcomer).kinds() == ["new_residential", "new_non_residential"]
    finally:
        newcomer.close()
    form.set_kind("new_non_residential")
    assert form.required_docs() == ["id_card", "property_cert", "business_licence"]
    form.set_kind("contact_change")
    assert not form.spec.capacity and form.data()["account_id"] == form.account_id


def _server_row(app_id: str, **kw: object) -> dict[str, object]:
    now = utcnow()
    row: dict[str, object] = {
        "id": app_id, "code": "YK26120100001", "kind": "new_residential", "status": "open",
        "step": "site_survey", "station_id": STATION, "account_id": None,
        "applicant_user_id": CUSTOMER.user_id, "applicant_name": "Li Hua",
        "address": "8 Orchard Lane", "capacity_kw": 8, "version": 3, "rating": None,
        "submitted_at": to_iso(now - timedelta(days=1)),
        "documents": [{"doc": "id_card", "sha256": "a" * 64, "added_at": to_iso(now)}],
        "steps": [{"step": "acceptance", "started_at": to_iso(now - timedelta(days=1)),
                   "ended_at": to_iso(now - timedelta(hours=2)), "outcome": "done",
                   "ended_by_name": "Agent1", "holder_roles": ["agent"]},
                  {"step": "site_survey", "started_at": to_iso(now - timedelta(hours=2)),
                   "due_at": to_iso(now + timedelta(days=3)), "ended_at": None,
                   "holder_name": "Crew1", "holder_roles": ["crew"]}]}
    row.update(kw)
    return row


def test_follow_every_step_with_date_and_holder(customer: EngineBackend) -> None:
    app_id = new_id()
    pull(customer, [("application", _server_row(app_id))])
    detail = AppDetailState(customer, app_id)
    detail.reload()
    steps = detail.steps("en")
    assert [(s.step, s.state, s.holder) for s in steps] == [
        ("Acceptance", "done", "Agent1"), ("Site survey", "active", "Crew1")]
    assert steps[1].due and steps[0].ended


def test_returned_send_again_and_rate(customer: EngineBackend) -> None:
    app_id = new_id()
    pull(customer, [("application", _server_row(
        app_id, status="returned", step="acceptance", return_reason="blurred",
        returned_documents=["property_cert"]))])
    detail = AppDetailState(customer, app_id)
    detail.reload()
    asyncio.run(detail.add_redo("property_cert", jpeg_bytes(color=(1, 2, 3))))
    assert detail.send_again("en")
    with customer.store.read() as conn:
        (op,) = outbox.select(conn, "type = 'application.resubmit@1'")
    assert list(op.payload["documents"]) == ["property_cert"]
    # rating only once completed: refused here by the same rules as the server
    assert not detail.rate(5, "en") and "does not allow" in detail.error
    pull(customer, [("application", _server_row(app_id, status="completed", step="archive",
                                                 version=9))])
    detail.reload()
    assert detail.rate(5, "en")


def test_technician_install_op_goes_in_the_jobs_lane(tmp_path: Path) -> None:
    tech = make_device(tmp_path / "tech", TECH)
    try:
        job = order_row(TECH, kind="new_connection", status="on_site", account_id=None)
        pull(tech, [("work_order", job)])
        form = InstallState(tech, job["id"])
        assert form.stock() == ["NEW-0001"]
        form.meter_no, form.start_kwh, form.card_no = "OLD-0009", "0", "62000000001"
        assert not form.submit("en") and "not in this station's stock" in form.errors["form"]
        form.start_kwh, form.meter_no = "99", "NEW-0001"
        assert not form.submit("en") and "start_kwh" in form.errors
        form.start_kwh = "0.5"
        assert form.submit("en") and tech.installation_recorded(job["id"])
        with tech.store.read() as conn:
            (op,) = outbox.select(conn, "type = 'application.install@1'")
        assert op.lane == f"work_order:{job['id']}"
    finally:
        tech.close()
