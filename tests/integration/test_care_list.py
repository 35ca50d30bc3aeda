"""The care list over the real API: a change asked by one person and approved by another
(never one's own), audited; listed accounts are not cut, are alerted earlier and get a
care-visit job when the balance runs low and on their review date (the scheduler job)."""

from __future__ import annotations

from datetime import timedelta

from server.care.service import review_due, today
from server.scheduler.jobs import care_review
from server.scheduler.registry import JobContext
from server.uow import UnitOfWork
from shared.billing.alerts import CARE_FACTOR, AlertLevel, Policy, level
from shared.timeutil import utcnow
from tests.conftest import db_snapshot, table_rows

ADD = {"change": "add", "category": "medical_equipment", "reason": "oxygen concentrator"}


def _review(days: int = 30) -> str:
    return (today() + timedelta(days=days)).isoformat()


def _listed(as_user, world, account="acc1", *, review_days: int = 30):
    acc = world.accounts[account]
    r = as_user("agent1").post("/api/v1/care/requests", json={
        **ADD, "account_id": acc.id, "review_on": _review(review_days)})
    assert r.status_code == 201, r.text
    req = r.json()
    r = as_user("manager1").post(f"/api/v1/care/requests/{req['id']}/decision",
                                 json={"approve": True})
    assert r.status_code == 200, r.text
    return acc, req


def test_add_needs_a_second_person_and_is_audited(as_user, world, db):
    acc = world.accounts["acc1"]
    agent = as_user("agent1")
    r = agent.post("/api/v1/care/requests", json={**ADD, "account_id": acc.id,
                                                  "review_on": _review()})
    assert r.status_code == 201 and r.json()["status"] == "pending"
    req = r.json()
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (0, False)
    # nobody approves their own request
    before = db_snapshot(db, exclude=("rate_limit",))
    r = agent.post(f"/api/v1/care/requests/{req['id']}/decision", json={"approve": True})
    assert r.status_code == 403 and r.json()["code"] == "CARE_OWN_REQUEST"
    assert db_snapshot(db, exclude=("rate_limit",)) == before
    # a second request for the same account waits for the first
    r = as_user("dispatcher1").post("/api/v1/care/requests", json={
        **ADD, "account_id": acc.id, "review_on": _review()})
    assert r.status_code == 409 and r.json()["code"] == "CARE_REQUEST_PENDING"
    r = as_user("manager1").post(f"/api/v1/care/requests/{req['id']}/decision",
                                 json={"approve": True})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    row = table_rows(db, "account", id=acc.id)[0]
    assert row["care_flag"] in (1, True) and row["care_reason"] == "oxygen concentrator"
    (entry,) = as_user("dispatcher1").get("/api/v1/care/entries").json()
    assert (entry["added_by"], entry["approved_by"]) == (world.user("agent1").id,
                                                         world.user("manager1").id)
    r = as_user("manager1").post(f"/api/v1/care/requests/{req['id']}/decision",
                                 json={"approve": True})
    assert r.status_code == 409 and r.json()["code"] == "CARE_REQUEST_CLOSED"
    audits = [a["action"] for a in table_rows(db, "audit_log", entity_id=acc.id)]
    assert "care.request_add" in audits and "care.add" in audits


def test_remove_and_refuse(as_user, world, db):
    acc, _ = _listed(as_user, world)
    r = as_user("manager1").post("/api/v1/care/requests", json={
        "account_id": acc.id, "change": "add", "category": "elderly_alone", "reason": "x",
        "review_on": _review()})
    assert r.status_code == 409 and r.json()["code"] == "CARE_ALREADY_LISTED"
    r = as_user("manager1").post("/api/v1/care/requests", json={
        "account_id": acc.id, "change": "remove", "reason": "moved to her daughter's"})
    req = r.json()
    r = as_user("agent1").post(f"/api/v1/care/requests/{req['id']}/decision",
                               json={"approve": False})
    assert r.status_code == 422 and r.json()["code"] == "CARE_FIELD_INVALID"  # says why
    r = as_user("agent1").post(f"/api/v1/care/requests/{req['id']}/decision",
                               json={"approve": False, "note": "she still lives there"})
    assert r.json()["status"] == "refused"
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (1, True)
    r = as_user("manager1").post("/api/v1/care/requests", json={
        "account_id": acc.id, "change": "remove", "reason": "moved away"})
    r = as_user("dispatcher1").post(f"/api/v1/care/requests/{r.json()['id']}/decision",
                                    json={"approve": True})
    assert r.status_code == 200
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (0, False)
    assert as_user("manager1").get("/api/v1/care/entries").json() == []


