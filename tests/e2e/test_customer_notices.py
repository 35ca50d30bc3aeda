"""A customer is told what happens, in Chromium: a planned outage for their area shows on
their account and before a fault report; their inbox then follows the repair (crew
assigned by name, on the way, arrived, resolved), newest first and unread; tapping the
"resolved" notice opens the job, where "Still not fixed" sends it back with a reason —
which the server applies and tells them about. The inbox is looked at in zh as well, on
another phone of the same customer: the message read on the first one is read there."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone, look
from tests.e2e.world import account, get_job, user_id
from tests.factories import PASSWORD


def test_outage_notice_and_inbox_through_a_repair(api: ApiServer, app_url: str,
                                                  browser: Any) -> None:
    from shared.timeutil import utcnow

    acc = account(api, "Customer acc2")
    now = utcnow()
    with api.client("dispatcher1") as office:
        r = office.post("/api/v1/outages", json={
            "area_ids": [acc["area_id"]], "reason": "replacing a 10 kV switch",
            "starts_at": (now + timedelta(minutes=50)).isoformat(),
            "ends_at": (now + timedelta(hours=6)).isoformat()})
        assert r.status_code == 201, r.text
        assert r.json()["accounts_told"] >= 1

    phone = Phone(browser, app_url, "notices")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.open()
        # served by its own server (--fixed-server): nobody is asked for a server URL
        assert "Server URL" not in phone.snapshot()
        phone.sign_in("customer2", PASSWORD)
        phone.see(acc["account_no"])
        phone.see(re.compile(r"Planned outage: .* replacing a 10 kV switch"))
        look(phone, "en-account-outage")

        phone.tap("Report a fault", exact=True, settle=1.0)
        phone.see("A planned outage covers your area")
        phone.fill("Describe the fault", "No power in the whole house")
        look(phone, "en-report-outage-warning")
        phone.tap("Submit report", exact=True, settle=1.0)
        phone.see("All synced", timeout=30_000)
        phone.see(re.compile(r"WO\d{11}"))  # the server's number, drawn once the sync is in
        code = re.search(r"WO\d{11}", phone.snapshot())
        assert code is not None

        with api.client("dispatcher1") as office:
            items = office.get("/api/v1/work-orders", params={"status": "reported"}
                               ).json()["items"]
            job = next(j for j in items if j["code"] == code.group(0))
            r = office.post(f"/api/v1/work-orders/{job['id']}/dispatch",
                            json={"assignee_id": user_id(api, "crew1")})
            assert r.status_code == 200, r.text
        with api.client("crew1") as crew:
            for action, body in (("accept", {}), ("start-travel", {}),
                                 ("arrive", {"gps": {"lat": 27.8, "lon": 112.9,
                                                     "accuracy_m": 9}}),
                                 ("resolve", {"resolution": "Replaced the service fuse"})):
                r = crew.post(f"/api/v1/work-orders/{job['id']}/{action}", json=body)
                assert r.status_code == 200, r.text
        phone.see("Resolved", timeout=30_000)
        phone.gone(re.compile(r"GPS 27\.8"))  # the crew's position is not shown to customers
        phone.tab("Inbox")
        phone.see("Crew assigned")
        phone.see(re.compile(r"given to Crew1"))
        phone.see("Crew on the way")
        phone.see("Crew arrived")
        phone.see("Fault resolved")
        phone.see("Planned outage")
        phone.see(re.compile(r"\d+ unread"))
        snap = phone.snapshot()
        # newest first: resolved above arrived above on the way above assigned
        order = [snap.index(x) for x in ("Fault resolved", "Crew arrived", "Crew on the way",
                                         "Crew assigned")]
        assert order == sorted(order), snap
        look(phone, "en-inbox-repair")

        phone.page.get_by_text(re.compile("Fault resolved")).first.click()
        time.sleep(1.0)
        phone.see("Still not fixed")
        phone.see("Rate the service")
        look(phone, "en-job-resolved-customer")
        phone.tap("Still not fixed", exact=True)
        phone.fill("What is still not fixed?", "The kitchen sockets are still dead")
        phone.tap("Send: please come back", exact=True)
        phone.see("All synced", timeout=30_000)
        assert get_job(api, job["id"])["status"] == "dispatched"
        with api.client("customer2") as me:
            notes = me.get("/api/v1/notifications").json()
            unread = len(me.get("/api/v1/notifications", params={"unread": True}).json())
        assert notes[0]["kind"] == "job_reopened"
        # opened on this phone: the read mark went up with the sync (issue 15)
        assert [n["read_at"] is not None for n in notes if n["kind"] == "job_resolved"] == [
            True]

        # the monthly bill, and its PDF
        phone.tab("Accounts")
        phone.tap("Monthly bill", exact=True, settle=1.0)
        phone.see("Opening balance")
        phone.see("Closing balance")
        look(phone, "en-bill")
        with phone.page.expect_download() as got:
            phone.tap("Download PDF", exact=True)
        download = got.value
        assert re.fullmatch(r"bill-\d{10}-\d{4}-\d{2}\.pdf", download.suggested_filename)
        pdf = Path(download.path()).read_bytes()
        assert pdf.startswith(b"%PDF") and b"DroidSansFallback" in pdf
    finally:
        phone.close()

    zh = Phone(browser, app_url, "notices-zh", locale="zh-CN")
    zh.page.set_viewport_size({"width": 390, "height": 844})
    try:
        zh.open()
        zh.sign_in("customer2", PASSWORD, labels=("用户名", "密码", "登录"))
        zh.see("计划停电")
        look(zh, "zh-account-outage")
        zh.tab("消息")
        zh.see("已派单")
        zh.see("工单已重新处理")
        zh.see(f"{unread} 条未读")  # the message read on the other phone is read here too
        look(zh, "zh-inbox-repair")
    finally:
        zh.close()
