"""The installed app works with no signal: Python, its database and its outbox are in the
browser (issue 11, checks 1 and 2)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from tests.e2e.pwa.conftest import PwaServer
from tests.e2e.world import dispatched_job, get_job, jpeg
from tests.factories import PASSWORD

GPS = {"latitude": 27.8012, "longitude": 112.9034, "accuracy": 14}


def applied_ops(server: PwaServer, entity_id: str) -> list[tuple[str, str]]:
    """(type, status) of every op the server recorded for ``entity_id``."""
    with sqlite3.connect(server.data_dir / "gridone.db") as db:
        return sorted(db.execute("SELECT type, status FROM applied_op WHERE entity_id = ?",
                                 (entity_id,)).fetchall())


def test_crew_works_a_job_offline_across_reload_and_tab_close_and_it_syncs_once(
        pwa_server: PwaServer, phone_factory: Any, tmp_path: Path) -> None:
    job = dispatched_job(pwa_server, kind="fault_repair", assignee="crew1", priority="high",
                         description="No power in the whole house since 9:00")
    code = job["code"]
    phone = phone_factory("pwa-crew", geolocation=GPS)
    phone.open()
    phone.gone("Server URL")  # served by its own server: nothing to type
    phone.shot("login")
    phone.sign_in("crew1", PASSWORD)
    phone.see(code)
    phone.see("All synced")
    phone.installed()
    # Flutter's fallback fonts are answered (the stand-in for what the build lacks): a
    # missing one was asked for again at every layout, ~18 times a second on this screen
    assert phone.fonts and all(status == 200 for _, status in phone.fonts), phone.fonts
    assert len(phone.fonts) < 10, phone.fonts

    # -- no signal: the phone's own connection is cut, and the app is reloaded -----------
    phone.offline()
    phone.reload(ready=code)
    phone.see("Offline", timeout=30_000)
    phone.shot("reloaded-offline")
    phone.page.get_by_role("button", name=re.compile(code)).first.click()
    phone.see("Customer acc1")
    phone.tap("Accept", exact=True)
    phone.see("1 pending")
    phone.tap("Arrive (GPS)", settle=1.0)
    phone.see("On site")
    phone.see("2 pending")
    phone.tap("Add note", exact=True)
    phone.fill("Note", "Meter box door jammed; opened with the customer")
    phone.tap("Save note", exact=True)
    phone.see("3 pending")
    photo = jpeg(tmp_path / "fuse-box.jpg", text="fuse box")
    with phone.page.expect_file_chooser() as chooser:
        phone.tap("Add photo", exact=True, settle=0.1)
    chooser.value.set_files(str(photo))
    phone.see("4 pending")
    phone.see("Photo saved; it uploads automatically")
    phone.tap("Resolve", exact=True)
    phone.fill("What was done", "Replaced the blown service fuse; supply restored")
    phone.fill("Cause", "Overloaded circuit")
    phone.tap("Confirm resolved", exact=True)
    phone.see("Resolved")
    phone.see("5 pending")
    phone.shot("resolved-offline")
    phone.durable()

    # -- the tab is closed and the app opened again, still with no signal -------------------
    phone.reopen(ready="5 pending")
    phone.see("Offline", timeout=30_000)
    phone.tab("Sync")
    phone.see(re.compile(r"1 photo\(s\), \d+ KB"))
    phone.shot("reopened-offline-sync")
    assert applied_ops(pwa_server, job["id"]) == []  # nothing reached the server

    # -- the signal comes back: it syncs by itself, each op applied once --------------------
    phone.offline(False)
    phone.see("All synced", timeout=60_000)
    phone.see("Nothing pending")
    phone.shot("synced")
    server = get_job(pwa_server, job["id"])
    assert server["status"] == "resolved"
    assert server["resolution"] == "Replaced the blown service fuse; supply restored"
    actions = [e["action"] for e in server["timeline"]]
    for action in ("accept", "arrive", "resolve"):
        assert actions.count(action) == 1, actions
    assert len(server["photos"]) == 1 and server["photos"][0]["status"] == "complete"
    ops = applied_ops(pwa_server, job["id"])
    assert len(ops) == 5 and {s for _, s in ops} == {"applied"}, ops
    # the photo was downscaled in the browser (2600x1700 taken, 2000 px kept)
    assert max(server["photos"][0].get("width", 2000), server["photos"][0].get("height", 0)) <= 2000


def test_customer_sees_the_balance_as_of_the_last_sync_with_no_signal(
        pwa_server: PwaServer, phone_factory: Any) -> None:
    phone = phone_factory("pwa-customer")
    phone.open()
    phone.sign_in("customer1", PASSWORD)
    phone.see("My accounts")
    phone.see("7700000000")
    phone.see(re.compile(r"as of \S+"))
    balance = re.search(r"Balance\s*(¥[\d,.-]+)", phone.snapshot())
    assert balance, phone.snapshot()
    phone.installed()
    phone.offline()
    phone.reopen(ready="7700000000")
    phone.see("Offline", timeout=30_000)
    phone.see(balance.group(1))
    phone.see(re.compile(r"as of \S+"))
    phone.shot("balance-offline")

    # the monthly bill and its PDF, made by Python in the browser with no signal (fpdf2
    # runs there; its fonts come from the installed build)
    phone.tap("Monthly bill", exact=True, settle=1.0)
    phone.see("Closing balance")
    with phone.page.expect_download(timeout=90_000) as got:
        phone.tap("Download PDF", exact=True)
    download = got.value
    assert re.fullmatch(r"bill-\d{10}-\d{4}-\d{2}\.pdf", download.suggested_filename)
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and b"DroidSansFallback" in pdf
    phone.shot("bill-offline")
