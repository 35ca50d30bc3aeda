"""Applications that change an existing account (real SQLite file, real app; the closing
also on PostgreSQL): a capacity change sets the contracted capacity, a contact change or
name transfer the holder's details, and a closing refunds the balance through the ledger,
removes the meter, stops the daily charges and refuses recharges. Each change happens in
the transaction of the step that completes the application, is audited, and shows in the
desk's account view and in the rows the customer's phone pulls; a refusal at that step
(arrears, an account closed meanwhile) leaves everything as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from server.cli import app as cli
from server.customers.service import mask_document
from shared.applications.kinds import spec_of
from shared.ids import new_id
from tests.conftest import db_snapshot, table_rows
from tests.integration.approval_kit import approved_correction
from tests.integration.apps_kit import (
    body,
    jpeg,
    op,
    pull_all,
    push,
    sha,
    upload,
)
from tests.integration.billing_kit import (
    assert_ledger_ok,
    cash_op,
    charge,
    entries,
    import_readings,
    month_start,
    open_all,
    reading,
)

ApiOf = Callable[..., Any]
CREW_DEVICE = "device-crew1-0001"
AGENT_DEVICE = "device-agent1-0001"
M1, M2 = "MTR-M1-0001", "MTR-M2-0001"
#: What a rejected push may leave behind: the sync layer's own records and its budget.
SYNC_BOOKKEEPING = ("applied_op", "device", "audit_log", "counter", "rate_limit")
NEW_HOLDER_ID = "430102198506153026"  # a valid check digit


# -- driving an application -----------------------------------------------------------------
def apply_for(api_of: ApiOf, world: Any, kind: str, *, account: str = "acc1", seed: int = 40,
              **over: Any) -> str:
    """The account's owner applies online with the kind's document photos, uploaded."""
    cust = api_of("customer1" if account == "acc1" else "customer2")
    photos = {doc.value: jpeg(seed + i) for i, doc in enumerate(spec_of(kind).documents)}
    over.setdefault("capacity_kw", None)
    data = body(world, kind=kind, station_id=None, account_id=world.accounts[account].id,
                docs={doc: sha(p) for doc, p in photos.items()}, **over)
    r = cust.post("/api/v1/applications", json=data)
    assert r.status_code == 201, r.text
    for p in photos.values():
        upload(cust, p)
    return str(data["id"])


def get_app(api_of: ApiOf, app_id: str) -> dict[str, Any]:
    r = api_of("agent1").get(f"/api/v1/applications/{app_id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def start_job(api_of: ApiOf, app: dict[str, Any]) -> tuple[Any, str]:
    """The current step's field job, accepted and on site; returns (worker's api, job id)."""
    survey = app["step"] == "site_survey"
    order_id = app["survey_order_id"] if survey else app["install_order_id"]
    worker = api_of("crew1" if survey else "tech1")
    for action, payload in (("accept", {}), ("arrive", {"gps": None})):
        r = worker.post(f"/api/v1/work-orders/{order_id}/{action}", json=payload)
        assert r.status_code == 200, (action, r.text)
    return worker, order_id


def take_step(api_of: ApiOf, world: Any, app_id: str) -> Any:
    """Take the application's current step: the desk's decision, or its field job (done
    and resolved). Returns the last response."""
    app = get_app(api_of, app_id)
    if app["step"] == "acceptance":
        return api_of("agent1").post(f"/api/v1/applications/{app_id}/accept",
                                     json={"assignee_id": world.user("crew1").id})
    if app["step"] == "scheme":
        return api_of("manager1").post(f"/api/v1/applications/{app_id}/approve",
                                       json={"assignee_id": world.user("tech1").id})
    worker, order_id = start_job(api_of, app)
    return worker.post(f"/api/v1/work-orders/{order_id}/resolve",
                       json={"resolution": "Checked on site"})


def to_last_step(api_of: ApiOf, world: Any, app_id: str) -> dict[str, Any]:
    """Take every step but the one that completes the application."""
    while True:
        app = get_app(api_of, app_id)
        if app["step"] == spec_of(app["kind"]).steps[-2].step:  # the one before the archive
            return app
        r = take_step(api_of, world, app_id)
        assert r.status_code == 200, r.text


def complete(api_of: ApiOf, world: Any, app_id: str) -> dict[str, Any]:
    to_last_step(api_of, world, app_id)
    r = take_step(api_of, world, app_id)
    assert r.status_code == 200, r.text
    app = get_app(api_of, app_id)
    assert app["status"] == "completed" and app["step"] == "archive", app
    return app


# -- looking -----------------------------------------------------------------------------------
def account(db: Any, world: Any, key: str = "acc1") -> dict[str, Any]:
    return table_rows(db, "account", id=world.accounts[key].id)[0]


def audits(db: Any, action: str) -> list[dict[str, Any]]:
    rows = table_rows(db, "audit_log", action=action)
    for r in rows:
        for k in ("before", "after"):
            if isinstance(r[k], str):
                r[k] = json.loads(r[k])
    return rows


def desk_view(api_of: ApiOf, world: Any, key: str = "acc1") -> dict[str, Any]:
    r = api_of("agent1").get(f"/api/v1/customers/{world.accounts[key].id}")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def set_capacity(db: Any, world: Any, kw: int, key: str = "acc1") -> None:
    """Set-up: the account's capacity on record (the test world's accounts have none)."""
    from sqlalchemy import text

    with db.writer.begin() as conn:
        conn.execute(text("UPDATE account SET capacity_kw = :kw WHERE id = :id"),
                     {"kw": kw, "id": world.accounts[key].id})


def check_ledger_cli(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    for var in ("GRIDONE_DATABASE_URL", "GRIDONE_DATA_DIR", "GRIDONE_ENV"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(cli, ["check-ledger", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


# -- capacity ----------------------------------------------------------------------------------
def test_a_capacity_increase_sets_the_contracted_capacity_when_it_completes(as_user, world,
                                                                            db):
    set_capacity(db, world, 8)
    # asking for no more than the account has is refused at once
    r = as_user("customer1", "zh").post("/api/v1/applications", json=body(
        world, kind="capacity_increase", station_id=None, capacity_kw=8,
        account_id=world.accounts["acc1"].id, docs={"id_card": sha(jpeg(40))}))
    assert r.status_code == 422 and r.json()["code"] == "APP_FIELD_INVALID"
    assert r.json()["details"]["field"] == "capacity_kw" and "8 kW" in r.json()["message"]
    app_id = apply_for(as_user, world, "capacity_increase", capacity_kw=12)
    last = to_last_step(as_user, world, app_id)
    assert last["step"] == "installation"
    before = account(db, world)
    assert before["capacity_kw"] == 8  # nothing changes before the last step
    app = complete(as_user, world, app_id)
    after = account(db, world)
    assert after["capacity_kw"] == 12 and after["status"] == "active"
    assert after["version"] == before["version"] + 1
    assert after["balance_fen"] == before["balance_fen"] == 5000
    assert entries(db, after["id"]) == []  # no money moved
    (entry,) = audits(db, "account.capacity_increase")
    assert entry["entity_id"] == after["id"] and entry["actor_id"] == world.user("tech1").id
    assert entry["before"] == {"capacity_kw": 8}
    assert entry["after"] == {"capacity_kw": 12, "application_id": app_id,
                              "application_code": app["code"]}
    # the desk's account view and the customer's phone show it
    assert desk_view(as_user, world)["account"]["capacity_kw"] == 12
    rows = pull_all(as_user("customer1"))
    assert rows[("account", after["id"])]["capacity_kw"] == 12
    mine = as_user("customer1").get("/api/v1/accounts").json()["items"]
    assert [(a["capacity_kw"], a["status"]) for a in mine] == [(12, "active")]


def test_a_capacity_decrease_completes_at_approval(as_user, world, db):
    set_capacity(db, world, 12)
    r = as_user("customer1").post("/api/v1/applications", json=body(
        world, kind="capacity_decrease", station_id=None, capacity_kw=16,
        account_id=world.accounts["acc1"].id, docs={"id_card": sha(jpeg(40))}))
    assert r.status_code == 422 and "less than the current 12 kW" in r.json()["message"]
    app_id = apply_for(as_user, world, "capacity_decrease", capacity_kw=6)
    assert to_last_step(as_user, world, app_id)["step"] == "scheme"
    assert account(db, world)["capacity_kw"] == 12
    complete(as_user, world, app_id)
    assert account(db, world)["capacity_kw"] == 6
    (entry,) = audits(db, "account.capacity_decrease")
    assert entry["actor_id"] == world.user("manager1").id
    assert (entry["before"], entry["after"]["capacity_kw"]) == ({"capacity_kw": 12}, 6)


def test_an_account_without_a_capacity_on_record_takes_the_requested_one(as_user, world, db):
    assert account(db, world)["capacity_kw"] is None
    complete(as_user, world, apply_for(as_user, world, "capacity_increase", capacity_kw=10))
    assert account(db, world)["capacity_kw"] == 10
    assert audits(db, "account.capacity_increase")[0]["before"] == {"capacity_kw": None}


# -- account changes ---------------------------------------------------------------------------
def test_a_contact_change_sets_the_phone_audited(as_user, world, db):
    app_id = apply_for(as_user, world, "contact_change", contact_phone="13700002222")
    complete(as_user, world, app_id)
    acc = account(db, world)
    assert acc["phone"] == "13700002222" and acc["name"] == "Customer acc1"
    (entry,) = audits(db, "account.contact_change")
    assert entry["before"] == {"phone": "13900000000"}
    assert entry["after"]["phone"] == "13700002222"
    assert entry["actor_id"] == world.user("agent1").id
    assert desk_view(as_user, world)["account"]["phone"] == "13700002222"


def test_a_name_transfer_changes_the_holder_at_approval(as_user, world, db):
    before = account(db, world)
    app_id = apply_for(as_user, world, "name_transfer", applicant_name="Wang Fang",
                       id_card_no=NEW_HOLDER_ID, contact_phone="13611112222")
    assert to_last_step(as_user, world, app_id)["step"] == "scheme"
    assert account(db, world)["name"] == "Customer acc1"
    phone = as_user("customer1")  # the old holder's phone holds the account
    cursor = None
    while True:
        page = phone.get("/api/v1/sync/pull", params={"limit": 500, **(
            {"cursor": cursor} if cursor else {})}).json()
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    complete(as_user, world, app_id)
    acc = account(db, world)
    later = phone.get("/api/v1/sync/pull", params={"limit": 500, "cursor": cursor}).json()
    seen = [c for c in later["changes"] if (c["entity"], c["id"]) == ("account", acc["id"])]
    assert seen and seen[-1]["deleted"] and seen[-1]["row"] is None, \
        "the old holder's phone keeps the account"
    masked = mask_document(NEW_HOLDER_ID, keep_start=3, keep_end=4)
    assert (acc["name"], acc["phone"], acc["id_card_masked"]) == (
        "Wang Fang", "13611112222", masked)
    assert acc["id_card_digest"] != before["id_card_digest"]
    # the old holder applied: their app login no longer reaches the account
    assert before["owner_user_id"] and acc["owner_user_id"] is None
    (entry,) = audits(db, "account.name_transfer")
    assert entry["before"] == {"name": "Customer acc1", "phone": "13900000000",
                               "id_card_masked": before["id_card_masked"],
                               "owner_user_id": before["owner_user_id"]}
    assert entry["after"]["name"] == "Wang Fang" and entry["after"]["id_card_masked"] == masked
    assert "id_card_digest" not in entry["before"] | entry["after"]
    assert entry["after"]["owner_user_id"] is None
    old_holder = pull_all(as_user("customer1"))
    assert old_holder.get(("account", acc["id"])) is None, "the old holder still sees it"
    r = as_user("customer1").get(f"/api/v1/billing/accounts/{acc['id']}/balance")
    assert r.status_code == 404


# -- closing -----------------------------------------------------------------------------------
def resolve_offline(api_of: ApiOf, world: Any, app_id: str, *, seq: int = 1) -> dict[str, Any]:
    """The crew works the closing's survey on the phone: accept, arrive, resolve as ops."""
    order_id = get_app(api_of, app_id)["survey_order_id"]
    crew, lane = api_of("crew1"), f"work_order:{order_id}"
    ops = [op("work_order.accept@1", order_id, {}, lane=lane, seq=seq, device=CREW_DEVICE)]
    ops.append(op("work_order.arrive@1", order_id, {"gps": None}, lane=lane, seq=seq + 1,
                  device=CREW_DEVICE, lane_prev=ops[-1]["op_id"]))
    ops.append(op("work_order.resolve@1", order_id, {"resolution": "Meter taken out"},
                  lane=lane, seq=seq + 2, device=CREW_DEVICE, lane_prev=ops[-1]["op_id"]))
    results = push(crew, ops[:2], CREW_DEVICE)
    assert [r["status"] for r in results] == ["applied", "applied"], results
    return ops[2]


