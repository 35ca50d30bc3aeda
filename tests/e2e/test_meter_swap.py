"""A meter technician records a swap with no signal: the phone runs the server's swap
rules, shows the problem on its field, keeps the draft across a restart, and the swap
reaches the server when the signal is back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone, look
from tests.e2e.world import dispatched_job, get_job, jpeg
from tests.factories import PASSWORD


def test_meter_swap_offline_with_a_corrected_error(api: ApiServer, app_url: str, browser: Any,
                                                    tmp_path: Path) -> None:
    # station 2's technician on customer 3's meter: the other browser tests use station 1
    job = dispatched_job(api, kind="meter_swap", assignee="tech2",
                         description="Prepaid meter display dead; replace it",
                         account_name="Customer acc3", dispatcher="dispatcher2")
    code = job["code"]
    phone = Phone(browser, app_url, "tech")  # no GPS permission: arrival by hand
    phone.page.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.open()
        phone.sign_in("tech2", PASSWORD)
        phone.see(code)
        phone.see("Meter swap")
        phone.shot("my-jobs")

        api.stop()
        phone.see("Offline", timeout=20_000)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.see("MTR-M3-0001")
        phone.tap("Accept", exact=True)
        phone.tap("Arrive (GPS)", settle=1.0)
        phone.see("No GPS fix", timeout=20_000)
        phone.tap("Arrive (manual)", exact=True)
        phone.see("On site")
        phone.see("position confirmed by hand")
        phone.see("2 pending")

        phone.tap("Record meter swap", exact=True, settle=1.0)
        phone.see("Last reading 1000.00 kWh")
        # "Old meter number" is not typed: the form fills it in from the job (the swap
        # below is accepted by the phone's rules and the server's only if it matches)
        phone.fill("Search stock by meter number", "NEW")
        phone.see("Use NEW-STOCK3")
        look(phone, "en-swap-stock-picker")
        phone.fill("Old meter final reading (kWh)", "999.50")  # below the last reading
        phone.fill("Old meter remaining balance (yuan)", "48.50")
        phone.fill("Search stock by meter number", "stock3")  # picked from the stock
        phone.tap("Use NEW-STOCK3", exact=True)
        phone.see("In register: In stock")
        look(phone, "en-swap-picked")
        phone.fill("New meter start reading (kWh)", "0.5")
        phone.fill("New card number", "62220012345678")
        phone.fill("Seal numbers (comma separated)", "SEAL-0001, SEAL-0002")
        for which, color in (("Old meter face photo", (90, 90, 90)),
                             ("New meter face photo", (20, 120, 60))):
            photo = jpeg(tmp_path / f"{which[:3]}.jpg", color=color, text=which)
            with phone.page.expect_file_chooser() as chooser:
                phone.page.get_by_role("button", name="Choose photo").nth(
                    0 if which.startswith("Old") else 1).click()
            chooser.value.set_files(str(photo))
        phone.gone("missing", timeout=10_000)
        phone.tap("Submit swap", exact=True)
        phone.see("The reading 999.50 is below the last recorded reading 1000.00")
        phone.see("Fix the fields marked in red first")
        phone.shot("swap-field-error")

        # the app restarts: the draft (and its error) is still there
        phone.restart(ready=code)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.tap("Record meter swap", exact=True, settle=1.0)
        phone.shot("swap-draft-after-restart")
        phone.see("In register: In stock")  # the new meter number came back with the draft
        phone.see("The reading 999.50 is below the last recorded reading 1000.00")
        phone.fill("Old meter final reading (kWh)", "1012.30")
        phone.gone("is below the last recorded reading")
        phone.shot("swap-corrected")
        phone.tap("Submit swap", exact=True, settle=1.0)
        phone.see("Meter swap recorded")
        phone.see("3 pending")
        phone.tap("Resolve", exact=True)
        phone.fill("What was done", "Replaced meter, balance carried over")
        phone.tap("Confirm resolved", exact=True)
        phone.see("4 pending")
        phone.shot("swap-resolved-offline")

        api.start()
        phone.see("All synced", timeout=40_000)
        phone.shot("swap-synced")
        server = get_job(api, job["id"], as_user="dispatcher2")
        assert server["status"] == "resolved"
        with api.client("dispatcher2") as c:
            swap = c.get(f"/api/v1/work-orders/{job['id']}/meter-swap").json()
        assert swap["old_final_kwh"] == "1012.30"
        assert swap["new_meter_id"] and swap["old_meter_id"] != swap["new_meter_id"]
        assert swap["old_remaining_fen"] == 4850
        assert swap["seal_numbers"] == ["SEAL-0001", "SEAL-0002"]
        assert len({p["sha256"] for p in server["photos"]}) == 2
        assert all(p["status"] == "complete" for p in server["photos"])
    finally:
        phone.close()
