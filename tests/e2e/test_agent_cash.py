"""An agent records a field cash recharge with no signal: the customer's name, address and
balance show for the account typed (from the phone's data); a receipt screen follows; it
shows pending; when the signal comes back it syncs by itself and the account is credited
exactly once (re-entering the same paper receipt says "already recorded"). At the end of
the day the station counter confirms the hand-over with a discrepancy (50 fen short, with
a note) and the phone says so: recorded vs counted and the counter's note. A purchase-count
correction is sent for a manager's approval (four eyes): the phone says so, shows it
waiting, and shows the new count once the manager approved it; opened again, the
correction screen lists the request as approved (offline, it says that list needs a
connection).

The same screens in Chinese follow (cash entry with the customer, receipt, hand-over with
a receipt taken after the counter's confirmation, purchase-count correction and the list
of requests), at phone size, screenshots kept for review (``look``)."""

from __future__ import annotations

import re
from typing import Any

from shared.ids import new_id
from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone, look
from tests.e2e.test_recharge import account, balance, ledger
from tests.e2e.world import dispatched_job
from tests.factories import PASSWORD


def approve_count(api: ApiServer, account_id: str, new_count: int) -> None:
    """The station manager approves the agent's pending purchase-count correction."""
    with api.client("manager1") as manager:
        pending = manager.get("/api/v1/supervision/approvals", params={
            "status": "pending", "kind": "purchase_count"}).json()["items"]
        (req,) = [r for r in pending if r["account_id"] == account_id]
        assert (req["new_count"], req["requested_by_name"]) == (new_count, "Agent1")
        r = manager.post(f"/api/v1/supervision/approvals/{req['id']}/approve", json={})
        assert r.status_code == 200 and r.json()["status"] == "approved", r.text


SHORT_NOTE = "50 fen short in the bag; the agent is told"


def confirm_today_short(api: ApiServer, account_id: str) -> None:
    """The station counter confirms Agent1's cash of today (once), counting 50 fen less
    than recorded and explaining it in a note; a receipt is recorded first when the agent
    has none today (this test run alone)."""
    with api.client("manager1") as counter:
        mine = next((r for r in counter.get("/api/v1/billing/cash-handovers").json()
                     if r["agent_name"] == "Agent1"), None)
        if mine is None:
            with api.client("agent1") as agent:
                r = agent.post("/api/v1/billing/cash-recharges", json={
                    "id": new_id(), "account_id": account_id, "amount_fen": 8850,
                    "receipt_no": "R-2026-000123"})
                assert r.status_code == 201, r.text
            mine = next(r for r in counter.get("/api/v1/billing/cash-handovers").json()
                        if r["agent_name"] == "Agent1")
        if mine["confirmed_by_name"] is None:
            r = counter.post("/api/v1/billing/cash-handovers", json={
                "agent_id": mine["agent_id"], "day": mine["day"],
                "receipt_count": mine["count"], "total_fen": mine["total_fen"] - 50,
                "note": SHORT_NOTE})
            assert r.status_code == 201, r.text


def scroll_down(phone: Phone) -> None:
    phone.page.mouse.move(195, 500)
    phone.page.mouse.wheel(0, 600)