def test_closing_refunds_removes_the_meter_and_stops_charges_and_recharges(
        as_user, world, db, tmp_path, monkeypatch):
    open_all(db)
    first = month_start(2)
    days = [first + timedelta(days=i) for i in range(3)]
    import_readings(db, [reading(m, first - timedelta(days=1), "1000.00") for m in (M1, M2)]
                    + [reading(m, d, f"{1010 + 10 * i}.00") for m in (M1, M2)
                       for i, d in enumerate(days)])
    charge(db, days[0])
    acc_id = world.accounts["acc1"].id
    charged = -sum(e.amount_fen for e in entries(db, acc_id, "usage_charge"))
    assert charged > 0
    app_id = apply_for(as_user, world, "close_account")
    assert to_last_step(as_user, world, app_id)["step"] == "site_survey"
    resolve = resolve_offline(as_user, world, app_id)
    assert account(db, world)["status"] == "active"
    (res,) = push(as_user("crew1"), [resolve], CREW_DEVICE)
    assert res["status"] == "applied", res
    app = get_app(as_user, app_id)
    assert app["status"] == "completed"
    # the account: closed, nothing left on it; the refund is a ledger entry
    acc = account(db, world)
    assert (acc["status"], acc["balance_fen"]) == ("closed", 0) and acc["closed_at"]
    ledger = entries(db, acc_id)
    assert [(e.kind, e.amount_fen) for e in ledger] == [
        ("opening_balance", 5000), ("usage_charge", -charged), ("refund", charged - 5000)]
    refund = ledger[-1]
    assert refund.balance_after_fen == 0 and refund.actor_id is None
    assert refund.source_id == app_id and refund.meter_id == world.meters["m1"].id
    assert app["code"] in (refund.reason or "")
    meter = table_rows(db, "meter", id=world.meters["m1"].id)[0]
    assert meter["status"] == "removed" and meter["removed_at"] and meter["balance_fen"] == 0
    (closed,) = audits(db, "account.close")
    assert closed["actor_id"] == world.user("crew1").id
    assert closed["before"] == {"status": "active", "balance_fen": 5000 - charged}
    assert closed["after"]["status"] == "closed" and closed["after"]["balance_fen"] == 0
    assert closed["after"]["refund_fen"] == 5000 - charged
    assert closed["after"]["refund_entry_id"] == refund.id
    assert closed["after"]["meter_removed"] == M1
    (paid_back,) = audits(db, "ledger.refund")
    assert paid_back["after"]["amount_fen"] == charged - 5000
    # what the customer's phone and the desk see
    rows = pull_all(as_user("customer1"))
    assert rows[("account", acc_id)]["status"] == "closed"
    assert rows[("account", acc_id)]["balance_fen"] == 0
    assert rows[("ledger_entry", refund.id)]["kind"] == "refund"
    view = desk_view(as_user, world)
    assert view["account"]["status"] == "closed" and view["meter"] is None
    assert view["ledger"][0]["kind"] == "refund"
    # no daily charge any more (the other account still is), and a late correction of a
    # day already charged re-rates nothing on the closed account
    reports = charge(db, days[1], days[2])
    assert [r.charged for r in reports] == [1, 1]
    import_readings(db, [reading(M1, days[0], "1012.00")])
    assert len(entries(db, acc_id)) == 3
    assert len(entries(db, world.accounts["acc2"].id, "usage_charge")) == 3
    assert_ledger_ok(db)
    assert "ledger OK" in check_ledger_cli(tmp_path, monkeypatch)
    # no recharge: cash (online or as the agent's offline op), online payment
    agent = as_user("agent1", "zh")
    r = agent.post("/api/v1/billing/cash-recharges", json={
        "id": new_id(), "account_id": acc_id, "amount_fen": 1000, "receipt_no": "RC-CLOSED-1"})
    assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_CLOSED"
    assert acc["account_no"] in r.json()["message"] and "已销户" in r.json()["message"]
    (res,) = push(as_user("agent1"), [cash_op(acc_id, 1000, "RC-CLOSED-2")], AGENT_DEVICE)
    assert (res["status"], res["code"]) == ("rejected", "ACCOUNT_CLOSED")
    r = as_user("customer1").post("/api/v1/payments/orders", json={
        "account_id": acc_id, "amount_fen": 1000, "idempotency_key": "closed-account-1"})
    assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_CLOSED"
    assert "is closed" in r.json()["message"]
    # nor a new application on it
    r = as_user("customer1").post("/api/v1/applications", json=body(
        world, kind="contact_change", station_id=None, capacity_kw=None, account_id=acc_id,
        docs={"id_card": sha(jpeg(41))}))
    assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_CLOSED"
    assert len(entries(db, acc_id)) == 3


