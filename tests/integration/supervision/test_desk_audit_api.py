"""The desk's customer lookup and account view, the audit viewer (filters, paging,
read-only, CSV) and the station overview."""

from __future__ import annotations

import csv
import io
from typing import Any

from server.db import Database
from tests.conftest import svc_report
from tests.factories import World
from tests.integration.office.board_kit import ok, refused
from tests.integration.supervision.test_reviews_api import resolved_job

C = "/api/v1/customers"
S = "/api/v1/supervision"
ID_ACC1 = "430102199001011234"


def test_find_a_customer_every_way_and_only_in_ones_station(as_user: Any,
                                                             world: World) -> None:
    agent = as_user("agent1")
    acc1 = world.accounts["acc1"]

    def found(q: str, api: Any = agent) -> list[str]:
        return [a["account_no"] for a in ok(api.get(f"{C}/search", params={"q": q}))["items"]]

    assert found(ID_ACC1) == [acc1.account_no]  # by ID card (its keyed digest)
    assert found(f" {ID_ACC1[:6]} {ID_ACC1[6:]} ") == [acc1.account_no]  # spaces ignored
    assert found(acc1.account_no) == [acc1.account_no]
    assert found("MTR-M1-0001") == [acc1.account_no]  # meter number
    assert found("acc1 Road") == [acc1.account_no]  # a part of the address
    assert sorted(found("Customer")) == sorted(a.account_no for k, a in world.accounts.items()
                                               if k in ("acc1", "acc2"))  # station 1 only
    assert found(ID_ACC1[:10]) == []  # a part of an ID number finds nothing
    assert found("430102199303033456") == []  # acc3's ID: another station
    assert found("430102199303033456", as_user("agent2")) == [world.accounts["acc3"].account_no]
    item = ok(agent.get(f"{C}/search", params={"q": ID_ACC1}))["items"][0]
    assert item["id_card_masked"] == "4301**********1234"
    assert ID_ACC1 not in str(item)
    refused(as_user("customer1").get(f"{C}/search", params={"q": "x"}), 403, "FORBIDDEN")
    refused(agent.get(f"{C}/search", params={"q": ""}), 422, "VALIDATION_ERROR")


def test_the_account_view_shows_the_whole_account(as_user: Any, db: Database,
                                                  world: World) -> None:
    acc1 = world.accounts["acc1"]
    svc_report(db, world, "dispatcher1", account_id=acc1.id, description="lights flicker")
    ok(as_user("agent1").post(f"{S}/approvals", json={
        "kind": "purchase_count", "meter_id": world.meters["m1"].id, "new_count": 8,
        "reason": "card re-issued"}), 201)
    view = ok(as_user("agent1").get(f"{C}/{acc1.id}"))
    assert view["account"]["balance_fen"] == 5000
    assert view["account"]["alert_level"] == "ok"
    assert view["meter"]["meter_no"] == "MTR-M1-0001"
    assert view["meter"]["purchase_count"] == 7
    assert [j["description"] for j in view["jobs"]] == ["lights flicker"]
    assert view["jobs"][0]["timeline"][0]["action"] == "report"
    assert [p["new_count"] for p in view["pending_approvals"]] == [8]
    for key in ("ledger", "readings", "commands", "messages", "purchase_count_corrections"):
        assert isinstance(view[key], list)
    refused(as_user("agent2").get(f"{C}/{acc1.id}"), 404, "ACCOUNT_NOT_FOUND")
    refused(as_user("crew1").get(f"{C}/{acc1.id}"), 403, "FORBIDDEN")


def test_the_audit_viewer_filters_pages_and_exports(as_user: Any, db: Database,
                                                    world: World) -> None:
    job = resolved_job(db, world, "fuse")
    far = resolved_job(db, world, "far", crew="crew2", dispatcher="dispatcher2", acc="acc3")
    acc1 = world.accounts["acc1"]
    req = ok(as_user("agent1").post(f"{S}/approvals", json={
        "kind": "adjustment", "account_id": acc1.id, "amount_fen": 300,
        "reason": "overcharged"}), 201)
    ok(as_user("manager1").post(f"{S}/approvals/{req['id']}/approve", json={}))
    m = as_user("manager1")

    def audit(**params: Any) -> dict[str, Any]:
        return ok(m.get(f"{S}/audit", params=params))  # type: ignore[no-any-return]

    everything = audit(limit=200)
    assert everything["total"] == len(everything["items"]) > 0
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    # a station manager does not see station 2's job
    assert far not in {e["entity_id"] for e in everything["items"]}
    assert far in {e["entity_id"] for e in ok(as_user("admin").get(
        f"{S}/audit", params={"limit": 200}))["items"]}
    by_job = audit(job=table_code(db, job))
    assert by_job["total"] > 0 and {e["entity_id"] for e in by_job["items"]} == {job}
    mine = audit(person="agent1")
    assert {e["actor_name"] for e in mine["items"]} == {"Agent1"}
    assert {e["action"] for e in audit(kind="approval")["items"]} == {
        "approval.request", "approval.approve"}
    by_account = {e["action"] for e in audit(account=acc1.account_no, limit=200)["items"]}
    assert {"approval.request", "ledger.correction", "work_order.dispatch"} <= by_account
    page1, page2 = audit(limit=2), audit(limit=2, offset=2)
    assert [e["seq"] for e in page1["items"] + page2["items"]] == seqs[:4]
    assert audit(since="2000-01-01", until="2000-01-02")["total"] == 0
    refused(as_user("dispatcher1").get(f"{S}/audit"), 403, "FORBIDDEN")
    refused(as_user("agent1").get(f"{S}/audit.csv"), 403, "FORBIDDEN")
    # read-only: nothing but GET
    assert m.post(f"{S}/audit", json={}).status_code == 405

    r = m.get(f"{S}/audit.csv", params={"kind": "approval"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["approval.approve", "approval.request"]
    assert rows[1]["actor_name"] == "Agent1" and rows[1]["reason"] == "overcharged"


def table_code(db: Database, order_id: str) -> str:
    from tests.conftest import table_rows

    return str(table_rows(db, "work_order", id=order_id)[0]["code"])


def test_the_station_overview(as_user: Any, db: Database, world: World) -> None:
    resolved_job(db, world, "fuse")
    svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
               description="open")
    resolved_job(db, world, "far", crew="crew2", dispatcher="dispatcher2", acc="acc3")
    o = ok(as_user("manager1").get(f"{S}/overview"))
    assert o["station_id"] == world.stations["s1"].id
    assert o["today_reported"] == {"resolved": 1, "reported": 1}
    assert o["open_by_status"] == {"reported": 1}
    assert (o["resolved_today"], o["to_review"], o["pending_approvals"]) == (1, 1, 0)
    assert {c["display_name"]: c["open_count"] for c in o["crews"]}["Crew1"] == 0
    assert "Crew2" not in {c["display_name"] for c in o["crews"]}
    county = ok(as_user("admin").get(f"{S}/overview"))
    assert county["resolved_today"] == 2
    refused(as_user("dispatcher1").get(f"{S}/overview"), 403, "FORBIDDEN")
