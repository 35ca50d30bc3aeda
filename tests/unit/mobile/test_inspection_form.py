"""The inspection finding form: the shared finding rules run on the phone, the message at
the input it is about, in the user's language; the draft survives a restart; a saved
finding is queued once and shows the job resolved at once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from mobile.services.drafts import FileDrafts, MemoryDrafts
from mobile.services.engine_backend import EngineBackend
from mobile.state.inspection_form import InspectionFormState
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import outbox
from sync.client.timefmt import to_iso
from sync.protocol import OpType
from tests.unit.mobile.test_support import (
    STATION,
    base_rows,
    jpeg_bytes,
    make_device,
    order_row,
    pull,
)

OTHER_AREA = new_id()


@pytest.fixture
def crew(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "crew")
    pull(backend, [*base_rows(), ("transformer_area", {
        "id": OTHER_AREA, "station_id": STATION, "area_class": "rural", "code": "TA-2",
        "name": "Hill Road"})])
    yield backend
    backend.close()


def inspection(backend: EngineBackend, status: str = "on_site") -> str:
    job = order_row(kind="usage_inspection", status=status, arrive_by=None,
                    arrived_at=to_iso(utcnow()), description="【用电检查】线损偏高")
    pull(backend, [("work_order", job)])
    return str(job["id"])


def ops(backend: EngineBackend) -> list[outbox.OutboxEntry]:
    with backend.store.read() as conn:
        return [o for o in outbox.select(conn) if o.type == OpType.INSPECTION_FINDING]


def test_each_problem_is_shown_at_its_input(crew: EngineBackend) -> None:
    form = InspectionFormState(crew, MemoryDrafts(), inspection(crew))
    assert not form.submit("en")
    assert form.errors == {"outcome": "Choose an outcome"}
    form.set_outcome("tampering", "en")
    assert form.errors == {"note": "Please describe in a note what you found."}
    form.set("note", "Bypass cable before the meter", "en")  # checked again at each change
    assert form.errors == {"photos": "Tampering needs at least one photo as evidence."}
    form.set("register_kwh", "12.345", "en")
    assert set(form.errors) == {"register_kwh"}
    form.set("register_kwh", "1520.40", "zh")
    form.set("measured_load_kw", "-1", "zh")
    assert set(form.errors) == {"measured_load_kw"}
    assert ops(crew) == [] and crew.status().waiting == 0


def test_a_saved_finding_is_queued_once_and_resolves_the_job_on_the_phone(
        crew: EngineBackend) -> None:
    order_id = inspection(crew)
    form = InspectionFormState(crew, MemoryDrafts(), order_id)
    form.set_outcome("tampering")
    form.set("note", "表前接线绕越计量")
    sha = asyncio.run(form.add_photo(jpeg_bytes()))
    form.set("register_kwh", "1520.40")
    assert form.submit("zh") and form.submitted
    [op] = ops(crew)
    assert op.entity_id == order_id and op.lane == f"work_order:{order_id}"
    assert op.payload["outcome"] == "tampering" and op.payload["photos"] == [sha]
    assert op.payload["register_kwh"] == "1520.40" and op.photos == [sha]
    detail = crew.job(order_id)
    assert detail is not None and detail.job.row["status"] == "resolved"
    assert detail.finding is not None and detail.finding["pending"] is True
    # a second form on the same job is refused by the same rule as the server's
    again = InspectionFormState(crew, MemoryDrafts(), order_id)
    again.set_outcome("meter_ok")
    assert not again.submit("en")
    assert again.errors == {"form": "A finding was already recorded for this job."}
    assert len(ops(crew)) == 1


def test_not_on_site_yet_is_refused_with_the_reason(crew: EngineBackend) -> None:
    form = InspectionFormState(crew, MemoryDrafts(), inspection(crew, status="accepted"))
    form.set_outcome("nothing_found")
    assert not form.submit("en")
    assert form.errors == {
        "form": "The work order is 'Accepted'; 'resolve' is not possible now."}
    assert ops(crew) == []


def test_a_mapping_error_offers_the_stations_other_areas_and_survives_a_restart(
        crew: EngineBackend, tmp_path: Path) -> None:
    order_id = inspection(crew)
    drafts = FileDrafts(tmp_path / "drafts")
    form = InspectionFormState(crew, drafts, order_id)
    form.set_outcome("wiring_or_mapping")
    assert [i for i, _ in form.areas()] == [OTHER_AREA]  # not the one registered
    form.set_area(OTHER_AREA)
    form.set("note", "fed from the hill transformer")
    restarted = InspectionFormState(crew, FileDrafts(tmp_path / "drafts"), order_id)
    restarted.load("en")
    assert restarted.values.correct_area_id == OTHER_AREA
    assert restarted.values.note == "fed from the hill transformer"
    # another outcome drops the area (only a mapping error may move the customer)
    restarted.set_outcome("meter_ok")
    assert restarted.values.correct_area_id == ""
    restarted.set_outcome("wiring_or_mapping")
    restarted.set_area(OTHER_AREA)
    assert restarted.submit("en")
    [op] = ops(crew)
    assert op.payload["correct_area_id"] == OTHER_AREA
    assert drafts.load(restarted.draft_key) is None
