"""Meter swap over HTTP: every validation failing in turn (a clear 4xx, the database left
exactly as it was), then the valid swap, then the same swap again: the remaining balance
moves from the old meter to the new one exactly once, also when sent concurrently."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import Session

from server.users.models import User
from shared.ids import new_id
from tests.conftest import db_snapshot, svc_act, svc_report, table_rows
from tests.factories import World

WO = "/api/v1/work-orders"
OLD_FACE, NEW_FACE = "a1" * 32, "b2" * 32


def swap_body(world: World, **changes: Any) -> dict[str, Any]:
    body = {
        "id": new_id(),
        "old_meter_no": world.meters["m1"].meter_no,  # MTR-M1-0001, last read 1000.00 kWh
        "old_final_kwh": "1234.56",
        "old_remaining_fen": 3456,
        "new_meter_no": world.meters["stock1"].meter_no,
        "new_start_kwh": "0.50",
        "new_card_no": "6200123456789",
        "seal_numbers": ["SEAL-0001", "SEAL-0002"],
        "old_face_photo": OLD_FACE,
        "new_face_photo": NEW_FACE,
    }
    body.update(changes)
    return body


def meter(db: Any, world: World, key: str) -> dict[str, Any]:
    (row,) = table_rows(db, "meter", id=world.meters[key].id)
    return row


def swap_job_on_site(db: Any, world: World, account: str = "acc1") -> str:
    """A meter-swap job dispatched to tech1, who is on site (set up through the services)."""
    oid = svc_report(db, world, "dispatcher1", kind="meter_swap",
                     account_id=world.accounts[account].id, description="meter display dead")
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("tech1").id)
    svc_act(db, world, "tech1", oid, "accept")
    svc_act(db, world, "tech1", oid, "arrive")
    return oid


def add_user(db: Any, world: World, name: str, like: str) -> None:
    """Another user with the same role and station as ``like``."""
    model = world.user(like)
    with Session(db.writer, expire_on_commit=False) as s:
        user = User(username=name, password_hash=model.password_hash, role=model.role,
                    display_name=name.title(), station_id=model.station_id)
        s.add(user)
        s.commit()
    world.users[name] = user


# Each bad swap: what is wrong, the change to a valid request, the status and code.
BAD_SWAPS: list[tuple[str, dict[str, Any], int, str]] = [
    ("old meter is not the job's meter", {"old_meter_no": "MTR-M2-0001"}, 422,
     "SWAP_OLD_METER_MISMATCH"),
    ("final reading below the last one (1000.00)", {"old_final_kwh": "999.99"}, 422,
     "READING_BELOW_LAST"),
    ("negative final reading", {"old_final_kwh": "-1.00"}, 422, "READING_NEGATIVE"),
    ("final reading beyond the register", {"old_final_kwh": "1000000.00"}, 422,
     "READING_TOO_LARGE"),
    ("final reading implausibly high for one day", {"old_final_kwh": "999999.00"}, 422,
     "READING_IMPLAUSIBLE_JUMP"),
    ("new meter not in the register", {"new_meter_no": "NEW-NOPE-9"}, 422,
     "SWAP_NEW_METER_UNKNOWN"),
    ("new meter installed at another account (m2)", {"new_meter_no": "MTR-M2-0001"}, 422,
     "SWAP_NEW_METER_NOT_IN_STOCK"),
    ("new meter already removed", {"new_meter_no": "OLD-REMOVED-1"}, 422,
     "SWAP_NEW_METER_NOT_IN_STOCK"),
    ("new meter is the old meter", {"new_meter_no": "MTR-M1-0001"}, 422,
     "SWAP_NEW_METER_SAME"),
    ("new start reading above 10 kWh", {"new_start_kwh": "10.01"}, 422,
     "SWAP_NEW_START_TOO_HIGH"),
    ("new start reading negative", {"new_start_kwh": "-0.01"}, 422,
     "SWAP_NEW_START_TOO_HIGH"),
    ("card number with letters", {"new_card_no": "62AB12345678"}, 422, "SWAP_CARD_INVALID"),
    ("card number too short", {"new_card_no": "1234567"}, 422, "SWAP_CARD_INVALID"),
    ("card number missing", {"new_card_no": ""}, 422, "SWAP_CARD_INVALID"),
    ("seal number malformed", {"seal_numbers": ["S1"]}, 422, "SWAP_SEAL_INVALID"),
    ("too many seals", {"seal_numbers": [f"SEAL-{i:04d}" for i in range(7)]}, 422,
     "SWAP_SEAL_INVALID"),
    ("old meter face photo missing", {"old_face_photo": None}, 422, "SWAP_PHOTOS_REQUIRED"),
    ("new meter face photo not a hash", {"new_face_photo": "photo.jpg"}, 422,
     "SWAP_PHOTOS_REQUIRED"),
    ("remaining balance absurdly high", {"old_remaining_fen": 20_000_000}, 422,
     "SWAP_BALANCE_ABSURD"),
    ("remaining balance absurdly negative", {"old_remaining_fen": -100_001}, 422,
     "SWAP_BALANCE_ABSURD"),
    ("reading with three decimals", {"old_final_kwh": "1234.567"}, 422, "VALIDATION_ERROR"),
    ("balance as a float", {"old_remaining_fen": 34.56}, 422, "VALIDATION_ERROR"),
    ("swap id not a uuid", {"id": "swap-1"}, 422, "VALIDATION_ERROR"),
    ("unknown field", {"operator": "me"}, 422, "VALIDATION_ERROR"),
]


def test_meter_swap_each_validation_then_success_then_exactly_once(as_user, world, db):
    dispatcher, tech = as_user("dispatcher1"), as_user("tech1")
    acc1 = world.accounts["acc1"]

    # dispatcher1 raises a meter-swap job on acc1 and dispatches tech1, who accepts
    job = dispatcher.post(WO, json={"kind": "meter_swap", "account_id": acc1.id,
                                    "description": "meter display dead"})
    assert job.status_code == 201, job.text
    oid = job.json()["id"]
    assert job.json()["meter_no"] == "MTR-M1-0001"
    assert dispatcher.post(f"{WO}/{oid}/dispatch",
                           json={"assignee_id": world.user("tech1").id}).status_code == 200
    assert tech.post(f"{WO}/{oid}/accept", json={}).status_code == 200
    url = f"{WO}/{oid}/meter-swap"

    def refused(api: Any, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
        before = db_snapshot(db)
        r = api.post(url, json=body)
        assert (r.status_code, r.json().get("code")) == (status, code), r.text
        assert db_snapshot(db) == before, f"{code} changed the database"
        return r.json()  # type: ignore[no-any-return]

    # not on site yet
    body = refused(tech, swap_body(world), 409, "SWAP_WRONG_STATUS")
    assert body["message"] == "Arrive on site before recording the swap (now: Accepted)."
    assert tech.post(f"{WO}/{oid}/arrive", json={}).status_code == 200

    # nobody but the assigned technician records it
    add_user(db, world, "tech1b", like="tech1")
    refused(as_user(None), swap_body(world), 401, "AUTH_REQUIRED")
    refused(as_user("tech2"), swap_body(world), 404, "WORK_ORDER_NOT_FOUND")  # other station
    refused(as_user("crew1"), swap_body(world), 404, "WORK_ORDER_NOT_FOUND")  # crews: faults
    refused(as_user("tech1b"), swap_body(world), 403, "WO_NOT_ASSIGNEE")  # same station
    refused(as_user("customer1"), swap_body(world), 403, "WO_ROLE_NOT_ALLOWED")
    refused(as_user("dispatcher1"), swap_body(world), 403, "WO_ROLE_NOT_ALLOWED")
    refused(as_user("customer2"), swap_body(world), 404, "WORK_ORDER_NOT_FOUND")

    # resolving a meter-swap job needs the swap first
    before = db_snapshot(db)
    r = tech.post(f"{WO}/{oid}/resolve", json={"resolution": "swapped"})
    assert (r.status_code, r.json()["code"]) == (422, "WO_SWAP_REQUIRED")
    assert db_snapshot(db) == before

    # each validation on its own
    for what, change, status, code in BAD_SWAPS:
        body = refused(tech, swap_body(world, **change), status, code)
        assert body["message"], what
    # several problems are reported together, field by field
    body = refused(tech, swap_body(world, old_final_kwh="999.00", new_card_no="x",
                                   new_face_photo=None), 422, "READING_BELOW_LAST")
    assert set(body["details"]["fields"]) == {"old_final_kwh", "new_card_no", "photos"}
    assert body["details"]["fields"]["new_card_no"]["code"] == "SWAP_CARD_INVALID"
    mismatch = refused(tech, swap_body(world, old_meter_no="MTR-M3-0001"), 422,
                       "SWAP_OLD_METER_MISMATCH")
    assert mismatch["message"] == ("Old meter number MTR-M3-0001 does not match the job's "
                                   "meter MTR-M1-0001.")

    # a swap cannot be recorded on a fault job
    fault = svc_report(db, world, "customer1", account_id=acc1.id)
    svc_act(db, world, "dispatcher1", fault, "dispatch", assignee_id=world.user("crew1").id)
    svc_act(db, world, "crew1", fault, "accept")
    svc_act(db, world, "crew1", fault, "arrive")
    before = db_snapshot(db)
    r = as_user("crew1").post(f"{WO}/{fault}/meter-swap", json=swap_body(world))
    assert (r.status_code, r.json()["code"]) == (422, "SWAP_WRONG_KIND")
    assert db_snapshot(db) == before

    # the valid swap
    good = swap_body(world)
    r = tech.post(url, json=good)
    assert r.status_code == 201, r.text
    swap = r.json()
    assert swap["id"] == good["id"] and swap["duplicate"] is False
    assert (swap["old_final_kwh"], swap["new_start_kwh"]) == ("1234.56", "0.50")
    # the ledger (5000) is the money; the reading (3456) is evidence, kept beside it
    assert (swap["carried_fen"], swap["old_remaining_fen"]) == (5000, 3456)
    assert swap["old_meter_id"] == world.meters["m1"].id
    assert swap["new_meter_id"] == world.meters["stock1"].id
    assert swap["recorded_by"] == world.user("tech1").id
    assert swap["seal_numbers"] == ["SEAL-0001", "SEAL-0002"]

    old, new = meter(db, world, "m1"), meter(db, world, "stock1")
    assert (old["status"], old["balance_fen"], old["last_reading_centi"]) == (
        "removed", 0, 123456)
    assert old["removed_at"] is not None
    assert (new["status"], new["account_id"], new["balance_fen"], new["purchase_count"]) == (
        "installed", acc1.id, 5000, 0)
    assert (new["card_no"], new["last_reading_centi"]) == ("6200123456789", 50)
    assert (new["area_id"], new["station_id"]) == (acc1.area_id, acc1.station_id)
    assert new["installed_at"] is not None
    readings = {(r["meter_id"], r["source"], r["value_centi"])
                for r in table_rows(db, "meter_reading")}
    assert readings == {(world.meters["m1"].id, "swap_final", 123456),
                        (world.meters["stock1"].id, "swap_start", 50)}
    audit = [(a["action"], a["entity_id"]) for a in table_rows(db, "audit_log")
             if a["entity"] in ("meter", "meter_swap")]
    assert audit == [("meter.remove", world.meters["m1"].id),
                     ("meter.install", world.meters["stock1"].id),
                     ("meter_swap.balance_carry_over", good["id"])]
    (carry,) = table_rows(db, "audit_log", action="meter_swap.balance_carry_over")
    assert carry["actor_id"] == world.user("tech1").id

    detail = tech.get(f"{WO}/{oid}").json()
    assert detail["status"] == "on_site"
    event = detail["timeline"][-1]
    assert (event["action"], event["actor"]["display_name"]) == ("record_swap", "Tech1")
    assert (event["data"]["carried_fen"], event["data"]["reported_fen"]) == (5000, 3456)
    assert event["data"]["new_meter_no"] == "NEW-STOCK1"
    assert {p["purpose"]: p["sha256"] for p in detail["photos"]} == {
        "old_face": OLD_FACE, "new_face": NEW_FACE}
    # the customer sees the new meter on their account, and the swap on the job
    account = as_user("customer1").get(f"/api/v1/accounts/{acc1.id}").json()
    assert account["meter_no"] == "NEW-STOCK1"
    assert as_user("customer1").get(url).json()["carried_fen"] == 5000
    registered = tech.get("/api/v1/meters", params={"meter_no": "NEW-STOCK1"}).json()
    assert [(m["status"], m["balance_fen"]) for m in registered] == [("installed", 5000)]
    (disc,) = table_rows(db, "balance_discrepancy")
    assert (disc["swap_id"], disc["ledger_fen"], disc["reported_fen"], disc["difference_fen"],
            disc["status"]) == (good["id"], 5000, 3456, -1544, "open")

    # the identical request again (the answer was lost): a no-op that says so
    before = db_snapshot(db)
    again = tech.post(url, json=good)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True and again.json()["id"] == good["id"]
    assert db_snapshot(db) == before
    assert meter(db, world, "stock1")["balance_fen"] == 5000
    assert len(table_rows(db, "meter_swap")) == 1
    assert len(table_rows(db, "audit_log", action="meter_swap.balance_carry_over")) == 1
    assert len(table_rows(db, "balance_discrepancy")) == 1

    # another swap on the same job, or the same id with other content, is refused
    refused(tech, swap_body(world, new_meter_no="NEW-STOCK2"), 409, "SWAP_ALREADY_RECORDED")
    refused(tech, {**good, "old_remaining_fen": 9999}, 409, "IDEMPOTENCY_CONFLICT")
    refused(tech, {**good, "new_meter_no": "NEW-STOCK2"}, 409, "IDEMPOTENCY_CONFLICT")

    # now the job can be resolved
    r = tech.post(f"{WO}/{oid}/resolve", json={"resolution": "meter swapped, card issued"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    # and the swap cannot be recorded on a resolved job
    refused(tech, swap_body(world, new_meter_no="NEW-STOCK2"), 409, "SWAP_ALREADY_RECORDED")


def test_a_second_swap_job_made_stale_by_the_first_is_refused(as_user, world, db):
    """Two swap jobs raised on one account: once the first swapped m1, the second job
    may not "remove" m1 again, install a second meter and carry the balance twice."""
    first, second = swap_job_on_site(db, world), swap_job_on_site(db, world)
    tech = as_user("tech1")
    r = tech.post(f"{WO}/{first}/meter-swap", json=swap_body(world))
    assert r.status_code == 201, r.text
    before = db_snapshot(db)
    r = tech.post(f"{WO}/{second}/meter-swap",
                  json=swap_body(world, new_meter_no="NEW-STOCK2", old_final_kwh="1300.00"))
    assert (r.status_code, r.json()["code"]) == (422, "SWAP_OLD_METER_MISMATCH"), r.text
    assert db_snapshot(db) == before
    installed = [m for m in table_rows(db, "meter", account_id=world.accounts["acc1"].id)
                 if m["status"] == "installed"]
    assert [m["meter_no"] for m in installed] == ["NEW-STOCK1"]


def test_swap_on_a_rural_account_with_another_technician(as_user, world, db):
    """The register check is per meter: stock of the job's station, installed on acc2."""
    oid = svc_report(db, world, "dispatcher1", kind="meter_swap",
                     account_id=world.accounts["acc2"].id, description="meter stuck")
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("tech1").id)
    svc_act(db, world, "tech1", oid, "accept")
    svc_act(db, world, "tech1", oid, "start_travel")
    svc_act(db, world, "tech1", oid, "arrive")
    body = swap_body(world, old_meter_no="MTR-M2-0001", new_meter_no="NEW-STOCK2",
                     old_remaining_fen=-1500, old_final_kwh="1000.00", new_start_kwh="0.00")
    r = as_user("tech1").post(f"{WO}/{oid}/meter-swap", json=body)
    assert r.status_code == 201, r.text
    new = meter(db, world, "stock2")
    # the ledger's balance is carried; the overdraft read off the meter is a discrepancy
    assert (new["status"], new["account_id"], new["balance_fen"]) == (
        "installed", world.accounts["acc2"].id, 5000)
    (disc,) = table_rows(db, "balance_discrepancy")
    assert (disc["reported_fen"], disc["difference_fen"]) == (-1500, -6500)
    assert meter(db, world, "m2")["status"] == "removed"


