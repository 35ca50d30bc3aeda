"""The supervision pages' states against the real app: state -> SupervisionClient ->
OfficeClient -> HTTP (the app in-process) -> the services and the database. No browser."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from mobile.office.client import OfficeClient
from mobile.office.context import OfficeContext
from mobile.office.state.approvals import ApprovalsState
from mobile.office.state.audit import AuditState
from mobile.office.state.customers import CustomersState
from mobile.office.state.overview import OverviewState
from mobile.office.state.review import ReviewState
from mobile.office.state.shell import OfficeShellState
from server.auth.security import make_token
from server.db import Database
from tests.conftest import SECRET, table_rows
from tests.factories import World
from tests.integration.supervision.test_reviews_api import resolved_job


class Tokens:
    def __init__(self, access: str) -> None:
        self.access = access

    def tokens(self) -> tuple[str | None, str | None]:
        return self.access, None

    def save_tokens(self, access: str, refresh: str) -> None:
        self.access = access


def desk(as_user: Any, world: World, name: str) -> OfficeContext:
    user = world.user(name)
    token, _ = make_token(secret=SECRET, sub=user.id, kind="access", ttl=timedelta(minutes=9))
    client = OfficeClient("http://testserver", Tokens(token), lang="en",
                          client=as_user(None).client)
    client._t.probe_after_s = None  # the app is in-process: no network link to probe
    return OfficeContext(client=client, shell=OfficeShellState(role=user.role))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_approvals_page_records_refuses_the_author_and_applies_on_approval(
        as_user: Any, db: Database, world: World) -> None:
    author = ApprovalsState(desk(as_user, world, "manager1"), role=world.user("manager1").role)
    author.account_no, author.amount, author.reason = "7700000000", "12.50", "read twice"
    assert author.form_kinds() == ["adjustment", "refund", "purchase_count"]
    assert run(author.submit()) and author.notice.startswith("Recorded")
    (req,) = author.rows
    assert (req["amount_fen"], req["status"]) == (1250, "pending")
    assert not run(author.decide(req["id"], True))
    assert "own request" in author.row_errors[req["id"]]

    author.account_no, author.amount = "7799999999", "1"
    assert not run(author.submit()) and "No account 7799999999" in author.form_error
    author.account_no, author.amount = "7700000000", "12.345"
    assert not run(author.submit()) and author.form_error == "Enter an amount such as 12.50"

    admin = ApprovalsState(desk(as_user, world, "admin"), role=world.user("admin").role)
    assert admin.form_kinds() == [] and admin.decides
    run(admin.load())
    assert run(admin.decide(req["id"], True))
    acc1 = table_rows(db, "account", id=world.accounts["acc1"].id)[0]
    assert acc1["balance_fen"] == 5000 + 1250


def test_review_customers_audit_and_overview_pages(as_user: Any, db: Database,
                                                    world: World) -> None:
    oid = resolved_job(db, world, "fuse")
    octx = desk(as_user, world, "manager1")
    review = ReviewState(octx)
    run(review.load())
    assert [r["id"] for r in review.rows] == [oid]
    review.pick(oid)
    assert not run(review.decide("returned"))  # no reason
    assert review.error
    review.reason = "photo missing"
    assert run(review.decide("returned"))
    assert review.notice.endswith("returned to Crew1: photo missing") and review.rows == []

    review.rule_kind, review.rule_percent = "fault_repair", "101"
    assert not run(review.save_rule()) and review.error == "Enter a whole number 0-100"
    review.rule_percent = "30"
    assert run(review.save_rule())
    assert review.rule_text() == "Sample rule: other kinds 100%; Fault repair 30%"

    customers = CustomersState(desk(as_user, world, "agent1"))
    run(customers.search("430102199001011234"))
    assert customers.view is not None and customers.view["account"]["name"] == "Customer acc1"
    run(customers.search("Customer"))
    assert customers.total == 2 and customers.view is None

    audit = AuditState(octx)
    audit.set("job", table_rows(db, "work_order", id=oid)[0]["code"])
    run(audit.search())
    assert audit.total > 0 and {r["entity_id"] for r in audit.rows} == {oid}
    data = run(audit.export())
    assert data is not None and data.decode("utf-8-sig").startswith("seq,at,actor_id")

    overview = OverviewState(octx)
    run(overview.load())
    assert overview.data is not None and overview.data["open_by_status"] == {"dispatched": 1}
