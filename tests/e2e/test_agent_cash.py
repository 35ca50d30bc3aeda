"""An agent records a field cash recharge with no signal: the customer's name, address and
balance show for the account typed (from the phone's data); a receipt screen follows; it
shows pending; when the signal comes back it syncs by itself and the account is credited
exactly once (re-entering the same paper receipt says "already recorded"). At the end of
the day the station counter confirms the hand-over and the phone shows it."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone, look
from tests.e2e.test_recharge import account, balance, ledger
from tests.e2e.world import dispatched_job
from tests.factories import PASSWORD


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

        api.start()
        phone.see("All synced", timeout=40_000)
        phone.see("Credited", timeout=20_000)
        phone.gone("1 not uploaded yet")
        phone.see(re.compile(r"Receipts: 1 · total ¥88\.50"))
        phone.see("Waiting for the counter to confirm")
        with api.client("manager1") as counter:
            sheet = counter.get("/api/v1/billing/cash-handovers").json()
            mine = next(r for r in sheet if r["agent_name"] == "Agent1")
            r = counter.post("/api/v1/billing/cash-handovers", json={
                "agent_id": mine["agent_id"], "day": mine["day"],
                "receipt_count": mine["count"], "total_fen": mine["total_fen"]})
            assert r.status_code == 201, r.text
        phone.see("Confirmed by the counter (Manager1)", timeout=30_000)
        look(phone, "en-agent-handover")
        phone.tap("Correct a purchase count", exact=True, settle=1.0)
        phone.fill("Meter or account number", acc["account_no"])
        phone.see("Current purchase count")
        count = int(re.search(r"Current purchase count: (\d+)", phone.snapshot()).group(1))
        phone.fill("New purchase count", str(count + 5))
        phone.fill("Reason", "Card re-issued at the counter")
        phone.tap("Submit correction", exact=True, settle=1.0)
        phone.see(f"Current purchase count: {count + 5}")  # updated at once
        phone.see(re.compile(rf"Corrected:\s*{count}\s*→?\s*{count + 5}"))
        look(phone, "en-count-fix")
    finally:
        phone.close()
    after = balance(api, acc["id"])
    assert after["balance_fen"] == before["balance_fen"] + 8850 == after["ledger_sum_fen"]
    cash = [e for e in ledger(api, acc["id"]) if e["kind"] == "recharge_cash"]
    assert len(cash) == 1 and cash[0]["amount_fen"] == 8850
    assert after["purchase_count"] == before["purchase_count"] + 1 + 5
