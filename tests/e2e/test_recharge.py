"""A customer recharges online through the sandbox provider: picks an amount, pays on the
provider's page (a new browser tab), watches pending -> paid -> credited, gets a receipt
and sees the new balance; the account is credited exactly once."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

from tests.e2e.conftest import ApiServer
from tests.e2e.phone import REVIEW_SHOTS, Phone
from tests.factories import PASSWORD


def account(api: ApiServer, name: str) -> dict[str, Any]:
    with api.client("admin") as c:
        items = c.get("/api/v1/accounts", params={"limit": 100}).json()["items"]
    return next(a for a in items if a["name"] == name)


def balance(api: ApiServer, account_id: str) -> dict[str, Any]:
    with api.client("admin") as c:
        r = c.get(f"/api/v1/billing/accounts/{account_id}/balance")
        r.raise_for_status()
        return r.json()  # type: ignore[no-any-return]


def ledger(api: ApiServer, account_id: str) -> list[dict[str, Any]]:
    with api.client("admin") as c:
        r = c.get(f"/api/v1/billing/accounts/{account_id}/ledger", params={"limit": 200})
        r.raise_for_status()
        return r.json()["items"]  # type: ignore[no-any-return]


def test_a_customer_recharges_through_the_sandbox_and_sees_the_new_balance(
        api: ApiServer, app_url: str, browser: Any) -> None:
    acc = account(api, "Customer acc3")
    before = balance(api, acc["id"])["balance_fen"]
    phone = Phone(browser, app_url, "recharge")
    try:
        phone.open()
        phone.sign_in("customer3", PASSWORD)
        phone.see(acc["account_no"])
        phone.see("Balance OK")
        phone.shot("balance-card")
        phone.tap("Recharge", exact=True, settle=1.0)
        phone.fill("Amount (yuan)", "5000.01")
        phone.tap("Pay online", exact=True)
        phone.see("Enter 1–5,000 yuan, at most two decimals")
        phone.shot("recharge-amount-refused")
        phone.fill("Amount (yuan)", "100")
        with phone.context.expect_page(timeout=20_000) as popup:
            phone.tap("Pay online", exact=True, settle=0.2)
        pay = popup.value
        pay.wait_for_load_state()
        expect(pay.get_by_text("¥100.00")).to_be_visible()
        # the provider's page fits a phone: nothing wider than the screen, big buttons
        pay.set_viewport_size({"width": 390, "height": 844})
        assert pay.evaluate("document.documentElement.scrollWidth") <= 390
        assert pay.locator("#approve").bounding_box()["width"] > 300
        REVIEW_SHOTS.mkdir(parents=True, exist_ok=True)
        pay.screenshot(path=str(REVIEW_SHOTS / "sandbox-pay-390.png"))
        phone.page.bring_to_front()
        phone.see("Pending")
        phone.see("Open payment page")
        phone.shot("recharge-pending")
        pay.bring_to_front()
        pay.locator("#approve").click()
        expect(pay.locator("#status")).to_have_text(re.compile("approved|paid"))
        pay.close()
        phone.page.bring_to_front()
        phone.see("Credited", timeout=20_000)
        phone.see("Receipt")
        phone.see(re.compile(r"Balance after\s*¥150\.00|¥150\.00"))
        phone.shot("recharge-receipt")
        phone.tap("Done", exact=True, settle=1.0)
        phone.see("¥150.00", timeout=20_000)  # the card, after the sync the credit kicked
        phone.shot("balance-after")
        phone.tap("History", exact=True, settle=1.0)
        phone.see("Online recharge")
        phone.see("+¥100.00")
        phone.shot("history")
        phone.tab("Inbox")
        phone.shot("inbox")
    finally:
        phone.close()
    time.sleep(0.5)
    after = balance(api, acc["id"])
    assert after["balance_fen"] == before + 10000 == after["ledger_sum_fen"]
    online = [e for e in ledger(api, acc["id"]) if e["kind"] == "recharge_online"]
    assert len(online) == 1 and online[0]["amount_fen"] == 10000