def test_closing_with_nothing_left_posts_no_refund(as_user, world, db):
    open_all(db)
    acc_id = world.accounts["acc1"].id
    approved_correction(as_user, acc_id, -5000, "test: balance used up")  # four eyes
    complete(as_user, world, apply_for(as_user, world, "close_account"))
    assert [e.kind for e in entries(db, acc_id)] == ["opening_balance", "correction"]
    assert account(db, world)["status"] == "closed"
    (closed,) = audits(db, "account.close")
    assert closed["after"]["refund_fen"] == 0 and closed["after"]["refund_entry_id"] is None
    assert audits(db, "ledger.refund") == []


def test_closing_in_arrears_is_refused_and_changes_nothing(as_user, world, db):
    open_all(db)
    acc_id = world.accounts["acc1"].id
    approved_correction(as_user, acc_id, -6000, "test: usage owed")  # four eyes
    app_id = apply_for(as_user, world, "close_account")
    to_last_step(as_user, world, app_id)
    resolve = resolve_offline(as_user, world, app_id)
    before = db_snapshot(db, exclude=SYNC_BOOKKEEPING)
    audit_before = len(table_rows(db, "audit_log"))
    # the crew's offline resolution is refused with the reason, in their language
    (res,) = push(as_user("crew1"), [resolve], CREW_DEVICE)
    assert (res["status"], res["code"]) == ("rejected", "APP_CLOSE_IN_ARREARS")
    assert "10.00" in res["message"]
    # and online, in Chinese
    order_id = get_app(as_user, app_id)["survey_order_id"]
    r = as_user("crew1", "zh").post(f"/api/v1/work-orders/{order_id}/resolve",
                                    json={"resolution": "Meter taken out"})
    assert r.status_code == 409 and r.json()["code"] == "APP_CLOSE_IN_ARREARS"
    assert "欠" in r.json()["message"] and "10.00" in r.json()["message"]
    assert db_snapshot(db, exclude=SYNC_BOOKKEEPING) == before
    assert not [a for a in table_rows(db, "audit_log")[audit_before:]
                if a["action"].startswith(("account.", "ledger.", "application."))]
    acc = account(db, world)
    assert (acc["status"], acc["balance_fen"]) == ("active", -1000)
    job = table_rows(db, "work_order", id=order_id)[0]
    assert job["status"] == "on_site"
    assert get_app(as_user, app_id)["step"] == "site_survey"
    # the debt paid at the counter, the crew's resolution goes through
    r = as_user("agent1").post("/api/v1/billing/cash-recharges", json={
        "id": new_id(), "account_id": acc_id, "amount_fen": 1500, "receipt_no": "RC-DEBT-01"})
    assert r.status_code == 201, r.text
    r = as_user("crew1").post(f"/api/v1/work-orders/{order_id}/resolve",
                              json={"resolution": "Meter taken out"})
    assert r.status_code == 200, r.text
    acc = account(db, world)
    assert (acc["status"], acc["balance_fen"]) == ("closed", 0)
    assert [(e.kind, e.amount_fen) for e in entries(db, acc_id)][-2:] == [
        ("recharge_cash", 1500), ("refund", -500)]
    assert_ledger_ok(db)


