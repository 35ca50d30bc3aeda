"""A repair crew works a whole job with no signal; it reaches the server when the signal
comes back, and nothing is left pending on the phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone
from tests.e2e.world import act_while_down, dispatched_job, get_job, jpeg
from tests.factories import PASSWORD

GPS = {"latitude": 27.8012, "longitude": 112.9034, "accuracy": 14}


def test_crew_resolves_a_job_offline_and_it_syncs(api: ApiServer, app_url: str, browser: Any,
                                                   tmp_path: Path) -> None:
    job = dispatched_job(api, kind="fault_repair", assignee="crew1", priority="high",
                         description="No power in the whole house since 9:00")
    code = job["code"]
    phone = Phone(browser, app_url, "crew", geolocation=GPS)
    try:
        phone.open()
        phone.shot("login")
        phone.sign_in("crew1", PASSWORD)
        phone.see(code)
        phone.see("Online")
        phone.shot("my-jobs")

        # -- the signal goes: the API cannot be reached from the phone ----------------
        api.stop()
        phone.see(re.compile(r"Offline"), timeout=20_000)
        # the app restarts with no signal: still signed in, the job still there
        phone.restart(ready=code)
        phone.see(re.compile("Offline"), timeout=20_000)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.see("Customer acc1")
        phone.shot("job-detail-offline")

        phone.tap("Accept", exact=True)
        phone.see("1 pending")
        phone.tap("Arrive (GPS)", settle=1.0)
        phone.see("On site")
        phone.see(re.compile(r"GPS 27\.801"))
        phone.see("2 pending")
        photo = jpeg(tmp_path / "meter-box.jpg", text="fuse box")
        with phone.page.expect_file_chooser() as chooser:
            phone.tap("Add photo", exact=True, settle=0.1)
        chooser.value.set_files(str(photo))
        phone.see("3 pending")
        phone.see("Photo saved; it uploads automatically")
        phone.shot("photo-added-offline")
        phone.tap("Resolve", exact=True)
        phone.fill("What was done", "Replaced the blown service fuse; supply restored")
        phone.fill("Cause", "Overloaded circuit")
        phone.tap("Confirm resolved", exact=True)
        phone.see("Resolved")
        phone.see("4 pending")
        phone.shot("resolved-offline")

        phone.tab("Sync")
        phone.see("Pending changes")
        phone.see("Waiting")
        phone.see(re.compile(r"1 photo\(s\), \d+ KB"))
        phone.shot("sync-offline")

        # -- the signal comes back: sync runs by itself -------------------------------
        api.start()
        phone.see("All synced", timeout=40_000)
        phone.see("Nothing pending")
        phone.shot("sync-done")

        server = get_job(api, job["id"])
        assert server["status"] == "resolved"
        assert server["resolution"] == "Replaced the blown service fuse; supply restored"
        arrive = next(e for e in server["timeline"] if e["action"] == "arrive")
        assert arrive["data"]["gps"]["accuracy_m"] == 14
        assert len(server["photos"]) == 1
        assert server["photos"][0]["status"] == "complete"

        phone.tab("My jobs")
        phone.page.get_by_role("button", name=re.compile("Done")).first.click()
        phone.see(code)
        phone.gone("Not sent")  # a synced card carries no sync chip (only unsynced ones do)
        phone.shot("done-synced")
    finally:
        phone.close()


def test_a_change_the_server_refuses_is_explained_and_can_be_discarded(
        api: ApiServer, app_url: str, browser: Any) -> None:
    job = dispatched_job(api, kind="fault_repair", assignee="crew1b",
                         description="Street light pole leaning after the storm")
    code = job["code"]
    phone = Phone(browser, app_url, "refused")
    try:
        phone.open()
        phone.sign_in("crew1b", PASSWORD)
        phone.see(code)
        api.stop()
        phone.see("Offline", timeout=20_000)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.tap("Accept", exact=True)
        phone.tap("Add note", exact=True)
        phone.fill("Note", "On my way with the ladder truck")
        phone.tap("Save note", exact=True)
        phone.see("2 pending")
        # meanwhile the office cancels the job (the customer fixed it themselves)
        act_while_down(api, "dispatcher1", job["id"], "cancel",
                       reason="Customer called: resolved by themselves")
        api.start()
        phone.see("Refused", timeout=40_000)
        phone.see("The work order is 'Cancelled'; 'accept' is not possible now.")
        phone.see("Cancelled")
        phone.shot("job-refused")
        phone.tab("Sync")
        phone.see("Changes the server refused")
        phone.see("Held: an earlier change of this job was rejected")
        phone.shot("sync-refused")
        phone.tap("Discard", exact=True, settle=0.5)
        phone.see("All synced", timeout=20_000)
        phone.gone("Changes the server refused")
        phone.shot("sync-after-discard")
        assert get_job(api, job["id"])["status"] == "cancelled"
    finally:
        phone.close()
