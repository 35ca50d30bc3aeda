"""An agent records a field cash recharge with no signal: it shows pending on the phone;
when the signal comes back it syncs by itself and the account is credited exactly once
(re-entering the same paper receipt changes nothing)."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import Phone
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
        phone.fill("Amount (yuan)", "88.50")
        phone.fill("Receipt number", "R-2026-000123")
        phone.tap("Record cash recharge", exact=True, settle=1.0)
        phone.see("Recorded; it uploads automatically")
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
        phone.see("1 pending")

        api.start()
        phone.see("All synced", timeout=40_000)
        phone.see("Credited", timeout=20_000)
        phone.gone("1 not uploaded yet")
        phone.see(re.compile(r"Receipts: 1 · total ¥88\.50"))
        phone.shot("cash-synced")
        phone.tap("Correct a purchase count", exact=True, settle=1.0)
        phone.fill("Meter or account number", acc["account_no"])
        phone.see("Current purchase count")
        phone.shot("count-fix")
    finally:
        phone.close()
    after = balance(api, acc["id"])
    assert after["balance_fen"] == before["balance_fen"] + 8850 == after["ledger_sum_fen"]
    cash = [e for e in ledger(api, acc["id"]) if e["kind"] == "recharge_cash"]
    assert len(cash) == 1 and cash[0]["amount_fen"] == 8850
    assert after["purchase_count"] == before["purchase_count"] + 1