def test_a_change_completing_after_the_account_closed_is_refused(as_user, world, db):
    contact = apply_for(as_user, world, "contact_change", seed=50,
                        contact_phone="13700003333")
    complete(as_user, world, apply_for(as_user, world, "close_account", seed=60))
    before = db_snapshot(db)
    r = take_step(as_user, world, contact)  # the clerk accepts: it would complete
    assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_CLOSED"
    assert db_snapshot(db) == before
    assert get_app(as_user, contact)["status"] == "open"
    assert account(db, world)["phone"] == "13900000000"


# -- PostgreSQL ----------------------------------------------------------------------------
@pytest.mark.postgres
def test_closing_on_postgres(tmp_path):
    from tests.integration.test_billing_postgres import Pg

    pg = Pg(tmp_path)
    try:
        acc_id = pg.world.accounts["acc1"].id
        app_id = apply_for(pg.api, pg.world, "close_account")
        app = complete(pg.api, pg.world, app_id)
        assert app["status"] == "completed"
        assert [(e.kind, e.amount_fen) for e in entries(pg.db, acc_id)] == [
            ("opening_balance", 5000), ("refund", -5000)]
        acc = table_rows(pg.db, "account", id=acc_id)[0]
        assert (acc["status"], acc["balance_fen"]) == ("closed", 0)
        assert table_rows(pg.db, "meter", id=pg.world.meters["m1"].id)[0]["status"] == (
            "removed")
        assert_ledger_ok(pg.db)
        r = pg.api("agent1").post("/api/v1/billing/cash-recharges", json={
            "id": new_id(), "account_id": acc_id, "amount_fen": 1000,
            "receipt_no": "RC-PG-CLOSED"})
        assert r.status_code == 409 and r.json()["code"] == "ACCOUNT_CLOSED"
        assert charge(pg.db, month_start(1))[0].errors == []
        assert len(entries(pg.db, acc_id)) == 2
    finally:
        pg.client.close()
        pg.close()