def test_an_agent_records_cash_offline_and_it_is_credited_once_after_sync(
        api: ApiServer, app_url: str, browser: Any) -> None:
    acc = account(api, "Customer acc2")
    # a visit on the agent's round: the account is on their phone
    dispatched_job(api, kind="usage_inspection", assignee="agent1",
                   description="Collect the quarterly cash payment", account_name="Customer acc2")
    before = balance(api, acc["id"])
    phone = Phone(browser, app_url, "agent")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.open()
        phone.sign_in("agent1", PASSWORD)
        phone.see("Today's cash")
        phone.see(acc["account_no"])  # the accounts on this phone, as a hint
        phone.see("Online")
        phone.shot("cash-tab")

        api.stop()
        phone.see(re.compile("Offline"), timeout=20_000)
        phone.fill("Account number", acc["account_no"])
        phone.see(re.compile(r"Customer acc2 · acc2 Road 1 · balance ¥"))  # offline
        look(phone, "en-agent-customer-shown")
        phone.fill("Amount (yuan)", "88.50")
        phone.fill("Receipt number", "R-2026-000123")
        phone.tap("Record cash recharge", exact=True, settle=1.0)
        phone.see("Cash receipt")
        phone.see("R-2026-000123")
        phone.see("¥88.50")
        phone.see("Agent1")
        look(phone, "en-agent-receipt")
        phone.tap("Done", exact=True)
        phone.see("1 pending")
        phone.see(re.compile(r"Receipts: 1 · total ¥88\.50"))
        phone.see("1 not uploaded yet")
        phone.see("Pending")
        phone.shot("cash-offline-pending")
        # the same paper receipt typed in again (a double entry): nothing new
        phone.fill("Account number", acc["account_no"])
        phone.fill("Amount (yuan)", "88.50")
        phone.fill("Receipt number", "R-2026-000123")
        phone.tap("Record cash recharge", exact=True, settle=1.0)
        phone.see("Already recorded: not charged twice")
        look(phone, "en-agent-already-recorded")
        phone.tap("Done", exact=True)
        phone.see("1 pending")
        # the correction screen offline: its list of requests needs a connection
        phone.tap("Correct a purchase count", exact=True, settle=1.0)
        phone.see("Your requests and their approval are listed when the phone is online.")
        look(phone, "en-count-fix-offline")
        phone.tab("Cash")

        api.start()
        phone.see("All synced", timeout=40_000)
        phone.see("Credited", timeout=20_000)
        phone.gone("1 not uploaded yet")
        phone.see(re.compile(r"Receipts: 1 · total ¥88\.50"))
        phone.see("Waiting for the counter to confirm")
        confirm_today_short(api, acc["id"])  # counted 50 fen less, with a note
        phone.see("Confirmed with a discrepancy (Manager1)", timeout=30_000)
        phone.see("Recorded 1 receipt, ¥88.50; counted 1 receipt, ¥88.00; "
                  "difference -¥0.50")
        phone.see(f"Counter's note: {SHORT_NOTE}")
        phone.gone("Confirmed by the counter (Manager1)", timeout=1_000)
        scroll_down(phone)
        look(phone, "en-agent-handover")
        phone.tap("Correct a purchase count", exact=True, settle=1.0)
        phone.fill("Meter or account number", acc["account_no"])
        phone.see("Current purchase count")
        count = int(re.search(r"Current purchase count: (\d+)", phone.snapshot()).group(1))
        phone.fill("New purchase count", str(count + 5))
        phone.fill("Reason", "Card re-issued at the counter")
        phone.tap("Submit correction", exact=True, settle=1.0)
        # four eyes: sent for a manager's approval; the meter keeps its count meanwhile
        phone.see("Sent for approval")
        phone.see("Waiting for approval")
        phone.see(re.compile(rf"\b{count}\s*→?\s*{count + 5}\b"))
        phone.see(f"Current purchase count: {count}")
        look(phone, "en-count-fix-sent")
        phone.tap("Submit correction", exact=True, settle=1.0)  # tapped again: not twice
        phone.see("Already waiting for approval: not sent twice")
        approve_count(api, acc["id"], count + 5)
        phone.see(f"Current purchase count: {count + 5}", timeout=30_000)  # pulled
        phone.see(f"Approved: the purchase count is now {count + 5}")
        phone.see("Decided by Manager1")  # the list, asked again, names who approved
        look(phone, "en-count-fix-approved")
        # left and opened again: the request is still there, with its decision
        phone.tab("Cash")
        phone.tap("Correct a purchase count", exact=True, settle=1.0)
        phone.see("My correction requests")
        phone.see(re.compile(rf"\S+\s+{count}\s*→?\s*{count + 5}\b"))
        phone.see("Decided by Manager1")
        look(phone, "en-count-fix-requests")
    finally:
        phone.close()
    after = balance(api, acc["id"])
    assert after["balance_fen"] == before["balance_fen"] + 8850 == after["ledger_sum_fen"]
    cash = [e for e in ledger(api, acc["id"]) if e["kind"] == "recharge_cash"]
    assert len(cash) == 1 and cash[0]["amount_fen"] == 8850
    assert after["purchase_count"] == before["purchase_count"] + 1 + 5


ZH_LOGIN = ("用户名", "密码", "登录")
ZHANG_WEI = "7700000100"  # 张伟, 城关镇解放路 18 号: station 1, on the agent's phone


