"""The desk's Outages and Cash hand-over pages in the browser (desktop viewport).

A dispatcher publishes a planned outage for the town area (areas, times typed, a reason),
sees it listed — and the area's customers are told (checked through the API: what the
customer's phone shows of a notice is covered by ``tests/e2e/test_customer_notices.py``).
Cancelling it opens a dialog that will not cancel without a reason; after a switch to
Chinese the page's last message is in Chinese; the cancellation, with its reason, reaches
the customers. A manager opens the day's cash sheet, enters what was counted for an
agent's day (6 yuan short), is asked for a note, and confirms it "with a discrepancy":
recorded vs counted shown, in English and in Chinese, messages re-worded on each switch."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.office.board_kit import Office, desk_app  # noqa: F401
from tests.factories import PASSWORD

RECEIPT = "R-E2E-DESK-0001"


def notified(api: ApiServer, username: str, reason: str) -> list[str]:
    """The kinds of ``username``'s notifications that mention ``reason``."""
    with api.client(username) as c:
        notes = c.get("/api/v1/notifications").json()
    return [n["kind"] for n in notes if reason in n["body_en"]]


def test_a_dispatcher_publishes_a_planned_outage_and_cancels_it_with_a_reason(
        api: ApiServer, desk_app: str, browser: Any) -> None:  # noqa: F811
    from shared.timeutil import LOCAL_TZ, utcnow

    day = (utcnow().astimezone(LOCAL_TZ) + timedelta(days=2)).date().isoformat()
    start, end = f"{day} 08:30", f"{day} 12:00"
    reason = "Replacing the town transformer's 10 kV switch"
    why = "The switch arrives late, the works move to next month"
    office = Office(browser, desk_app, "outage-dispatcher1")
    try:
        office.open()
        office.sign_in_office("dispatcher1", PASSWORD)
        office.rail("Outages")
        office.see("Publish a planned outage")
        office.page.get_by_role("checkbox", name="Area town").click()
        time.sleep(0.4)
        office.fill("From (YYYY-MM-DD HH:MM)", start)
        office.fill("To (YYYY-MM-DD HH:MM)", end)
        office.fill("Reason", reason)
        office.tap("Publish and tell the customers", exact=True, settle=1.5)
        office.see(re.compile(r"Published: [1-9]\d* accounts told"))
        told = int(re.search(r"Published: (\d+) accounts told", office.snapshot()).group(1))
        office.see(f"{start} – {end}")
        office.see(reason)
        office.shot("outage-published")
        # the town's customers were told (customer1's account is in the town area)
        assert notified(api, "customer1", reason) == ["outage_planned"]

        # Cancelling asks why, and will not go on without a reason.
        row = office.page.get_by_role("row", name=re.compile(re.escape(reason)))
        row.get_by_role("button", name="Cancel notice").click()
        office.see("Cancel a planned outage")
        office.see("the customers told of the outage read it in their notice")
        office.tap("Cancel the notice", exact=True, settle=0.8)
        office.see("Give the reason for cancelling (2–300 characters)")
        office.shot("outage-cancel-dialog-en")
        office.tap("Keep the notice", exact=True, settle=0.8)
        office.gone("Cancel a planned outage")

        office.tap("中文", exact=True, settle=1.0)
        office.see("发布计划停电通知")
        office.see(f"已发布，已通知 {told} 户")  # the last message, now in Chinese
        office.gone(re.compile(r"Published: \d+ accounts told"))
        office.shot("outage-message-zh")
        row = office.page.get_by_role("row", name=re.compile(re.escape(reason)))
        row.get_by_role("button", name="取消通知").click()
        office.see("取消停电通知")
        office.tap("确认取消", exact=True, settle=0.8)
        office.see("请填写取消停电的原因（2–300 个字）")
        office.fill("取消原因（必填）", why)
        office.gone("请填写取消停电的原因（2–300 个字）")  # typing clears the refusal
        office.shot("outage-cancel-dialog-zh")
        office.tap("确认取消", exact=True, settle=1.5)
        office.see("已取消 Area town 的停电通知，已告知客户取消原因")
        office.see(f"已取消：{why}")
        office.shot("outage-cancelled-zh")
        with api.client("dispatcher1") as c:
            mine = [o for o in c.get("/api/v1/outages").json() if o["reason"] == reason]
        assert [(o["status"], o["cancel_reason"]) for o in mine] == [("cancelled", why)]
        with api.client("customer1") as c:
            newest = c.get("/api/v1/notifications").json()[0]
        assert newest["kind"] == "outage_cancelled" and "Area town" in newest["body_en"]
        assert newest["body_en"].endswith(f"is cancelled: {why}.")
        assert newest["body_zh"].endswith(f"原因：{why}。")

        office.tap("EN", exact=True, settle=1.0)
        office.see("Notice for Area town cancelled; the customers are told why")
        office.gone("已告知客户取消原因")
        office.see(f"Cancelled: {why}")
        office.shot("outage-cancelled-en")
        assert office.errors == []
    finally:
        office.close()


