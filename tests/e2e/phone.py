"""A phone in the browser: one Playwright context (its own localStorage, so its own device
identity and local store in the app) with helpers that find controls as a person would:
by their labels."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
VIEWPORT = {"width": 430, "height": 900}


class Phone:
    def __init__(self, browser: Any, url: str, name: str, *, locale: str = "en-US",
                 geolocation: dict[str, float] | None = None) -> None:
        self.name = name
        self.url = url
        kw: dict[str, Any] = {"viewport": VIEWPORT, "locale": locale}
        if geolocation is not None:
            kw["geolocation"] = geolocation
            kw["permissions"] = ["geolocation"]
        self.context = browser.new_context(**kw)
        self.page = self.context.new_page()
        self.shots: list[Path] = []
        self.page.set_default_timeout(15_000)

    # -- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        self.page.goto(self.url)
        ph = self.page.locator("flt-semantics-placeholder")
        ph.wait_for(state="attached", timeout=60_000)
        ph.evaluate("el => el.click()")
        time.sleep(1.0)

    def reload(self) -> None:
        self.page.reload()
        self.open_semantics()

    def open_semantics(self) -> None:
        ph = self.page.locator("flt-semantics-placeholder")
        ph.wait_for(state="attached", timeout=60_000)
        ph.evaluate("el => el.click()")
        time.sleep(1.0)

    def close(self) -> None:
        self.context.close()

    # -- finding and doing ----------------------------------------------------------------
    def button(self, name: str | re.Pattern[str], exact: bool = False) -> Any:
        return self.page.get_by_role("button", name=name, exact=exact)

    def tap(self, name: str | re.Pattern[str], *, exact: bool = False, settle: float = 0.6
            ) -> None:
        self.button(name, exact).first.click()
        time.sleep(settle)

    def tab(self, name: str) -> None:
        self.page.get_by_role("tab", name=re.compile(re.escape(name))).click()
        time.sleep(0.8)

    def fill(self, label: str, text: str, *, settle: float = 0.4) -> None:
        box = self.page.get_by_role("textbox", name=label)
        box.first.fill(text)
        time.sleep(settle)

    def see(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        expect(self.page.get_by_text(text).first).to_be_attached(timeout=timeout)

    def gone(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        expect(self.page.get_by_text(text)).to_have_count(0, timeout=timeout)

    def snapshot(self) -> str:
        return str(self.page.locator("body").aria_snapshot())

    def shot(self, name: str) -> Path:
        time.sleep(0.5)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.shots.append(path)
        return path

    # -- flows ----------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, labels: tuple[str, str, str] = (
            "User name", "Password", "Sign in")) -> None:
        self.fill(labels[0], username)
        self.fill(labels[1], password)
        self.tap(labels[2], exact=True, settle=1.5)
