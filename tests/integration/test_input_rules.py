"""Readings, money and typed text follow one rule on every path (issue 8, items 7, 20, 23).

* Readings are decimal strings with exactly two places, money integer fen: a JSON number,
  one or three decimals, or a float balance are refused — online and in a synced op —
  and nothing changes.
* Full-width digits (typed with a Chinese input method) are normalised to ASCII on
  purpose; any other script's digits are refused (the API, sync ops, the reading import).
* Names and descriptions lose bidi overrides, isolates and zero-width characters, keep
  their ordinary line breaks, and are NFC; a control character is refused.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.factories import World
from tests.integration.test_meter_swap_api import swap_body, swap_job_on_site

WO = "/api/v1/work-orders"
RLO, LRI, PDI, ZWSP, ZWJ = "\u202e", "\u2066", "\u2069", "\u200b", "\u200d"

BAD_NUMBERS: list[tuple[str, dict[str, Any]]] = [
    ("reading as a JSON number", {"old_final_kwh": 1234.56}),
    ("reading as a JSON integer", {"old_final_kwh": 1234}),
    ("reading with one decimal", {"old_final_kwh": "1234.5"}),
    ("reading with three decimals", {"old_final_kwh": "1234.560"}),
    ("reading without decimals", {"new_start_kwh": "0"}),
    ("start reading as a JSON number", {"new_start_kwh": 0.5}),
    ("reading in Arabic-Indic digits", {"old_final_kwh": "١٢٣٤.٥٦"}),
    ("reading in Devanagari digits", {"old_final_kwh": "१२३४.५६"}),
    ("balance as a whole float", {"old_remaining_fen": 3456.0}),
    ("balance as a string", {"old_remaining_fen": "3456"}),
]


@pytest.mark.parametrize(("what", "change"), BAD_NUMBERS, ids=[b[0] for b in BAD_NUMBERS])
def test_online_swap_refuses_inexact_numbers_and_changes_nothing(
        as_user, world: World, db, what: str, change: dict[str, Any]) -> None:
    oid = swap_job_on_site(db, world)
    before = db_snapshot(db)
    r = as_user("tech1").post(f"{WO}/{oid}/meter-swap", json=swap_body(world, **change))
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), r.text
    assert db_snapshot(db) == before


def _swap_op(oid: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": "device-tech1-0001", "device_seq": 1,
            "lane": f"work_order:{oid}", "lane_prev": None, "type": "meter_swap.record@1",
            "entity_id": oid, "payload": payload, "photos": [],
            "created_at": utcnow().isoformat()}


def _push(api: Any, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    r = api.post("/api/v1/sync/push", json={
        "protocol": PROTOCOL_VERSION, "device_id": ops[0]["device_id"],
        "sent_at": utcnow().isoformat(), "ops": ops})
    assert r.status_code == 200, r.text
    return r.json()["results"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("what", "change"), BAD_NUMBERS, ids=[b[0] for b in BAD_NUMBERS])
def test_a_synced_swap_refuses_inexact_numbers_as_a_bad_payload(
        as_user, world: World, db, what: str, change: dict[str, Any]) -> None:
    oid = swap_job_on_site(db, world)
    (result,) = _push(as_user("tech1"), [_swap_op(oid, swap_body(world, **change))])
    assert (result["status"], result["code"]) == ("rejected", "SYNC_BAD_PAYLOAD"), result
    assert table_rows(db, "meter_swap") == []
    (m1,) = table_rows(db, "meter", id=world.meters["m1"].id)
    assert (m1["status"], m1["balance_fen"]) == ("installed", 5000)


def test_full_width_digits_are_normalised_on_purpose_online_and_synced(
        as_user, world: World, db) -> None:
    oid = swap_job_on_site(db, world)
    r = as_user("tech1").post(f"{WO}/{oid}/meter-swap", json=swap_body(
        world, old_final_kwh="１２３４．５６", new_start_kwh="０.５０"))
    assert r.status_code == 201, r.text
    assert (r.json()["old_final_kwh"], r.json()["new_start_kwh"]) == ("1234.56", "0.50")
    (reading,) = table_rows(db, "meter_reading", source="swap_final")
    assert reading["value_centi"] == 123456
    oid2 = swap_job_on_site(db, world, account="acc2")
    body = swap_body(world, old_meter_no="MTR-M2-0001", new_meter_no="NEW-STOCK2",
                     old_final_kwh="１０２０.００")
    (result,) = _push(as_user("tech1"), [_swap_op(oid2, body)])
    assert result["status"] == "applied", result
    (swap,) = table_rows(db, "meter_swap", work_order_id=oid2)
    assert swap["old_final_centi"] == 102000


def test_typed_text_is_cleaned_the_same_way_online_and_synced(as_user, world: World,
                                                               db) -> None:
    disp = as_user("dispatcher1")
    r = disp.post(WO, json={
        "account_id": world.accounts["acc1"].id,
        "description": f"停电了{ZWSP}\r\n表箱{RLO}冒烟",
        "contact_name": f"{RLO}张伟{ZWJ}", "address": f"{LRI}文星镇{PDI}\n1号",
        "contact_phone": "13800000000"})
    assert r.status_code == 201, r.text
    (row,) = table_rows(db, "work_order", id=r.json()["id"])
    assert (row["description"], row["contact_name"], row["address"]) == (
        "停电了\n表箱冒烟", "张伟", "文星镇 1号")
    oid = r.json()["id"]
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    note = {"op_id": new_id(), "device_id": "device-crew1-0001", "device_seq": 1,
            "lane": f"work_order:{oid}", "lane_prev": None, "type": "work_order.add_note@1",
            "entity_id": oid, "payload": {"text": f"e\u0301{RLO}tape\r\nok"}, "photos": [],
            "created_at": utcnow().isoformat()}
    (result,) = _push(as_user("crew1"), [note])
    assert result["status"] == "applied", result
    (event,) = table_rows(db, "work_order_event", id=note["op_id"])
    assert json.loads(event["data"])["text"] == "\u00e9tape\nok"


@pytest.mark.parametrize("bad", ["no\x00power", "bell\x07", "esc\x1b[2J", "\ud800"])
def test_a_control_character_in_text_is_refused_online_and_synced(as_user, world: World,
                                                                   db, bad: str) -> None:
    before = db_snapshot(db)
    raw = json.dumps({"account_id": world.accounts["acc1"].id, "description": f"x{bad}"})
    r = as_user("customer1").post(WO, content=raw,  # (ASCII JSON: a lone surrogate escaped)
                                  headers={"Content-Type": "application/json"})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), r.text
    assert db_snapshot(db) == before
    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    op = {"op_id": new_id(), "device_id": "device-cust1-0001", "device_seq": 1,
          "lane": f"work_order:{oid}", "lane_prev": None, "type": "work_order.add_note@1",
          "entity_id": oid, "payload": {"text": f"x{bad}"}, "photos": [],
          "created_at": utcnow().isoformat()}
    r = as_user("customer1").post("/api/v1/sync/push", content=json.dumps({
        "protocol": PROTOCOL_VERSION, "device_id": op["device_id"],
        "sent_at": utcnow().isoformat(), "ops": [op]}),
        headers={"Content-Type": "application/json"})
    (result,) = r.json()["results"]
    assert (result["status"], result["code"]) == ("rejected", "SYNC_BAD_PAYLOAD"), result


def test_the_reading_import_normalises_full_width_and_refuses_other_digits(as_user, world,
                                                                         db) -> None:
    day = utcnow().astimezone(LOCAL_TZ).replace(hour=0, minute=10, second=0, microsecond=0)
    rows = [{"meter_no": "MTR-M1-0001", "read_at": (day - timedelta(days=1)).isoformat(),
             "value_kwh": "１０１０.５"},
            {"meter_no": "MTR-M2-0001", "read_at": (day - timedelta(days=1)).isoformat(),
             "value_kwh": "١٠١٠"}]
    r = as_user("admin").post("/api/v1/billing/readings/import", json={"rows": rows})
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(x["meter_no"], x["code"]) for x in out["rejected"]] == [
        ("MTR-M2-0001", "READING_FIELD_INVALID")]
    (reading,) = table_rows(db, "meter_reading", meter_id=world.meters["m1"].id)
    assert reading["value_centi"] == 101050
