"""The care list page's state against the real app (state -> CareClient -> OfficeClient ->
HTTP in-process -> the care service and the database; no browser): a clerk asks to add an
account found by its number, cannot approve it, a manager does; the entry names both; a
removal goes the same way, and a refusal needs its reason."""

from __future__ import annotations

import asyncio
from typing import Any

from mobile.office.state.care import CareState
from server.db import Database
from tests.conftest import table_rows
from tests.factories import World
from tests.integration.supervision.test_office_states import desk


def page(as_user: Any, world: World, name: str) -> CareState:
    octx = desk(as_user, world, name)
    return CareState(octx, role=world.user(name).role)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_a_clerk_asks_a_manager_approves_and_the_list_follows(
        as_user: Any, db: Database, world: World) -> None:
    acc = world.accounts["acc2"]
    clerk = page(as_user, world, "agent1")
    run(clerk.load())
    assert clerk.loaded and clerk.entries == [] and clerk.error == ""

    clerk.set_account_no("7799999999")
    assert not run(clerk.submit())
    assert clerk.field_errors["account_no"] == "No account 7799999999"

    clerk.set_account_no(acc.account_no)
    assert run(clerk.look_up()) and clerk.account is not None
    clerk.category, clerk.reason = "medical_equipment", "oxygen concentrator"
    assert run(clerk.submit()), (clerk.field_errors, clerk.form_error)
    assert clerk.notice.startswith("Recorded")
    (req,) = clerk.requests
    assert (req["status"], req["requested_by_name"]) == ("pending", "Agent1")

    assert not run(clerk.decide(req["id"], True))  # not one's own
    assert clerk.row_errors[req["id"]] == ("You cannot approve your own request: another "
                                           "person must.")
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (0, False)

    manager = page(as_user, world, "manager1")
    run(manager.load())
    assert run(manager.decide(req["id"], True))
    assert manager.notice == f"Approved: {acc.account_no} Customer acc2 is on the care list"
    (entry,) = manager.entries
    assert (entry["added_by_name"], entry["approved_by_name"]) == ("Agent1", "Manager1")
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (1, True)

    # taking it off: asked by the manager, refused once (with a reason), then approved
    manager.start_remove(entry)
    manager.reason = "moved away"
    assert run(manager.submit())
    (remove,) = [r for r in manager.requests if r["change"] == "remove"]
    run(clerk.load())
    assert not run(clerk.decide(remove["id"], False))
    assert clerk.row_errors[remove["id"]] == "Say why you refuse"
    clerk.set_note(remove["id"], "she still lives there")
    assert run(clerk.decide(remove["id"], False))
    assert clerk.notice == "Refused: the list is unchanged" and len(clerk.entries) == 1

    manager.start_remove(entry)
    manager.reason = "moved away, confirmed by phone"
    assert run(manager.submit())
    run(clerk.load())
    (again,) = clerk.requests  # the pending one
    assert run(clerk.decide(again["id"], True))
    assert clerk.entries == []
    assert table_rows(db, "account", id=acc.id)[0]["care_flag"] in (0, False)