#: A field agent of station 1 and a customer of hers that only this test uses: cash moves a
#: balance and shows on the agent's phone, and the other tests count on theirs.
AGENT, AGENT_NAME = "agent1c", "Li Na"
ACCOUNT_NO = "7700000300"


def add_agent_and_customer(api: ApiServer) -> None:
    """Written into the stopped server's database, as the world's own helpers do (the API
    is started again before the browser opens)."""
    from sqlmodel import Session, select

    from server.auth.security import hash_password
    from server.customers.models import Account
    from server.db import make_database
    from server.stations.models import TransformerArea
    from server.users.models import User
    from shared.enums import Role

    api.stop()
    db = make_database(f"sqlite:///{api.data_dir / 'gridone.db'}")
    try:
        with Session(db.writer) as s:
            if s.exec(select(User).where(User.username == AGENT)).first() is None:
                town = s.exec(select(TransformerArea).where(
                    TransformerArea.code == "TA-town")).one()
                s.add(User(username=AGENT, password_hash=hash_password(PASSWORD),
                           role=Role.AGENT, display_name=AGENT_NAME, phone="13800000009",
                           station_id=town.station_id))
                s.add(Account(account_no=ACCOUNT_NO, name="王芳", phone="13807300009",
                              address="城关镇东风路 6 号", lat=27.8, lon=112.9,
                              station_id=town.station_id, area_id=town.id, balance_fen=3000))
                s.commit()
    finally:
        db.dispose()
        api.start()


def test_a_manager_enters_the_counted_cash_and_confirms_a_discrepancy_with_a_note(
        api: ApiServer, desk_app: str, browser: Any) -> None:  # noqa: F811
    from shared.ids import new_id
    from shared.timeutil import LOCAL_TZ, utcnow

    add_agent_and_customer(api)
    with api.client(AGENT) as c:  # as her phone sends it (the recharge.cash@1 op's twin)
        acc = c.get("/api/v1/customers/search", params={"q": ACCOUNT_NO}).json()["items"][0]
        r = c.post("/api/v1/billing/cash-recharges", json={
            "id": new_id(), "account_id": acc["id"], "amount_fen": 6600,
            "receipt_no": RECEIPT})
        assert r.status_code == 201, r.text
    today = utcnow().astimezone(LOCAL_TZ).date().isoformat()
    note = "One ¥6 note missing from the bag; the agent is told"
    office = Office(browser, desk_app, "cash-manager1")
    try:
        office.open()
        office.sign_in_office("manager1", PASSWORD)
        office.rail("Cash hand-over")
        office.see(today)
        office.see(AGENT_NAME)
        office.see(f"{today}: 1 receipt, total ¥66.00")
        office.see(f"{RECEIPT} {ACCOUNT_NO} ¥66.00")
        office.see("Enter the receipts and the cash you counted")
        # hers is the only day waiting for a count
        assert office.page.get_by_role("textbox", name="Receipts counted").count() == 1
        office.fill("Receipts counted", "1")
        office.fill("Cash counted (yuan)", "60")
        office.see("Does not match the records: recorded 1 receipt, ¥66.00, counted "
                   "1 receipt, ¥60.00, difference -¥6.00.")
        office.tap("Confirm with a discrepancy", exact=True, settle=1.0)
        office.see("Explain the difference here (4–200 characters) to confirm")
        office.shot("cash-counted-en")

        office.tap("中文", exact=True, settle=1.0)
        office.see("与记录不符：记录 1 笔 ¥66.00，清点 1 笔 ¥60.00，差额 -¥6.00。")
        office.see("请填写差异说明（4–200 个字）后再确认")
        office.gone("Explain the difference here")
        office.fill("差异说明（必填）", note)
        office.shot("cash-counted-zh")
        office.tap("按有差异确认", exact=True, settle=1.5)
        office.see(f"已按有差异确认 {AGENT_NAME} 的交款")
        office.see("营业厅已按有差异确认（Manager1）")
        office.see("记录 1 笔 ¥66.00；清点 1 笔 ¥60.00；差额 -¥6.00")
        office.see(f"差异说明：{note}")
        assert office.button("按有差异确认", exact=True).count() == 0  # done: no form
        office.shot("cash-discrepancy-zh")
        with api.client("manager1") as c:
            sheet = c.get("/api/v1/billing/cash-handovers", params={"day": today}).json()
        (row,) = [r for r in sheet if r["agent_name"] == AGENT_NAME]
        assert (row["count"], row["total_fen"], row["counted_fen"], row["discrepancy"],
                row["note"], row["confirmed_by_name"]) == (1, 6600, 6000, True, note,
                                                           "Manager1")

        office.tap("EN", exact=True, settle=1.0)
        office.see(f"Hand-over of {AGENT_NAME} confirmed with a discrepancy")
        office.gone("已按有差异确认")
        office.see("Confirmed by the counter with a discrepancy (Manager1)")
        office.see("Recorded 1 receipt, ¥66.00; counted 1 receipt, ¥60.00; difference -¥6.00")
        office.shot("cash-discrepancy-en")
        assert office.errors == []
    finally:
        office.close()
