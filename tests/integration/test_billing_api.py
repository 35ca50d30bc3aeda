"""The billing API: balances and ledgers (own accounts only), usage by day and month,
corrections and refunds with reasons and purchase-count corrections (recorded for another
person's approval) and their list, tariffs and policy, reading import (JSON, CSV, the
command) with broken rows, ledger check, inbox; sync pulls of money rows; errors zh/en
and nothing half-applied."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from server.cli import app as cli
from shared.ids import new_id
from shared.timeutil import utcnow
from tests.conftest import db_snapshot, table_rows
from tests.integration.approval_kit import approve
from tests.integration.billing_kit import (
    assert_ledger_ok,
    balance,
    cash_op,
    charge,
    entries,
    import_readings,
    local,
    month_start,
    open_all,
    push,
    reading,
    tier_cost_fen,
)

B = "/api/v1/billing"
M1 = "MTR-M1-0001"


@pytest.fixture(autouse=True)
def _opened(db, world):
    open_all(db)


def test_balance_ledger_and_usage_are_the_customers_own(as_user, world, db):
    acc = world.accounts["acc1"]
    first = month_start(1)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, first, "1150.00"),
                         reading(M1, first + timedelta(days=1), "1210.00", "estimated")])
    charge(db, first, first + timedelta(days=1))
    me = as_user("customer1")
    bal = me.get(f"{B}/accounts/{acc.id}/balance").json()
    assert bal["balance_fen"] == bal["ledger_sum_fen"] == balance(db, acc.id)
    assert (bal["meter_no"], bal["purchase_count"], bal["supply_state"]) == (M1, 7, "on")
    page = me.get(f"{B}/accounts/{acc.id}/ledger").json()
    assert page["total"] == 3 and [e["kind"] for e in page["items"]] == [
        "usage_charge", "usage_charge", "opening_balance"]
    months = me.get(f"{B}/accounts/{acc.id}/usage", params={"months": 3}).json()
    (month,) = [m for m in months if m["month"] == f"{first:%Y-%m}"]
    assert month["usage_kwh"] == "210.00" and month["top_tier"] == 2
    assert month["cost_fen"] == month["charged_fen"] == tier_cost_fen(Decimal(210), first.month)
    day2 = month["days"][1]
    assert (day2["usage_kwh"], day2["tier"], day2["estimated"]) == ("60.00", 2, True)
    for url in (f"{B}/accounts/{acc.id}/balance", f"{B}/accounts/{acc.id}/ledger",
                f"{B}/accounts/{acc.id}/usage"):
        r = as_user("customer2").get(url)
        assert (r.status_code, r.json()["code"]) == (404, "ACCOUNT_NOT_FOUND"), url
        assert as_user(None).get(url).status_code == 401
    assert as_user("agent1").get(f"{B}/accounts/{acc.id}/ledger").status_code == 200
    assert as_user("agent2").get(f"{B}/accounts/{acc.id}/ledger").status_code == 404


def test_corrections_and_refunds_with_reasons(as_user, world, db):
    """Each is recorded for a second person's approval (four eyes) and posted when
    approved; bad input is refused with the same codes as ever, and nothing is stored."""
    acc = world.accounts["acc1"]
    body = {"id": new_id(), "amount_fen": -1234, "reason": "meter misread in October"}
    r = as_user("agent1").post(f"{B}/accounts/{acc.id}/corrections", json=body)
    assert r.status_code == 202, r.text
    req = r.json()
    assert (req["kind"], req["status"], req["amount_fen"], req["requested_by"],
            req["reason"], req["id"]) == (
        "adjustment", "pending", -1234, world.user("agent1").id, "meter misread in October",
        body["id"])
    assert as_user("agent1").post(f"{B}/accounts/{acc.id}/corrections",
                                  json=body).status_code == 200  # the same again: no-op
    assert balance(db, acc.id) == 5000  # nothing moved yet
    approve(as_user, req["id"], "manager1")
    assert balance(db, acc.id) == 5000 - 1234
    before = db_snapshot(db)
    for who, url, payload, status, code in [
        ("customer1", "corrections", body, 403, "FORBIDDEN"),
        ("crew1", "corrections", body, 403, "FORBIDDEN"),
        ("agent2", "corrections", {**body, "id": new_id()}, 404, "ACCOUNT_NOT_FOUND"),
        ("agent1", "corrections", {**body, "id": new_id(), "reason": " "}, 422,
         "VALIDATION_ERROR"),
        ("agent1", "corrections", {**body, "id": new_id(), "amount_fen": 0}, 422,
         "BILLING_CORRECTION_INVALID"),
        ("agent1", "corrections", {**body, "id": new_id(), "amount_fen": 10**8}, 422,
         "BILLING_CORRECTION_INVALID"),
        ("agent1", "corrections", {**body, "amount_fen": -999}, 409, "IDEMPOTENCY_CONFLICT"),
        ("agent1", "refunds", {"id": new_id(), "amount_fen": 100, "reason": "closing"}, 403,
         "FORBIDDEN"),
        ("manager1", "refunds", {"id": new_id(), "amount_fen": 999_999, "reason": "closing"},
         422, "BILLING_REFUND_EXCEEDS_BALANCE"),
        ("manager1", "refunds", {"id": new_id(), "amount_fen": -5, "reason": "closing"},
         422, "BILLING_CORRECTION_INVALID"),
    ]:
        r = as_user(who).post(f"{B}/accounts/{acc.id}/{url}", json=payload)
        assert (r.status_code, r.json()["code"]) == (status, code), (who, payload, r.text)
    assert db_snapshot(db) == before
    r = as_user("manager1", "zh").post(f"{B}/accounts/{acc.id}/refunds", json={
        "id": new_id(), "amount_fen": 999_999, "reason": "closing"})
    assert "退款金额" in r.json()["message"]
    r = as_user("manager1").post(f"{B}/accounts/{acc.id}/refunds", json={
        "id": new_id(), "amount_fen": 3766, "reason": "account closed, cash paid back"})
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    assert approve(as_user, r.json()["id"], "admin")["status"] == "approved"
    assert balance(db, acc.id) == 0
    audit = [a for a in table_rows(db, "audit_log") if a["action"].startswith("ledger.")]
    assert [a["action"] for a in audit] == ["ledger.correction", "ledger.refund"]
    assert all(a["reason"] for a in audit)
    assert_ledger_ok(db)


def test_purchase_count_corrections_are_recorded_and_listed(as_user, world, db):
    m1 = world.meters["m1"]
    url = f"{B}/meters/{m1.id}/purchase-count"
    r = as_user("agent1").post(url, json={"new_count": 9, "expected_count": 7,
                                          "reason": "two card purchases not synced"})
    assert r.status_code == 202, r.text
    req = r.json()
    assert (req["old_count"], req["new_count"], req["requested_by"], req["meter_no"],
            req["status"]) == (7, 9, world.user("agent1").id, M1, "pending")
    assert table_rows(db, "meter", id=m1.id)[0]["purchase_count"] == 7  # not yet
    before = db_snapshot(db)
    for who, payload, status, code in [
        ("agent1", {"new_count": 10, "expected_count": 6, "reason": "x"}, 409,
         "PURCHASE_COUNT_STALE"),
        ("agent1", {"new_count": 7, "reason": "again"}, 422, "PURCHASE_COUNT_UNCHANGED"),
        ("agent1", {"new_count": -1, "reason": "x"}, 422, "PURCHASE_COUNT_INVALID"),
        ("agent1", {"new_count": 10, "reason": ""}, 422, "VALIDATION_ERROR"),
        ("agent1", {"new_count": 10.0, "reason": "x"}, 422, "VALIDATION_ERROR"),
        ("agent1", {"new_count": 10, "reason": "x"}, 409, "APPROVAL_DUPLICATE"),
        ("dispatcher1", {"new_count": 10, "reason": "x"}, 403, "FORBIDDEN"),
        ("admin", {"new_count": 10, "reason": "x"}, 403, "FORBIDDEN"),
        ("tech1", {"new_count": 10, "reason": "x"}, 403, "FORBIDDEN"),
        ("customer1", {"new_count": 10, "reason": "x"}, 403, "FORBIDDEN"),
        ("agent2", {"new_count": 10, "reason": "x"}, 404, "METER_NOT_FOUND"),
    ]:
        r = as_user(who).post(url, json=payload)
        assert (r.status_code, r.json()["code"]) == (status, code), (who, payload, r.text)
    assert db_snapshot(db) == before
    approve(as_user, req["id"], "manager1")
    assert table_rows(db, "meter", id=m1.id)[0]["purchase_count"] == 9
    r = as_user("manager1").post(url, json={"new_count": 8, "reason": "recount on site"})
    approve(as_user, r.json()["id"], "admin")
    listed = as_user("manager1").get(f"{B}/purchase-count-corrections").json()
    assert listed["total"] == 2
    assert [(i["old_count"], i["new_count"], i["actor_id"]) for i in listed["items"]] == [
        (9, 8, world.user("manager1").id), (7, 9, world.user("agent1").id)]
    assert as_user("dispatcher2").get(f"{B}/purchase-count-corrections").status_code == 403
    assert as_user("admin").get(f"{B}/purchase-count-corrections").json()["total"] == 2
    assert as_user("agent1").get(f"{B}/purchase-count-corrections").status_code == 403
    audit = table_rows(db, "audit_log", action="meter.purchase_count_correct")
    assert len(audit) == 2 and audit[0]["reason"] == "two card purchases not synced"


def test_tariffs_and_policy_are_data(as_user, world, db):
    listed = as_user("customer1").get(f"{B}/tariffs").json()
    assert {t["code"] for t in listed} == {"HN-RES-TIERED", "HN-NONRES-FLAT"}
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    new = {"code": "HN-RES-2027", "name": "2027", "customer_type": "residential",
           "effective_from": tomorrow,
           "data": {"prices": ["0.6", "0.65", "0.9"],
                    "seasons": [{"months": list(range(1, 13)), "bounds_kwh": [200, 400]}]}}
    assert as_user("manager1").post(f"{B}/tariffs", json=new).status_code == 403
    r = as_user("admin").post(f"{B}/tariffs", json=new)
    assert r.status_code == 201, r.text
    r = as_user("admin").post(f"{B}/tariffs", json=new)
    assert (r.status_code, r.json()["code"]) == (409, "TARIFF_VERSION_EXISTS")
    past = {**new, "effective_from": "2020-06-01"}
    r = as_user("admin").post(f"{B}/tariffs", json=past)
    assert (r.status_code, r.json()["code"]) == (422, "TARIFF_EFFECTIVE_IN_PAST")
    bad = {**new, "effective_from": "2099-01-01",
           "data": {"prices": ["0.6", "0.65"], "seasons": []}}
    r = as_user("admin").post(f"{B}/tariffs", json=bad)
    assert (r.status_code, r.json()["code"]) == (422, "TARIFF_INVALID")
    policy = as_user("manager1").get(f"{B}/policy").json()
    assert policy["low_balance_fen"] == 2000
    r = put(as_user("admin"), f"{B}/policy", json={"low_balance_fen": 5000,
                                                    "overdraft_limit_fen": 1000})
    assert r.status_code == 200 and r.json()["overdraft_limit_fen"] == 1000
    r = put(as_user("admin"), f"{B}/policy", json={"low_days": -3})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert put(as_user("manager1"), f"{B}/policy", json={"low_days": 2}).status_code == 403


def put(api, url, **kw):
    return api.client.put(url, headers=api.headers, **kw)


def _csv(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def test_reading_import_reports_broken_rows_and_imports_the_rest(as_user, world, db):
    first = month_start(1)
    d0, d1 = first.isoformat(), (first + timedelta(days=1)).isoformat()
    future = (utcnow() + timedelta(days=3)).isoformat()
    body = _csv([
        "meter_no,read_at,value_kwh,source,extra_ignored",
        f"{M1},{d0}T00:10:00,1000.00,actual,x",  # 2: ok (local time, no offset)
        f"{M1},{d1}T00:10:00+08:00,1012.50,,x",  # 3: ok (source defaults to actual)
        f"NO-SUCH-METER,{d1}T00:10:00,5.00,actual,x",  # 4: unknown meter
        f"MTR-M2-0001,{d1}T00:10:00,-1,actual,x",  # 5: negative
        "MTR-M2-0001,yesterday,5,actual,x",  # 6: bad time
        f"MTR-M2-0001,{d1}T00:10:00,12.345,actual,x",  # 7: three decimals
        f"MTR-M2-0001,{d1}T00:10:00,abc,actual,x",  # 8: not a number
        f"MTR-M2-0001,{d1}T00:10:00,5,guess,x",  # 9: bad source
        f"MTR-M2-0001,{future},1001,actual,x",  # 10: in the future
        f"{M1},{d1}T00:10:00,1013.00,actual,x",  # 11: same day, other value
        f"NEW-STOCK1,{d1}T00:10:00,1.00,actual,x",  # 12: in stock, not installed
        f"{M1},{(first + timedelta(days=2)).isoformat()}T00:10:00,999.00,actual,x",  # 13
        f"{M1},{(first + timedelta(days=3)).isoformat()}T00:10:00,9999.00,actual,x",  # 14
        f"MTR-M2-0001,{d1}T00:10:00,5,actual",  # 15: short row (extra column missing): ok
        f"MTR-M2-0001,{d1}T00:10:00,5,actual,x,y",  # 16: too many values
    ])
    r = as_user("admin").post(f"{B}/readings/import-csv", content=body,
                              headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["summary"] == {"imported": 3, "corrected": 0, "duplicate": 0, "rejected": 12}
    codes = {row["line"]: row["code"] for row in out["rejected"]}
    assert codes == {4: "METER_NOT_FOUND", 5: "READING_NEGATIVE", 6: "READING_FIELD_INVALID",
                     7: "READING_FIELD_INVALID", 8: "READING_FIELD_INVALID",
                     9: "READING_SOURCE_INVALID", 10: "READING_IN_FUTURE",
                     11: "READING_DUPLICATE_IN_FILE", 12: "READING_METER_NOT_INSTALLED",
                     13: "READING_BELOW_LAST", 14: "READING_IMPLAUSIBLE_JUMP",
                     16: "READING_FIELD_INVALID"}
    assert all(row["message"] for row in out["rejected"])
    assert len(table_rows(db, "meter_reading")) == 3
    # a file that is not a reading export at all: nothing imported
    before = db_snapshot(db)
    r = as_user("admin").post(f"{B}/readings/import-csv", content=b"name,age\nx,1\n",
                              headers={"Content-Type": "text/csv"})
    assert (r.status_code, r.json()["code"]) == (422, "READING_CSV_INVALID")
    r = as_user("admin").post(f"{B}/readings/import-csv", content=b"\xff\xfe\x00",
                              headers={"Content-Type": "text/csv"})
    assert (r.status_code, r.json()["code"]) == (422, "READING_CSV_INVALID")
    r = as_user("agent1").post(f"{B}/readings/import-csv", content=body)
    assert r.status_code == 403
    assert db_snapshot(db) == before
    # the JSON form, messages in Chinese
    r = as_user("manager1", "zh").post(f"{B}/readings/import", json={"rows": [
        {"meter_no": "NO-SUCH", "read_at": f"{d1}T00:10:00", "value_kwh": "1"}]})
    assert r.json()["rejected"][0]["message"] == "找不到电表 NO-SUCH。"


def test_import_command(tmp_path, settings, world, db, monkeypatch):
    for var in ("GRIDONE_DATABASE_URL", "GRIDONE_DATA_DIR", "GRIDONE_ENV"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GRIDONE_DATABASE_URL", settings.resolved_database_url)
    first = month_start(1)
    good = tmp_path / "readings.csv"
    good.write_bytes(_csv(["meter_no,read_at,value_kwh,source",
                           f"{M1},{local(first).isoformat()},1000.00,actual",
                           f"{M1},{local(first + timedelta(days=1)).isoformat()},1020.00,"
                           "actual",
                           f"{M1},{local(first + timedelta(days=2)).isoformat()},1010.00,"
                           "actual"]))
    result = CliRunner().invoke(cli, ["import-readings", str(good), "--lang", "en",
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "imported: 2" in result.output and "rejected: 1" in result.output
    assert "line 4" in result.output and "READING_BELOW_LAST" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("hello\n")
    result = CliRunner().invoke(cli, ["import-readings", str(bad), "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    result = CliRunner().invoke(cli, ["charge-daily", "--day",
                                      (first + timedelta(days=1)).isoformat(),
                                      "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert len(entries(db, world.accounts["acc1"].id, "usage_charge")) == 1
    result = CliRunner().invoke(cli, ["check-ledger", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0 and "ledger OK" in result.output


def test_ledger_check_finds_a_balance_changed_outside_the_ledger(as_user, world, db):
    from sqlmodel import Session

    from server.customers.models import Account

    assert as_user("admin").get(f"{B}/ledger-check").json()["ok"] is True
    with Session(db.writer) as s:
        account = s.get(Account, world.accounts["acc2"].id)
        account.balance_fen += 100  # someone edits the balance directly
        s.add(account)
        s.commit()
    out = as_user("manager1").get(f"{B}/ledger-check").json()
    assert out["ok"] is False
    assert [(m["account_no"], m["balance_fen"], m["ledger_sum_fen"]) for m in
            out["mismatches"]] == [(world.accounts["acc2"].account_no, 5100, 5000)]
    assert as_user("dispatcher1").get(f"{B}/ledger-check").status_code == 403
    # and the ledger cannot be edited to match
    from sqlalchemy import text

    with pytest.raises(Exception, match="append-only"), db.writer.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET amount_fen = 5100"))
    # the next posting trusts the ledger and records the difference
    push(as_user("agent1"), [cash_op(world.accounts["acc2"].id, 1000, "RC-CHK-000001")])
    assert balance(db, world.accounts["acc2"].id) == 6000
    assert table_rows(db, "audit_log", action="ledger.balance_mismatch")


def test_inbox_and_sync_of_money_rows(as_user, world, db):
    acc = world.accounts["acc1"]
    agent, me = as_user("agent1"), as_user("customer1")
    push(agent, [cash_op(acc.id, 2000, "RC-SYNC-000001")])
    inbox = me.get("/api/v1/notifications", params={"lang": "en"}).json()
    assert [n["kind"] for n in inbox] == ["recharge_credited"]
    assert "20.00 yuan credited" in inbox[0]["body"]
    assert as_user("customer2").get("/api/v1/notifications").json() == []
    r = as_user("customer2").post(f"/api/v1/notifications/{inbox[0]['id']}/read")
    assert (r.status_code, r.json()["code"]) == (404, "NOTIFICATION_NOT_FOUND")
    assert me.post(f"/api/v1/notifications/{inbox[0]['id']}/read").json()["read_at"]

    def pull_all(api):
        rows, cursor = {}, None
        while True:
            params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            body = api.get("/api/v1/sync/pull", params=params).json()
            for ch in body["changes"]:
                if ch["deleted"]:
                    rows.pop((ch["entity"], ch["id"]), None)
                else:
                    rows[(ch["entity"], ch["id"])] = ch["row"]
            cursor = body["next_cursor"]
            if not body["has_more"]:
                return rows, cursor

    mine, cursor = pull_all(me)
    ledger = [r for (e, _), r in mine.items() if e == "ledger_entry"]
    assert sorted(r["kind"] for r in ledger) == ["opening_balance", "recharge_cash"]
    assert all("dedupe_key" not in r for r in ledger)
    assert [r["kind"] for (e, _), r in mine.items() if e == "notification"] == [
        "recharge_credited"]
    theirs, _ = pull_all(as_user("customer2"))
    assert {r["account_id"] for (e, _), r in theirs.items() if e == "ledger_entry"} == {
        world.accounts["acc2"].id}
    # the agent's phone holds the entries the agent recorded, not the customer's others
    field, agent_cursor = pull_all(agent)
    assert [r["kind"] for (e, _), r in field.items() if e == "ledger_entry"] == [
        "recharge_cash"]
    # an online order shows up on the customer's phone, and later changes arrive
    r = me.post("/api/v1/payments/orders", json={"account_id": acc.id, "amount_fen": 1000,
                                                 "idempotency_key": "sync-order-1"})
    rows, cursor = pull_all_from(me, cursor)
    assert any(e == "payment_order" and row["status"] == "pending"
               for (e, _), row in rows.items())
    push(agent, [cash_op(acc.id, 1500, "RC-SYNC-000002", seq=2)])
    rows, _ = pull_all_from(agent, agent_cursor)
    assert sum(1 for (e, _) in rows if e == "ledger_entry") == 1


def pull_all_from(api, cursor):
    rows = {}
    while True:
        body = api.get("/api/v1/sync/pull", params={"limit": 50, "cursor": cursor}).json()
        for ch in body["changes"]:
            if not ch["deleted"]:
                rows[(ch["entity"], ch["id"])] = ch["row"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return rows, cursor


def test_charge_run_endpoint(as_user, world, db):
    first = month_start(1)
    import_readings(db, [reading(M1, first - timedelta(days=1), "1000.00"),
                         reading(M1, first, "1010.00")])
    r = as_user("admin").post(f"{B}/charge-runs", json={"day": first.isoformat()})
    assert r.status_code == 200 and r.json()["charged"] == 1 and r.json()["total_fen"] == 588
    r = as_user("admin").post(f"{B}/charge-runs", json={"day": first.isoformat()})
    assert r.json()["charged"] == 0
    r = as_user("admin").post(f"{B}/charge-runs", json={"day": "2999-01-01"})
    assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR")
    assert as_user("manager1").post(f"{B}/charge-runs", json={"day": "2026-01-01"}
                                    ).status_code == 403
