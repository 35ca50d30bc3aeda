"""A new connection from the first tap to the new account, in Chromium: a customer applies
with two document photos while offline and it goes when the signal is back; the counter
clerk accepts it on the office desk; a crew does the site survey with no signal; the
manager approves the scheme (API); a technician installs a meter from stock on the phone;
the customer sees the new account with its opening balance and the application archived.
Station 1 of the test world: customer2, agent1, crew1, tech1, manager1."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office
from tests.e2e.phone import Phone
from tests.e2e.world import jpeg, user_id
from tests.factories import PASSWORD

GPS = {"latitude": 27.8012, "longitude": 112.9034, "accuracy": 14}
CODE = re.compile(r"YK\d{11}")


def _choose_photo(phone: Phone, button: str, path: Path) -> None:
    with phone.page.expect_file_chooser() as chooser:
        phone.tap(button, exact=True, settle=0.1)
    chooser.value.set_files(str(path))
    time.sleep(1.0)


def _application(api: ApiServer, code: str) -> dict[str, Any]:
    with api.client("agent1") as c:
        items = c.get("/api/v1/applications", params={"status": ["open", "completed"]}
                      ).json()["items"]
    return next(a for a in items if a["code"] == code)


def test_new_connection_from_the_phone_to_the_new_account(
        api: ApiServer, app_url: str, browser: Any, tmp_path: Path) -> None:
    with api.client("tech1") as c:
        stock = [m["meter_no"] for m in c.get("/api/v1/meters",
                                              params={"status": "in_stock"}).json()]
    meter_no = stock[0]

    # -- the customer applies with no signal ------------------------------------------------
    customer = Phone(browser, app_url, "apps-customer", geolocation=GPS)
    try:
        customer.open()
        customer.sign_in("customer2", PASSWORD)
        customer.see("All synced", timeout=30_000)
        api.stop()
        customer.tab("Services")
        customer.see("Apply")
        customer.shot("apps-empty")
        customer.tap("Apply", exact=True, settle=1.0)
        customer.fill("Applicant's name", "Wang Fang")
        customer.fill("ID card number", "11010519491231002X")
        customer.fill("Contact phone", "13912345678")
        customer.fill("Address of supply", "12 Tea Garden Road, Hilltop")
        customer.fill("Requested capacity (kW)", "8")
        customer.tap("Submit the application", exact=True)
        customer.see("Photograph the ID card")  # both photos are required
        _choose_photo(customer, "Photograph the ID card",
                      jpeg(tmp_path / "id.jpg", color=(200, 180, 150), text="ID card"))
        _choose_photo(customer, "Photograph the Property certificate",
                      jpeg(tmp_path / "cert.jpg", color=(150, 60, 60), text="certificate"))
        customer.tap("Add my location", exact=True, settle=1.0)
        customer.shot("apply-form")
        customer.tap("Submit the application", exact=True, settle=1.0)
        customer.see("Not sent yet")
        customer.see("Acceptance")
        customer.shot("applied-offline")
        api.start()
        customer.see(CODE, timeout=40_000)
        code = CODE.search(customer.snapshot()).group(0)  # type: ignore[union-attr]
        customer.shot("applied-synced")
    finally:
        customer.close()
    app = _application(api, code)
    assert [d["doc"] for d in app["documents"]] == ["id_card", "property_cert"]
    assert app["lat"] == 27.8012 and app["id_card_masked"] == "110***********002X"

    # -- the counter clerk accepts it on the desk, naming the surveyor -----------------------
    office = Office(browser, app_url, "apps-clerk")
    try:
        office.open()
        office.sign_in_office("agent1", PASSWORD, ready="Applications")
        office.rail("Applications")
        office.see(code, timeout=20_000)
        office.tap(re.compile(code), settle=2.0)
        office.see("110***********002X")
        office.tap(re.compile("TA-town"), settle=0.5)
        office.tap(re.compile("^Crew1"), settle=0.5)
        office.shot("desk-application")
        office.tap("Accept", exact=True, settle=1.5)
        office.see(f"Application {code} accepted.")
        office.see("Site survey")
        office.shot("desk-accepted")
    finally:
        office.close()
    app = _application(api, code)
    assert app["step"] == "site_survey" and app["survey_order_id"]

    # -- the crew surveys the site with no signal ---------------------------------------------
    crew = Phone(browser, app_url, "apps-crew", geolocation=GPS)
    try:
        crew.open()
        crew.sign_in("crew1", PASSWORD)
        crew.see("New connection", timeout=30_000)
        crew.see("All synced", timeout=30_000)
        api.stop()
        crew.page.get_by_role("button", name=re.compile("New connection")).first.click()
        time.sleep(1.0)
        crew.tap("Accept", exact=True)
        crew.tap("Arrive (GPS)", settle=1.0)
        crew.see("On site")
        crew.tap("Resolve", exact=True)
        crew.fill("What was done", "Pole T12 30 m away; 8 kW on the existing line is fine")
        crew.tap("Confirm resolved", exact=True)
        crew.see("Resolved")
        crew.shot("survey-offline")
        api.start()
        crew.see("All synced", timeout=40_000)
    finally:
        crew.close()
    app = _application(api, code)
    assert app["step"] == "scheme" and app["findings"].startswith("Pole T12")

    # -- the manager approves the scheme with a first purchase of 50 yuan ---------------------
    with api.client("manager1") as c:
        r = c.post(f"/api/v1/applications/{app['id']}/approve",
                   json={"opening_fen": 5000, "assignee_id": user_id(api, "tech1")})
        assert r.status_code == 200, r.text

    # -- the technician installs the meter from stock -----------------------------------------
    tech = Phone(browser, app_url, "apps-tech", geolocation=GPS)
    try:
        tech.open()
        tech.sign_in("tech1", PASSWORD)
        tech.page.get_by_role("button", name=re.compile("New connection")).first.click()
        time.sleep(1.0)
        tech.tap("Accept", exact=True)
        tech.tap("Arrive (GPS)", settle=1.0)
        tech.see("On site")
        tech.see("record the installation, then resolve")
        tech.tap("Record the installation", exact=True, settle=1.0)
        tech.fill("Meter number (from stock)", meter_no)
        tech.fill("Start reading (kWh)", "0.5")
        tech.fill("Prepayment card number", "62000000077")
        tech.shot("install-form")
        tech.tap("Record the installation", exact=True, settle=1.0)
        tech.see("Installation recorded")
        tech.tap("Resolve", exact=True)
        tech.fill("What was done", "Meter installed and sealed; supply on")
        tech.tap("Confirm resolved", exact=True)
        tech.see("Resolved")
        tech.see("All synced", timeout=40_000)
        tech.shot("installed")
    finally:
        tech.close()

    # -- the customer: the new account with its opening balance, the application archived ----
    app = _application(api, code)
    assert app["status"] == "completed" and app["account_no"]
    customer = Phone(browser, app_url, "apps-customer")
    try:
        customer.open()
        customer.sign_in("customer2", PASSWORD)
        customer.see(app["account_no"], timeout=30_000)
        customer.see("¥50.00")
        customer.shot("new-account")
        customer.tab("Services")
        customer.see("Completed and archived")
        customer.tap(re.compile(code), settle=1.0)
        customer.see(f"New account: {app['account_no']}")
        customer.see("Opening balance: 50.00 yuan")
        customer.see("Documents archived")
        customer.see("Installation")
        customer.shot("application-completed")
        customer.tap("5 stars", exact=True, settle=1.0)
        customer.see("Your rating: 5 stars")
    finally:
        customer.close()
    with api.client("agent1") as c:
        rec = c.get(f"/api/v1/applications/{app['id']}/archive").json()
    assert rec["verified"] and len(rec["record"]["decisions"]) == 5
