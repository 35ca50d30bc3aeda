"""User actions on the device: checked offline with the shared rules before anything is
queued."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shared.enums import Role, WorkOrderKind
from shared.errors import DomainError, ErrorCode, FieldErrors
from shared.ids import new_id
from shared.meter_rules import SwapDraft
from sync.client import outbox, photos, rows
from sync.client.actions import Actions
from sync.client.store import SignedIn, Store
from sync.protocol import OpType

CREW = SignedIn(new_id(), Role.CREW, station_id="st1")
TECH = SignedIn(new_id(), Role.METER_TECH, station_id="st1")
ACCOUNT, AREA, METER = new_id(), new_id(), new_id()
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC).isoformat()


def job(**kw: Any) -> dict[str, Any]:
    row = {"id": new_id(), "kind": "fault_repair", "status": "dispatched",
           "priority": "normal", "station_id": "st1", "account_id": ACCOUNT,
           "assignee_id": CREW.user_id, "description": "x", "reported_at": T0,
           "complete_by": T0, "last_activity_at": T0, "version": 4, "meter_id": None}
    row.update(kw)
    return row


def put(store: Store, entity: str, row: dict[str, Any]) -> dict[str, Any]:
    with store.write() as conn:
        rows.apply_changes(conn, [{"entity": entity, "id": row["id"],
                                   "version": row.get("version", 1), "row": row}])
    return row


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    s.sign_in(CREW, access="a", refresh="r")
    yield s
    s.close()


@pytest.fixture
def nudges() -> list[int]:
    return []


@pytest.fixture
def act(store: Store, tmp_path: Path, nudges: list[int]) -> Actions:
    return Actions(store, photo_dir=tmp_path / "photos", on_change=lambda: nudges.append(1),
                   lang="en")


def queued(store: Store) -> list[outbox.OutboxEntry]:
    with store.read() as conn:
        return outbox.select(conn)


def code_of(exc: pytest.ExceptionInfo[DomainError]) -> ErrorCode:
    return exc.value.code


def test_an_allowed_action_is_queued_with_the_rows_version_and_nudges(
        store: Store, act: Actions, nudges: list[int]) -> None:
    j = put(store, "work_order", job())
    e = act.accept(j["id"])
    assert (e.type, e.entity_id, e.base_version) == (OpType.WO_ACCEPT, j["id"], 4)
    assert nudges == [1]
    act.start_travel(j["id"])  # possible because the pending accept is laid over
    act.arrive(j["id"], {"lat": 27.8, "lon": 112.9, "accuracy_m": 12})
    assert [q.action for q in queued(store)] == ["accept", "start_travel", "arrive"]
    assert queued(store)[-1].payload == {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 12.0}}


def test_the_state_machine_refuses_offline_and_nothing_is_queued(store: Store,
                                                                  act: Actions) -> None:
    j = put(store, "work_order", job())
    with pytest.raises(DomainError) as err:
        act.resolve(j["id"], "done")
    assert code_of(err) == ErrorCode.WO_TRANSITION_NOT_ALLOWED
    other = put(store, "work_order", job(assignee_id=new_id()))
    with pytest.raises(DomainError) as err:
        act.accept(other["id"])
    assert code_of(err) == ErrorCode.WO_NOT_ASSIGNEE
    with pytest.raises(DomainError) as err:
        act.accept(new_id())
    assert code_of(err) == ErrorCode.WORK_ORDER_NOT_FOUND
    assert queued(store) == []


@pytest.mark.parametrize(("call", "code"), [
    (lambda a, j: a.request_help(j, "  "), ErrorCode.WO_REASON_REQUIRED),
    (lambda a, j: a.request_help(j, "x" * 501), ErrorCode.VALIDATION_ERROR),
    (lambda a, j: a.arrive(j, {"lat": 91, "lon": 0, "accuracy_m": 5}), ErrorCode.WO_GPS_INVALID),
    (lambda a, j: a.arrive(j, {"lat": 1}), ErrorCode.WO_GPS_INVALID),
    (lambda a, j: a.add_note(j, ""), ErrorCode.WO_TEXT_REQUIRED),
    (lambda a, j: a.add_note(j, "x" * 2001), ErrorCode.VALIDATION_ERROR),
])
def test_field_rules_are_checked_offline(store: Store, act: Actions, call: Any,
                                         code: ErrorCode) -> None:
    """(The state machine comes first, as on the server: these actions are possible.)"""
    j = put(store, "work_order", job(status="accepted"))
    with pytest.raises(DomainError) as err:
        call(act, j["id"])
    assert code_of(err) == code
    assert queued(store) == []


def test_resolve_needs_a_resolution_and_a_swap_job_needs_its_swap(store: Store,
                                                                  act: Actions) -> None:
    j = put(store, "work_order", job(status="on_site"))
    with pytest.raises(DomainError) as err:
        act.resolve(j["id"], " ")
    assert code_of(err) == ErrorCode.WO_RESOLUTION_REQUIRED
    swap_job = put(store, "work_order", job(status="on_site", kind="meter_swap"))
    with pytest.raises(DomainError) as err:
        act.resolve(swap_job["id"], "swapped")
    assert code_of(err) == ErrorCode.WO_SWAP_REQUIRED
    e = act.resolve(j["id"], "Fuse replaced", cause="storm")
    assert e.payload == {"resolution": "Fuse replaced", "cause": "storm"}


def test_a_photo_its_upload_and_its_op_are_kept_together(store: Store, act: Actions) -> None:
    j = put(store, "work_order", job(status="on_site"))
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (1, 2, 3)).save(buf, format="PNG")
    e = act.add_photo(j["id"], buf.getvalue(), caption="broken insulator")
    with store.read() as conn:
        (p,) = photos.waiting(conn)
    assert e.payload == {"sha256": p.sha256, "caption": "broken insulator"}
    assert e.photos == [p.sha256] and p.path.exists()


def test_a_customer_reports_and_confirms(tmp_path: Path) -> None:
    s = Store(tmp_path / "c.db")
    customer = SignedIn(new_id(), Role.CUSTOMER, account_ids=(ACCOUNT,))
    s.sign_in(customer, access="a", refresh="r")
    act = Actions(s, photo_dir=tmp_path / "p")
    order_id = act.report(kind=WorkOrderKind.FAULT_REPAIR, description="No power",
                          account_id=ACCOUNT)
    (e,) = queued(s)
    assert (e.type, e.entity_id) == (OpType.WO_REPORT, order_id)
    assert e.payload["kind"] == "fault_repair" and e.payload["location"] is None
    with pytest.raises(DomainError) as err:
        act.report(kind=WorkOrderKind.FAULT_REPAIR, description="x", account_id=new_id())
    assert code_of(err) == ErrorCode.WO_NOT_OWNER
    with pytest.raises(DomainError) as err:
        act.report(kind=WorkOrderKind.METER_SWAP, description="x", account_id=ACCOUNT)
    assert code_of(err) == ErrorCode.WO_KIND_NOT_REPORTABLE
    done = put(s, "work_order", job(status="resolved", assignee_id=new_id()))
    with pytest.raises(DomainError) as err:
        act.confirm(done["id"], 6)
    assert code_of(err) == ErrorCode.WO_RATING_INVALID
    assert act.confirm(done["id"], 5, "quick").payload == {"rating": 5, "comment": "quick"}
    s.close()


def test_a_crew_cannot_report(store: Store, act: Actions) -> None:
    with pytest.raises(DomainError) as err:
        act.report(kind=WorkOrderKind.FAULT_REPAIR, description="x", account_id=ACCOUNT)
    assert code_of(err) == ErrorCode.WO_ROLE_NOT_ALLOWED


# -- meter swap -----------------------------------------------------------------------
@pytest.fixture
def tech(tmp_path: Path) -> Iterator[tuple[Store, Actions, dict[str, Any]]]:
    s = Store(tmp_path / "t.db")
    s.sign_in(TECH, access="a", refresh="r")
    put(s, "meter", {"id": METER, "meter_no": "MTR-OLD", "status": "installed",
                     "last_reading_centi": 100_000,
                     "last_reading_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    put(s, "meter", {"id": new_id(), "meter_no": "NEW-1", "status": "in_stock"})
    put(s, "meter", {"id": new_id(), "meter_no": "GONE-1", "status": "removed"})
    j = put(s, "work_order", job(kind="meter_swap", status="on_site", meter_id=METER,
                                 assignee_id=TECH.user_id))
    yield s, Actions(s, photo_dir=tmp_path / "p"), j
    s.close()


def draft(**kw: Any) -> SwapDraft:
    base: dict[str, Any] = dict(
        old_meter_no="MTR-OLD", old_final_kwh=Decimal("1012.50"), old_remaining_fen=2345,
        new_meter_no="NEW-1", new_start_kwh=Decimal("0.50"), new_card_no="1234567890",
        seal_numbers=("SEAL-001",), old_face_photo="a" * 64, new_face_photo="b" * 64)
    base.update(kw)
    return SwapDraft(**base)


def test_a_valid_swap_is_queued_in_the_jobs_lane_with_a_device_made_id(
        tech: tuple[Store, Actions, dict[str, Any]]) -> None:
    _, act, j = tech
    e = act.record_swap(j["id"], draft())
    assert e.lane == f"work_order:{j['id']}" and e.photos == ["a" * 64, "b" * 64]
    assert e.payload["old_final_kwh"] == "1012.50" and e.payload["old_remaining_fen"] == 2345
    assert len(e.payload["id"]) == 36
    with pytest.raises(DomainError) as err:
        act.record_swap(j["id"], draft())
    assert code_of(err) == ErrorCode.SWAP_ALREADY_RECORDED
    act.resolve(j["id"], "meter swapped")  # the pending swap satisfies resolve


def test_swap_rules_run_on_the_phone(tech: tuple[Store, Actions, dict[str, Any]]) -> None:
    _, act, j = tech
    with pytest.raises(FieldErrors) as err:
        act.record_swap(j["id"], draft(old_meter_no="WRONG", old_final_kwh=Decimal("900"),
                                       new_meter_no="GONE-1", new_card_no="12"))
    assert set(err.value.errors) == {"old_meter_no", "old_final_kwh", "new_meter_no",
                                     "new_card_no"}


def test_a_new_meter_not_in_the_downloaded_register_is_left_to_the_server(
        tech: tuple[Store, Actions, dict[str, Any]]) -> None:
    _, act, j = tech
    assert act.record_swap(j["id"], draft(new_meter_no="TYPED-IN-9")).payload[
        "new_meter_no"] == "TYPED-IN-9"


# -- the server's input rules, run before queueing (issue 8, items 7, 20, 23) ----------------
def test_readings_are_queued_as_two_place_strings_never_rounded(
        tech: tuple[Store, Actions, dict[str, Any]]) -> None:
    _, act, j = tech
    e = act.record_swap(j["id"], draft(old_final_kwh=Decimal("1013"),
                                       new_start_kwh=Decimal("0.5")))
    assert (e.payload["old_final_kwh"], e.payload["new_start_kwh"]) == ("1013.00", "0.50")


def test_text_is_cleaned_with_the_servers_rule_before_it_is_queued(store: Store,
                                                                    act: Actions) -> None:
    j = put(store, "work_order", job(status="on_site"))
    e = act.add_note(j["id"], "\u202e停电\u200b了\r\n第二行 ")
    assert e.payload == {"text": "停电了\n第二行"}
    with pytest.raises(DomainError) as err:
        act.add_note(j["id"], "bell\x07")
    assert code_of(err) == ErrorCode.VALIDATION_ERROR
    with pytest.raises(DomainError):
        act.add_note(j["id"], "\u2066\u200b\u2069")  # nothing visible left: empty
    e = act.resolve(j["id"], "换了保险丝", cause="\u2066雷击\u2069\n损坏")
    assert e.payload["cause"] == "雷击 损坏"
    assert [op.type for op in queued(store)] == [OpType.WO_ADD_NOTE, OpType.WO_RESOLVE]