def _concurrently(n: int, send: Any) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        results[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.parametrize("same_id", [True, False], ids=["same-swap-id", "different-swap-ids"])
def test_concurrent_swaps_carry_the_balance_exactly_once(as_user, world, db, same_id):
    oid = swap_job_on_site(db, world)
    tech = as_user("tech1")
    body = swap_body(world)
    results = _concurrently(6, lambda i: tech.post(
        f"{WO}/{oid}/meter-swap", json=body if same_id else {**body, "id": new_id()}))
    statuses = sorted(r.status_code for r in results)
    if same_id:
        assert statuses == [200] * 5 + [201], [r.text for r in results]
        assert all(r.json()["duplicate"] for r in results if r.status_code == 200)
    else:
        assert statuses == [201] + [409] * 5, [r.text for r in results]
        assert {r.json()["code"] for r in results if r.status_code == 409} == {
            "SWAP_ALREADY_RECORDED"}
    assert len(table_rows(db, "meter_swap")) == 1
    assert meter(db, world, "stock1")["balance_fen"] == 5000
    assert meter(db, world, "m1")["balance_fen"] == 0
    assert len(table_rows(db, "balance_discrepancy")) == 1
    assert len(table_rows(db, "audit_log", action="meter_swap.balance_carry_over")) == 1
    assert len(table_rows(db, "meter_reading")) == 2
    events = [e for e in table_rows(db, "work_order_event", work_order_id=oid)
              if e["action"] == "record_swap"]
    assert len(events) == 1
