"""Supervision in the browser (desktop viewport): a manager returns a resolved job and the
crew's phone (another browser context) shows it reopened with the reason; a counter clerk
finds 张伟 by ID card and sees the account; a correction recorded by one user is refused
for its author and approved by another."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office, desk_app, python_errors  # noqa: F401
from tests.e2e.phone import Phone
from tests.e2e.serve_api import ZHANG_WEI_ID
from tests.e2e.world import dispatched_job, get_job
from tests.factories import PASSWORD


def resolved_job(api: ApiServer, description: str) -> dict[str, Any]:
    job = dispatched_job(api, kind="fault_repair", assignee="crew1", description=description)
    with api.client("crew1") as c:
        for action, body in (("accept", {}), ("arrive", {"gps": None}),
                             ("resolve", {"resolution": "Replaced the blown fuse"})):
            r = c.post(f"/api/v1/work-orders/{job['id']}/{action}", json=body)
            r.raise_for_status()
    return job


def test_a_manager_returns_a_resolved_job_and_the_crew_sees_it_reopened(
        api: ApiServer, desk_app: str, browser: Any, e2e_dir: Path) -> None:  # noqa: F811
    job = resolved_job(api, "Meter box sparks at the pole")
    code = job["code"]
    reason = "No photo of the new fuse: please add one"
    phone = Phone(browser, desk_app, "review-crew1")
    office = Office(browser, desk_app, "review-manager1")
    try:
        phone.open()
        phone.sign_in("crew1", PASSWORD)
        phone.see("All synced", timeout=30_000)

        office.open()
        office.sign_in_office("manager1", PASSWORD)
        office.rail("Review queue")
        office.see(code)
        office.see("Sample rule: every resolved job")
        office.page.get_by_role("cell", name=re.compile(code)).first.click()
        time.sleep(0.6)
        office.see("Replaced the blown fuse")
        office.fill("Reason for returning (required)", reason)
        office.tap("Return to the crew", exact=True, settle=1.0)
        office.see(f"Job {code} returned to Crew1: {reason}")
        office.shot("review-returned")
        after = get_job(api, job["id"])
        assert (after["status"], after["reopen_count"]) == ("dispatched", 1)

        # the crew's phone downloads it: back in the list, reopened with the reason
        phone.see(code, timeout=15_000)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.see(reason, timeout=15_000)
        phone.shot("reopened-with-reason")
        assert office.errors == []
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        office.close()
        phone.close()


def test_a_clerk_finds_zhang_wei_by_id_card(
        api: ApiServer, desk_app: str, browser: Any) -> None:  # noqa: F811
    office = Office(browser, desk_app, "lookup-agent1")
    try:
        office.open()
        office.sign_in_office("agent1", PASSWORD, ready="Hotline report")
        office.rail("Customer lookup")
        office.fill("Account no., meter no., phone, name, address, ID-card or property "
                    "certificate no.", ZHANG_WEI_ID)
        office.tap("Search", exact=True, settle=1.0)
        office.see("7700000100 张伟 Residential")  # the only match opens at once
        office.see("MTR-ZW-0001")
        office.see("ID card: 4306**********0018")
        office.see("¥86.50")
        office.see("Readings, last 90 days (kWh)")
        shown = [ln for ln in office.snapshot().splitlines() if "ID card:" in ln]
        assert shown and not any(ZHANG_WEI_ID in ln for ln in shown)  # only masked
        office.shot("account-view")
        assert office.errors == []
    finally:
        office.close()


def balance_of(api: ApiServer, account_no: str) -> int:
    with api.client("agent1") as c:
        found = c.get("/api/v1/customers/search", params={"q": account_no}).json()
    return int(found["items"][0]["balance_fen"])


def test_a_correction_is_refused_to_its_author_and_approved_by_another(
        api: ApiServer, desk_app: str, browser: Any) -> None:  # noqa: F811
    balance = balance_of(api, "7700000001")
    author = Office(browser, desk_app, "approvals-manager1")
    other = Office(browser, desk_app, "approvals-admin")
    try:
        author.open()
        author.sign_in_office("manager1", PASSWORD)
        author.rail("Approvals")
        author.fill("Account no.", "7700000001")
        author.fill("Amount (yuan, negative to debit)", "12.50")
        author.fill("Reason", "Meter read twice in March")
        author.tap("Submit for approval", exact=True, settle=1.0)
        author.see("Recorded: waiting for another person's approval")
        author.see("Meter read twice in March")
        author.tap("Approve", exact=True, settle=1.0)
        author.see("You cannot approve or reject your own request")
        author.shot("approvals-own-refused")
        assert balance_of(api, "7700000001") == balance  # nothing moved

        other.open()
        other.sign_in_office("admin", PASSWORD)
        other.rail("Approvals")
        other.see("Meter read twice in March")
        other.tap("Approve", exact=True, settle=1.0)
        other.see("Approved: the change took effect")
        other.shot("approvals-approved")
        assert balance_of(api, "7700000001") == balance + 1250
        assert author.errors == [] and other.errors == []
    finally:
        author.close()
        other.close()