def test_request_rules_and_who_may(as_user, world):
    acc = world.accounts["acc1"]
    agent = as_user("agent1")
    r = agent.post("/api/v1/care/requests", json={"account_id": acc.id, "change": "add",
                                                  "category": "rich", "reason": " ",
                                                  "review_on": today().isoformat()})
    assert r.status_code == 422
    assert set(r.json()["details"]["fields"]) == {"category", "reason", "review_on"}
    r = agent.post("/api/v1/care/requests", json={"account_id": acc.id, "change": "remove",
                                                  "reason": "x"})
    assert r.status_code == 409 and r.json()["code"] == "CARE_NOT_LISTED"
    for who in ("customer1", "crew1", "tech1"):
        r = as_user(who).post("/api/v1/care/requests", json={
            **ADD, "account_id": acc.id, "review_on": _review()})
        assert r.status_code == 403, who
        assert as_user(who).get("/api/v1/care/entries").status_code == 403
    r = as_user("agent2").post("/api/v1/care/requests", json={
        **ADD, "account_id": acc.id, "review_on": _review()})
    assert r.status_code == 404  # another station's account
    _, req = _listed(as_user, world, "acc2")
    assert as_user("dispatcher2").get("/api/v1/care/entries").json() == []
    r = as_user("dispatcher2").post(f"/api/v1/care/requests/{req['id']}/decision",
                                    json={"approve": True})
    assert r.status_code == 404 and r.json()["code"] == "CARE_NOT_FOUND"


def test_listed_accounts_are_alerted_earlier():
    pol = Policy()
    just_above = pol.low_balance_fen + 1
    assert level(just_above, None, pol) == AlertLevel.OK
    assert level(just_above, None, pol, care=True) == AlertLevel.LOW
    assert level(pol.low_balance_fen * CARE_FACTOR, None, pol, care=True) == AlertLevel.OK
    from decimal import Decimal
    assert level(10**6, Decimal(pol.low_days), pol) == AlertLevel.OK
    assert level(10**6, Decimal(pol.low_days), pol, care=True) == AlertLevel.LOW


def test_low_balance_of_a_listed_account_raises_one_care_visit(as_user, world, db):
    from server.billing import balance
    from server.billing.ledger import lock_account

    acc, _ = _listed(as_user, world, "acc2")
    with UnitOfWork(db) as uow:
        account = lock_account(uow.session, acc.id)
        account.balance_fen = 3000  # 30 yuan: ok for others, low for the care list
        reaction = balance.balance_changed(uow, account=account, at=utcnow())
        balance.balance_changed(uow, account=account, at=utcnow())
        uow.commit()
    assert reaction.level == AlertLevel.LOW and reaction.notified == AlertLevel.LOW
    jobs = [j for j in table_rows(db, "work_order", account_id=acc.id)
            if j["kind"] == "care_visit"]
    assert len(jobs) == 1 and jobs[0]["priority"] == "high"


def test_review_date_raises_a_care_visit_once(as_user, world, db, settings):
    acc, _ = _listed(as_user, world, "acc1", review_days=3)
    with UnitOfWork(db) as uow:
        assert review_due(uow, on=today()) == 0  # not yet
        uow.commit()
    later = utcnow() + timedelta(days=4)
    ctx = JobContext(db=db, settings=settings, now=later)
    assert care_review(ctx) == "1 care-list review visit(s) raised"
    assert care_review(ctx) == "0 care-list review visit(s) raised"
    jobs = [j for j in table_rows(db, "work_order", account_id=acc.id)
            if j["kind"] == "care_visit"]
    assert len(jobs) == 1 and "review due" in jobs[0]["description"]
    (entry,) = table_rows(db, "care_entry", account_id=acc.id)
    assert entry["review_order_id"] == jobs[0]["id"]
