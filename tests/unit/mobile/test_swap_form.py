"""The swap form: the server's swap rules run on the phone, per field, in the user's
language; the draft survives a restart; a submitted swap is queued once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mobile.services.drafts import FileDrafts, MemoryDrafts
from mobile.services.engine_backend import EngineBackend
from mobile.state.swap_form import SwapFormState, seals_of
from shared.timeutil import utcnow
from sync.client import outbox
from sync.client.timefmt import to_iso
from tests.unit.mobile.test_support import TECH, jpeg_bytes, make_device, order_row, pull


@pytest.fixture
def tech(tmp_path: Path) -> EngineBackend:
    backend = make_device(tmp_path / "tech", TECH)
    yield backend  # type: ignore[misc]
    backend.close()


def swap_job(backend: EngineBackend) -> str:
    job = order_row(TECH, kind="meter_swap", status="on_site", arrive_by=None,
                    arrived_at=to_iso(utcnow()))
    pull(backend, [("work_order", job)])
    return str(job["id"])


def filled(form: SwapFormState, **over: str) -> SwapFormState:
    values = {"old_meter_no": "MTR-0001", "old_final_kwh": "1012.30",
              "old_remaining": "12.50", "new_meter_no": "NEW-0001", "new_start_kwh": "0.5",
              "new_card_no": "62220012345678", "seal_numbers": "SEAL-0001, SEAL-0002"}
    values.update(over)
    for name, value in values.items():
        form.set(name, value, "en")
    return form


def with_photos(form: SwapFormState) -> SwapFormState:
    asyncio.run(form.set_photo("old_face_photo", jpeg_bytes(color=(10, 10, 10)), "en"))
    asyncio.run(form.set_photo("new_face_photo", jpeg_bytes(color=(10, 200, 10)), "en"))
    return form


def test_every_field_has_its_own_message(tech: EngineBackend) -> None:
    form = SwapFormState(tech, MemoryDrafts(), swap_job(tech))
    form.load("en")
    filled(form, old_meter_no="MTR-9999", old_final_kwh="999.5", old_remaining="abc",
           new_meter_no="OLD-0009", new_start_kwh="12", new_card_no="12AB",
           seal_numbers="ok-seal, x")
    assert not form.submit("en")
    assert form.errors == {
        "old_meter_no": "Old meter number MTR-9999 does not match the job's meter MTR-0001.",
        "old_final_kwh": "The reading 999.5 is below the last recorded reading 1000.00.",
        "old_remaining": "Enter a number",
        "new_meter_no": "New meter OLD-0009 is not in stock (now: removed); "
                        "it cannot be installed.",
        "new_start_kwh": "The new meter's start reading must be between 0 and 10.00.",
        "new_card_no": "The prepayment card number must be 8–20 digits.",
        "seal_numbers": "A seal number is not valid: x",
        "photos": "Photos of both the old and the new meter face are required.",
    }
    assert tech.status().waiting == 0


def test_a_corrected_field_loses_its_message_at_once(tech: EngineBackend) -> None:
    form = with_photos(filled(SwapFormState(tech, MemoryDrafts(), swap_job(tech)),
                              old_final_kwh="999.50"))
    assert not form.submit("zh")
    assert form.errors == {"old_final_kwh": "示数 999.50 小于上次记录的示数 1000.00。"}
    form.set("old_final_kwh", "1012.30", "zh")
    assert form.errors == {}
    assert form.submit("zh")
    assert form.submitted
    status = tech.status()
    assert status.waiting == 1 and status.ops[0].action == "record_swap"
    detail = tech.job(form.order_id)
    assert detail is not None and detail.swap is not None
    assert detail.swap["new_meter_no"] == "NEW-0001"
    assert detail.swap["old_final_kwh"] == "1012.30"
    assert detail.swap["old_remaining_fen"] == 1250
    assert detail.swap["seal_numbers"] == ["SEAL-0001", "SEAL-0002"]


def test_a_meter_typed_by_hand_is_left_to_the_server(tech: EngineBackend) -> None:
    form = with_photos(filled(SwapFormState(tech, MemoryDrafts(), swap_job(tech)),
                              new_meter_no="NEW-9999"))
    assert form.register_hint("en") == ("Not in this phone's register: entered by hand, "
                                        "the server checks it")
    assert form.validate("en")
    form.set("new_meter_no", "", "en")
    assert form.register_hint("en") == "1 meter in stock on this phone"
    form.set("new_meter_no", "NEW-0001", "en")
    assert form.register_hint("en") == "In register: In stock"  # in words
    assert form.register_hint("zh") == "表库中：在库"
    assert form.last_reading_text("en").startswith("Last reading 1000.00 kWh")


def test_the_draft_survives_a_restart_and_goes_after_submitting(tech: EngineBackend,
                                                                tmp_path: Path) -> None:
    order_id = swap_job(tech)
    drafts = FileDrafts(tmp_path / "drafts")
    form = SwapFormState(tech, drafts, order_id)
    form.load("en")
    filled(form, old_final_kwh="999")
    assert not form.submit("en")
    again = SwapFormState(tech, FileDrafts(tmp_path / "drafts"), order_id)  # after a crash
    again.load("en")
    assert again.values.new_meter_no == "NEW-0001"
    assert again.show_errors and "old_final_kwh" in again.errors
    with_photos(again)
    again.set("old_final_kwh", "1001", "en")
    assert again.submit("en")
    assert drafts.load(again.draft_key) is None


def test_seal_numbers_are_split_on_commas_and_spaces() -> None:
    assert seals_of("A-1111, B-2222，C-3333  D-4444;E-5555") == (
        "A-1111", "B-2222", "C-3333", "D-4444", "E-5555")
    assert seals_of("  ") == ()


def test_unknown_fields_are_refused(tech: EngineBackend) -> None:
    form = SwapFormState(tech, MemoryDrafts(), swap_job(tech))
    with pytest.raises(ValueError):
        form.set("balance_hack", "1", "en")
    with pytest.raises(ValueError):
        asyncio.run(form.set_photo("selfie", b"", "en"))


def test_full_width_digits_are_read_as_the_server_reads_them(tech: EngineBackend) -> None:
    form = SwapFormState(tech, MemoryDrafts(), swap_job(tech))
    form.load("en")
    filled(form, old_final_kwh="١٠١٢.٣٠")  # Arabic-Indic digits: refused, as on the server
    assert not form.submit("en")
    assert form.errors["old_final_kwh"] == "Enter a number"
    with_photos(filled(form, old_final_kwh="１０１２．３", old_remaining="１２.５０"))
    assert form.submit("en"), form.errors
    with tech.store.read() as conn:
        (op,) = outbox.select(conn)
    assert (op.payload["old_final_kwh"], op.payload["new_start_kwh"],
            op.payload["old_remaining_fen"]) == ("1012.30", "0.50", 1250)


def test_the_new_meter_is_picked_from_the_stock_and_the_old_one_filled_in(
        tech: EngineBackend) -> None:
    from shared.ids import new_id

    pull(tech, [("meter", {"id": new_id(), "meter_no": f"NEW-00{i}2", "status": "in_stock",
                           "account_id": None, "station_id": "s"}) for i in range(3)])
    form = SwapFormState(tech, MemoryDrafts(), swap_job(tech))
    form.load("en")
    assert form.values.old_meter_no == "MTR-0001"  # from the job
    assert form.stock() == ["NEW-0001", "NEW-0002", "NEW-0012", "NEW-0022"]
    form.search_stock("new-002")  # by number, any case; installed/removed never offered
    assert form.stock() == ["NEW-0022"]
    form.search_stock("OLD")
    assert form.stock() == []
    form.pick_new_meter("NEW-0022", "en")
    assert form.values.new_meter_no == "NEW-0022" and not form.manual
    assert form.stock_query == ""
    form.type_new_meter()  # the fallback: typed by hand
    assert form.manual
    again = SwapFormState(tech, MemoryDrafts(), swap_job(tech))
    again.load("en")
    assert not again.manual
