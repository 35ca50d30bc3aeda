"""The care list in the browser (desktop viewport): a counter clerk asks to add 张伟
(home medical equipment, a review date) — the form first says what is missing in its
fields —, cannot approve her own request (the server's message shows on it), a manager
approves and the entry shows with both names; the manager (in Chinese) asks to take him
off again and the clerk approves that."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office, desk_app, python_errors  # noqa: F401
from tests.factories import PASSWORD

ZW_NO = "7700000100"


def on_care_list(api: ApiServer) -> tuple[bool, list[str]]:
    """张伟's care flag, and the care-list audit actions recorded on his account."""
    with api.client("manager1") as c:
        acc = c.get("/api/v1/customers/search", params={"q": ZW_NO}).json()["items"][0]
        entries = c.get("/api/v1/care/entries").json()
        audit = c.get("/api/v1/supervision/audit", params={"account": ZW_NO, "kind": "care",
                                                            "limit": 50}).json()
    listed = any(e["account_no"] == ZW_NO for e in entries)
    assert listed == acc["care_flag"]
    return listed, [a["action"] for a in audit["items"]]


def test_the_care_list_takes_two_people_to_add_and_to_remove(
        api: ApiServer, desk_app: str, browser: Any, e2e_dir: Path) -> None:  # noqa: F811
    from shared.timeutil import LOCAL_TZ, utcnow

    today = utcnow().astimezone(LOCAL_TZ).date()
    review = (today + timedelta(days=90)).isoformat()
    clerk = Office(browser, desk_app, "care-agent1")
    manager = Office(browser, desk_app, "care-manager1")
    try:
        clerk.open()
        clerk.sign_in_office("agent1", PASSWORD, ready="Hotline report")
        clerk.rail("Care list")
        clerk.see("Add to the care list")
        clerk.fill("Account no.", ZW_NO)
        clerk.tap("Look up", exact=True, settle=1.0)
        clerk.see(f"{ZW_NO} 张伟 · 城关镇解放路 18 号")
        # nothing chosen, no reason, a review date in the past: said in the fields
        clerk.fill("Review date (YYYY-MM-DD)", (today - timedelta(days=3)).isoformat())
        clerk.tap("Ask to add", exact=True, settle=1.0)
        clerk.see("Choose a category")
        clerk.see("Give a reason (at most 200 characters)")
        clerk.see("The review date must be after today")
        clerk.shot("care-field-errors")

        clerk.page.get_by_role("radio", name="Home medical equipment").click()
        time.sleep(0.4)
        clerk.fill("Reason", "Oxygen concentrator at home")
        clerk.fill("Review date (YYYY-MM-DD)", review)
        clerk.tap("Ask to add", exact=True, settle=1.0)
        clerk.see("Recorded: it takes effect when another person approves it")
        clerk.see(f"Add to list · {ZW_NO} 张伟 · Home medical equipment · Review date {review}")
        clerk.gone("Choose a category")
        clerk.tap("Approve", exact=True, settle=1.0)
        clerk.see("You cannot approve your own request: another person must.")
        clerk.shot("care-own-refused")
        assert on_care_list(api) == (False, ["care.request_add"])

        manager.open()
        manager.sign_in_office("manager1", PASSWORD)
        manager.rail("Care list")
        manager.see("Reason: Oxygen concentrator at home")
        manager.see("Asked by: Agent1")
        manager.tap("Approve", exact=True, settle=1.0)
        manager.see(f"Approved: {ZW_NO} 张伟 is on the care list")
        manager.see("On the care list (1)")
        manager.see("Home medical equipment")
        manager.see(review)
        manager.shot("care-approved")
        listed, actions = on_care_list(api)
        assert listed and actions.count("care.add") == 1
        with api.client("manager1") as c:
            (entry,) = [e for e in c.get("/api/v1/care/entries").json()
                        if e["account_no"] == ZW_NO]
        assert (entry["category"], entry["review_on"]) == ("medical_equipment", review)

        # the manager, in Chinese, asks to take him off; the clerk approves
        manager.tap("中文", exact=True, settle=1.0)
        manager.see("关怀名单（1 户）")
        manager.fill("按户号或姓名筛选", ZW_NO)
        manager.tap("移出名单", exact=True, settle=0.8)
        manager.see("移出关怀名单")
        manager.fill("原因", "已随女儿迁居城区")
        manager.shot("care-remove-form-zh")
        manager.tap("提交移出申请", exact=True, settle=1.0)
        manager.see("已提交：须由另一人审批后生效")
        manager.see(f"移出名单 · {ZW_NO} 张伟")
        manager.shot("care-remove-asked-zh")

        clerk.tap("Refresh", exact=True, settle=1.0)
        clerk.see("Reason: 已随女儿迁居城区")
        clerk.see("Asked by: Manager1")
        clerk.tap("Approve", exact=True, settle=1.0)
        clerk.see(f"Approved: {ZW_NO} 张伟 is off the care list")
        clerk.see("Nobody is on the list")
        clerk.shot("care-removed")
        listed, actions = on_care_list(api)
        assert not listed and actions.count("care.remove") == 1

        manager.tap("刷新", exact=True, settle=1.0)
        manager.see("名单中没有用户")
        manager.page.get_by_role("checkbox", name="全部", exact=True).click()  # decided too
        time.sleep(1.0)
        manager.see("已批准")
        manager.shot("care-history-zh")
        assert clerk.errors == [] and manager.errors == []
        assert python_errors(e2e_dir / "desk-app.log") == []
    finally:
        clerk.close()
        manager.close()
