"""The monitoring loop in the browser: a manager sees the area with the injected theft
flagged on the monitoring desk and opens it (its suspect meter first, the anomaly with its
inspection job); the job reaches the crew's phone (another browser context); the crew
records "tampering found" with no signal, the signal comes back, and after the sync the
manager's screen shows the finding and the follow-up job. Then the same screens in
Chinese (desktop 1440x900, the phone's form at 390x844)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office, desk_app, python_errors  # noqa: F401
from tests.e2e.office.monitoring_kit import THIEF, seed_theft
from tests.e2e.phone import Phone
from tests.e2e.world import dispatched_job, jpeg, user_id
from tests.factories import PASSWORD

GPS = {"latitude": 27.8012, "longitude": 112.9034, "accuracy": 9}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def theft(api: ApiServer) -> dict[str, Any]:
    """The seeded run's inspection job for the bypassed meter (and who got it)."""
    run = seed_theft(api)
    assert run["new"].get("loss_suspect") == 1, run
    with api.client("manager1") as c:
        rows = c.get("/api/v1/monitoring/anomalies",
                     params={"kind": "loss_suspect"}).json()["table"]["rows"]
        [anomaly] = rows
        assert anomaly["meter_no"] == THIEF and anomaly["work_order_code"]
        job = c.get(f"/api/v1/work-orders/{anomaly['work_order_id']}").json()
    assert job["kind"] == "usage_inspection" and job["status"] == "dispatched"
    crew = next(n for n in ("crew1", "crew1b") if user_id(api, n) == job["assignee"]["id"])
    return {"job": job, "crew": crew, "anomaly": anomaly}


def test_theft_flagged_inspected_offline_and_the_finding_reaches_the_desk(
        api: ApiServer, desk_app: str, browser: Any, theft: dict[str, Any],  # noqa: F811
        tmp_path: Path, e2e_dir: Path) -> None:
    job, code = theft["job"], theft["job"]["code"]
    office = Office(browser, desk_app, "mon-manager")
    phone = Phone(browser, desk_app, "mon-crew", geolocation=GPS)
    phone.page.set_viewport_size(PHONE)
    try:
        # -- the manager sees the town area flagged and opens it --------------------------
        office.open()
        office.sign_in_office("manager1", PASSWORD)
        office.rail("Grid monitoring")
        office.see(re.compile(r"Transformer areas \(20\d\d-"))
        office.see("High loss")
        office.shot("overview")
        office.tap("TA-town", exact=True, settle=1.5)  # the area's row: open it
        office.see("Meters (most suspect first)")
        office.see(THIEF)
        office.see("High-loss suspect")
        office.see(code)
        office.shot("area")

        # -- the job is on the crew's phone -------------------------------------------------
        phone.open()
        phone.sign_in(theft["crew"], PASSWORD)
        phone.see(code, timeout=30_000)
        phone.page.get_by_role("button", name=re.compile(code)).first.click()
        phone.see("Usage inspection")
        phone.tap("Accept", exact=True)
        phone.tap("Arrive (GPS)", settle=1.0)
        phone.see("On site")
        phone.see("All synced", timeout=30_000)

        # -- no signal: the crew records tampering found ------------------------------------
        api.stop()
        phone.see(re.compile("Offline"), timeout=20_000)
        phone.tap("Record finding", exact=True, settle=1.0)
        phone.page.get_by_role("radio", name="Tampering found").click()
        time.sleep(0.6)
        phone.fill("What was seen", "Bypass cable before the meter; seal broken")
        phone.fill("Register reading (kWh)", "1520.40")
        photo = jpeg(tmp_path / "bypass.jpg", text="bypass")
        with phone.page.expect_file_chooser() as chooser:
            phone.tap("Choose photo", exact=True, settle=0.1)
        chooser.value.set_files(str(photo))
        time.sleep(1.5)
        phone.shot("finding-form")
        phone.tap("Save finding", exact=True, settle=1.0)
        phone.see("Resolved")
        phone.see("Tampering found")
        phone.see(re.compile(r"\d+ pending"))
        phone.shot("finding-saved-offline")

        # -- the signal comes back: the phone syncs, the desk shows the finding ------------
        api.start()
        phone.see("All synced", timeout=40_000)
        with api.client("manager1") as c:
            found = c.get(f"/api/v1/work-orders/{job['id']}/inspection").json()["finding"]
            assert found["outcome"] == "tampering" and len(found["photos"]) == 1
            assert found["register_kwh"] == "1520.40"
            follow = c.get(f"/api/v1/work-orders/{found['follow_up_work_order_id']}").json()
            assert follow["priority"] == "high" and follow["status"] == "reported"
        office.see("Tampering found", timeout=30_000)  # the live feed reloaded the area
        office.see(follow["code"])
        office.shot("area-finding")
        office.tap("Back to the areas", settle=1.0)
        office.page.get_by_role("checkbox", name="Anomalies").click()  # the desk's tabs
        time.sleep(1.0)
        office.see("Anomalies, their jobs and findings")
        office.see("Tampering found")
        office.shot("anomalies")
        # the customer's own app shows nothing of it
        with api.client("customer1") as c:
            mine = c.get("/api/v1/work-orders").json()["items"]
        assert {job["id"], follow["id"]}.isdisjoint(o["id"] for o in mine)
        assert office.errors == [], office.errors
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        api.ensure_up()
        office.close()
        phone.close()


def test_the_monitoring_desk_and_the_finding_form_in_chinese(
        api: ApiServer, desk_app: str, browser: Any, theft: dict[str, Any],  # noqa: F811
        e2e_dir: Path) -> None:
    office = Office(browser, desk_app, "mon-manager-zh")
    job = dispatched_job(api, kind="usage_inspection", assignee="crew1",
                         description="【用电检查】请核查电表 MTR-M1-0001 的计量装置与封印")
    with api.client("crew1") as c:
        for action, body in (("accept", {}), ("arrive", {"gps": None})):
            c.post(f"/api/v1/work-orders/{job['id']}/{action}", json=body).raise_for_status()
    phone = Phone(browser, desk_app, "mon-crew-zh", locale="zh-CN", geolocation=GPS)
    phone.page.set_viewport_size(PHONE)
    try:
        office.open()
        office.sign_in_office("manager1", PASSWORD)
        office.tap("中文", exact=True, settle=1.0)  # the desk's language switch
        office.rail("电网监测")
        office.see(re.compile(r"台区（20\d\d-"))
        office.see("高损")
        office.shot("overview-zh")
        office.tap("TA-town", exact=True, settle=1.5)
        office.see("台区电表（可疑度高者在前）")
        office.see("线损率趋势")
        office.shot("area-zh")
        office.page.get_by_role("checkbox", name="采集").click()
        time.sleep(1.0)
        office.see("采集成功率热力图（台区 × 日）")
        office.shot("collection-zh")

        phone.open(ready=re.compile("登录"))
        phone.sign_in(*("crew1", PASSWORD), labels=("用户名", "密码", "登录"))
        phone.see(job["code"], timeout=30_000)
        phone.page.get_by_role("button", name=re.compile(job["code"])).first.click()
        phone.tap("录入检查结果", exact=True, settle=1.0)
        phone.page.get_by_role("radio", name="电表正常").click()
        time.sleep(0.4)
        phone.shot("finding-form-zh")
        phone.tap("保存检查结果", exact=True, settle=1.0)
        phone.see("已处理")
        phone.see("电表正常")
        phone.shot("finding-saved-zh")
        assert office.errors == [], office.errors
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        office.close()
        phone.close()
