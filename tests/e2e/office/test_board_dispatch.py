"""A dispatcher takes a hotline fault, assigns the suggested crew, and the crew's phone
(another browser context) shows it within 2 s; the crew accepts on the phone and the board
updates by itself. Station 2 of the test world: one crew (crew2), one dispatcher."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office, desk_app, python_errors  # noqa: F401
from tests.e2e.phone import Phone
from tests.factories import PASSWORD

ACCOUNT_NO = "7700000002"  # acc3, station 2, remote area


def wait_for(check: Any, seconds: float) -> float:
    """Poll ``check`` until true; return how long it took (fail after ``seconds``)."""
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > seconds:
            raise AssertionError(f"not seen within {seconds} s")
        time.sleep(0.1)
    return time.monotonic() - t0


def shows(who: Phone, text: str | re.Pattern[str]) -> bool:
    snap = who.snapshot(timeout=5_000)
    return bool(text.search(snap)) if isinstance(text, re.Pattern) else text in snap


def test_a_hotline_fault_is_dispatched_to_the_suggested_crew_and_followed_live(
        api: ApiServer, desk_app: str, browser: Any, e2e_dir: Path) -> None:  # noqa: F811
    phone = Phone(browser, desk_app, "board-crew2")
    office = Office(browser, desk_app, "board-dispatcher2")
    try:
        phone.open()
        phone.sign_in("crew2", PASSWORD)  # on duty: signed in on the phone just now
        phone.see("All synced", timeout=30_000)

        office.open()
        office.sign_in_office("dispatcher2", PASSWORD)
        office.shot("board")

        # -- the hotline: find the caller, describe the fault, create the job -------------
        office.rail("Hotline report")
        office.fill("Account no., phone or name", ACCOUNT_NO)
        office.tap("Search", exact=True, settle=1.0)
        office.see("Customer acc3")
        office.page.get_by_text(re.compile(f"{ACCOUNT_NO}  Customer acc3")).first.click()
        time.sleep(0.6)
        office.see(f"Caller's account: {ACCOUNT_NO}")
        office.fill("Description", "Transformer fuse blown, the whole village is dark")
        office.tap("Urgent", exact=True)
        office.shot("hotline-form")
        office.tap("Create the job", exact=True, settle=1.0)
        office.see(re.compile(r"Job WO\d{11} created"))
        code = re.search(r"Job (WO\d{11}) created", office.snapshot())
        assert code is not None
        code_ = code.group(1)
        with api.client("dispatcher2") as c:
            jobs = c.get("/api/v1/work-orders", params={"status": "reported"}).json()["items"]
        job = next(j for j in jobs if j["code"] == code_)
        assert (job["channel"], job["priority"]) == ("hotline", "urgent")
        office.shot("hotline-created")

        # -- the board opens on it, with the suggested crew and its rule ------------------
        office.tap("Dispatch it on the board", exact=True, settle=1.0)
        office.see(code_)
        office.see("Suggested crew")
        office.see(re.compile(r"on duty first"))
        office.see("Assign to Crew2")
        office.shot("board-panel")
        office.tap("Assign to Crew2", exact=True, settle=0.0)
        t_assign = time.monotonic()
        took = wait_for(lambda: shows(phone, code_), 5.0)
        from_click = time.monotonic() - t_assign
        assert from_click <= 2.0, f"the crew's phone showed the job after {from_click:.2f} s"
        print(f"assignment on the crew's phone after {took:.2f} s")
        office.see(f"{code_} assigned to Crew2")
        office.see("Fault repair · Dispatched")
        phone.shot("job-arrived")

        # -- the crew accepts on the phone; the board updates by itself -------------------
        phone.page.get_by_role("button", name=re.compile(code_)).first.click()
        phone.see("Customer acc3")
        phone.tap("Accept", exact=True)
        t_accept = time.monotonic()
        took = wait_for(lambda: shows(office, "Fault repair · Accepted"), 10.0)
        print(f"the board showed the acceptance {took:.2f} s after the tap")
        office.see(re.compile(r"In progress \(\d+\)"))
        assert time.monotonic() - t_accept < 10
        office.shot("board-accepted")
        with api.client("dispatcher2") as c:
            assert c.get(f"/api/v1/work-orders/{job['id']}").json()["status"] == "accepted"
        assert office.errors == [], office.errors
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        office.close()
        phone.close()
