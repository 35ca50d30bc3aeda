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
    def open(self, ready: str | re.Pattern[str] = re.compile("Sign in|登录")) -> None:
        """Load the app, turn on Flutter's semantics DOM, wait for ``ready`` to show."""
        self.page.goto(self.url)
        self.open_semantics(ready)

    def reload(self, ready: str | re.Pattern[str]) -> None:
        """The app restarted on this phone (the browser reloads: a new app session)."""
        self.page.reload()
        self.open_semantics(ready)

    def open_semantics(self, ready: str | re.Pattern[str]) -> None:
        ph = self.page.locator("flt-semantics-placeholder")
        ph.wait_for(state="attached", timeout=60_000)
        ph.evaluate("el => el.click()")
        expect(self.page.get_by_role("button", name=ready).or_(
            self.page.get_by_role("tab", name=ready)).or_(
            self.page.get_by_text(ready)).first).to_be_attached(timeout=30_000)
        time.sleep(0.8)

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

    def _shows(self, text: str | re.Pattern[str]) -> bool:
        snap = self.snapshot()
        return bool(text.search(snap)) if isinstance(text, re.Pattern) else text in snap

    def see(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        """Wait until ``text`` is on the screen (in the accessibility tree: Flutter merges
        a card's texts into one node, so this reads the whole tree, as a screen reader)."""
        deadline = time.monotonic() + timeout / 1000
        while not self._shows(text):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on the screen of {self.name}:\n"
                                     f"{self.snapshot()}")
            time.sleep(0.25)

    def gone(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        deadline = time.monotonic() + timeout / 1000
        while self._shows(text):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} still on the screen of {self.name}")
            time.sleep(0.25)

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
        self.tap(labels[2], exact=True, settle=0.5)
        expect(self.page.get_by_role("tablist")).to_be_attached(timeout=20_000)
        time.sleep(0.8)
