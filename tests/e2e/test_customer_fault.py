"""A customer checks their account, reports a fault with a photo from their files, one
from the camera and their location, and follows it: the dispatcher assigns a crew
(through the API) and the phone shows it; when the crew has resolved it, the customer
rates the service."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone
from tests.e2e.world import get_job, jpeg, user_id
from tests.factories import PASSWORD

GPS = {"latitude": 27.7991, "longitude": 112.9012, "accuracy": 25}


def test_customer_reports_a_fault_and_follows_it(api: ApiServer, app_url: str, browser: Any,
                                                 tmp_path: Path) -> None:
    phone = Phone(browser, app_url, "customer", geolocation=GPS)
    try:
        phone.open()
        phone.sign_in("customer1", PASSWORD)
        phone.see("7700000000")
        phone.see("¥50.00")
        phone.see("MTR-M1-0001")
        phone.see("You are on the care list")
        phone.see("Daily usage, last 30 days (kWh)")
        phone.shot("accounts")

        phone.tap("Report a fault", exact=True, settle=1.0)
        phone.fill("Describe the fault", "Sparks from the meter box, then no power")
        photo = jpeg(tmp_path / "sparks.jpg", color=(60, 60, 70), text="meter box")
        with phone.page.expect_file_chooser() as chooser:
            phone.tap("Choose photo", exact=True, settle=0.1)
        chooser.value.set_files(str(photo))
        # and one from the camera (Chromium's fake webcam)
        phone.tap("Take photo", exact=True, settle=0.5)
        expect(phone.button("Shutter", exact=True)).to_be_enabled(timeout=20_000)
        phone.shot("camera")
        phone.tap("Shutter", exact=True, settle=1.0)
        phone.gone("Opening the camera")
        phone.tap("Add my location", exact=True, settle=1.0)
        phone.see(re.compile(r"Location 27\.799"))
        phone.shot("report-form")
        phone.tap("Submit report", exact=True, settle=1.0)
        phone.see("Reported")
        phone.see("Not assigned yet")
        phone.see("All synced", timeout=30_000)
        phone.see(re.compile(r"WO\d{11}"))
        phone.shot("reported")
        code = re.search(r"WO\d{11}", phone.snapshot())
        assert code is not None

        # the office dispatches it to a crew
        with api.client("dispatcher1") as office:
            jobs = office.get("/api/v1/work-orders", params={"status": "reported"}).json()
            job = next(j for j in jobs["items"] if j["code"] == code.group(0))
            assert job["channel"] == "app"
            assert job["lat"] == 27.7991
            assert len(get_job(api, job["id"])["photos"]) == 2
            r = office.post(f"/api/v1/work-orders/{job['id']}/dispatch",
                            json={"assignee_id": user_id(api, "crew1")})
            assert r.status_code == 200, r.text
        phone.see("Dispatched", timeout=30_000)
        phone.see("Crew1")
        phone.see("Expected arrival")
        phone.shot("dispatched")

        # the crew works it (from their own phone, here through the API)
        with api.client("crew1") as crew:
            for action, body in (("accept", {}), ("arrive", {"gps": None}),
                                 ("resolve", {"resolution": "Replaced the burnt meter fuse"})):
                r = crew.post(f"/api/v1/work-orders/{job['id']}/{action}", json=body)
                assert r.status_code == 200, r.text
        phone.see("Resolved", timeout=30_000)
        phone.see("Replaced the burnt meter fuse")
        phone.tap("Rate the service", exact=True)
        phone.tap("5 stars", exact=True, settle=0.3)
        phone.fill("Comment (optional)", "Fast and friendly")
        phone.tap("Submit rating", exact=True)
        phone.see("Confirmed")
        phone.see("All synced", timeout=30_000)
        phone.shot("rated")
        server = get_job(api, job["id"])
        assert server["status"] == "confirmed"
        assert server["rating"] == 5
        assert server["rating_comment"] == "Fast and friendly"
    finally:
        phone.close()