def test_the_agents_screens_in_chinese(api: ApiServer, app_url: str, browser: Any) -> None:
    """Cash entry with the customer's name, address and balance; the receipt; a receipt
    entered again; the hand-over; the purchase-count correction sent for approval and
    then approved — all in Chinese at 390 px (each ``look``ed at by the reviewers)."""
    acc = account(api, "Customer acc2")
    phone = Phone(browser, app_url, "zh-agent", locale="zh-CN")
    phone.page.set_viewport_size({"width": 390, "height": 844})
    try:
        phone.open()
        phone.sign_in("agent1", PASSWORD, labels=ZH_LOGIN)
        phone.see("今日现金汇总")
        confirm_today_short(api, acc["id"])  # the cash below comes after it
        phone.fill("户号", ZHANG_WEI)
        phone.see(re.compile(r"张伟 · 城关镇解放路 18 号 · 余额 ¥\d"))
        look(phone, "zh-agent-customer-shown")
        phone.fill("户号", acc["account_no"])
        phone.see(re.compile(r"Customer acc2 · acc2 Road 1 · 余额 ¥"))
        phone.fill("充值金额（元）", "66")
        phone.fill("收据号", "R-2026-000777")
        phone.tap("记录现金充值", exact=True, settle=1.0)
        phone.see("现金收据")
        phone.see("R-2026-000777")
        phone.see("¥66.00")
        phone.see("收费员")
        look(phone, "zh-agent-receipt")
        phone.tap("完成", exact=True)
        phone.fill("户号", acc["account_no"])
        phone.fill("充值金额（元）", "66")
        phone.fill("收据号", "R-2026-000777")
        phone.tap("记录现金充值", exact=True, settle=1.0)
        phone.see("该收据已记录，未重复收费")
        look(phone, "zh-agent-already-recorded")
        phone.tap("完成", exact=True)
        phone.see("已入账", timeout=40_000)  # synced
        phone.see("交款汇总")
        phone.see(re.compile(r"\d{4}-\d{2}-\d{2}：\d+ 笔，合计 ¥"))
        phone.see("营业厅已确认，有差异（Manager1）", timeout=30_000)
        phone.see(f"营业厅说明：{SHORT_NOTE}")
        phone.see("1 笔尚未交款，共 ¥66.00")  # taken after the counter's confirmation
        scroll_down(phone)
        look(phone, "zh-agent-handover")

        phone.tap("更正购电次数", exact=True, settle=1.0)
        phone.see("购电次数更正")
        phone.fill("表号或户号", ZHANG_WEI)
        phone.see("当前购电次数")
        count = int(re.search(r"当前购电次数：(\d+)", phone.snapshot()).group(1))
        phone.fill("新的购电次数", str(count + 1))
        phone.fill("原因", "补录一次购电卡充值")
        phone.see("提交后须由所长审批，批准后才生效。")
        phone.tap("提交更正", exact=True, settle=1.0)
        phone.see("已提交审批")
        phone.see("待审批")
        phone.see(f"当前购电次数：{count}")  # not changed before the approval
        look(phone, "zh-count-fix-sent")
        phone.tap("提交更正", exact=True, settle=1.0)
        phone.see("该更正已在等待审批，未重复提交")
        look(phone, "zh-count-fix-already-waiting")
        zhang = next(a for a in api_accounts(api) if a["account_no"] == ZHANG_WEI)
        approve_count(api, zhang["id"], count + 1)
        phone.see(f"当前购电次数：{count + 1}", timeout=30_000)
        phone.see(f"已批准：购电次数现为 {count + 1}")
        look(phone, "zh-count-fix-approved")
        phone.tab("收费")
        phone.tap("更正购电次数", exact=True, settle=1.0)
        phone.see("我的更正申请")
        phone.see(re.compile(rf"\S+\s+{count}\s*→?\s*{count + 1}\b"))
        phone.see(re.compile(r"Manager1 于 .* 审批"))
        look(phone, "zh-count-fix-requests")
    finally:
        phone.close()


def api_accounts(api: ApiServer) -> list[dict[str, Any]]:
    with api.client("admin") as c:
        return c.get("/api/v1/accounts", params={"limit": 100}).json()["items"]  # type: ignore[no-any-return]
