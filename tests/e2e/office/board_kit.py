"""The office in the browser: a desktop-sized Playwright context signed in at ``/office``,
and an app process of the browser tests' own whose phones sync every second (the phone's
long poll is not there yet: its poll interval is what brings a dispatcher's assignment to
the crew's phone)."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, ApiServer, Proc, free_port, wait_http
from tests.e2e.phone import TRAFFIC_JS, Phone, watch_log

DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 1024, "height": 768}


class Office(Phone):
    """A dispatcher's browser (desktop viewport) on the office desk."""

    def __init__(self, browser: Any, url: str, name: str, *, locale: str = "en-US",
                 viewport: dict[str, int] | None = None) -> None:
        self.name = name
        self.url = url.rstrip("/") + "/office"
        self.context = browser.new_context(viewport=viewport or DESKTOP, locale=locale)
        self.page = self.context.new_page()
        self.page.add_init_script(TRAFFIC_JS)
        self.shots: list[Path] = []
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.console: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}")
                     if m.type in ("error", "warning") else None)
        self._renderer_state()
        self._watch_renderer(self.page)

    def sign_in_office(self, username: str, password: str, *,
                       ready: str | re.Pattern[str] = "Dispatch board") -> None:
        for _attempt in range(3):
            self.fill("User name", username)
            self.fill("Password", password)
            self.tap("Sign in", exact=True, settle=0.5)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if self._shows(ready) and self._shows("GridOne office"):
                    self.quiet(0.5)
                    return
                if re.search(r"Enter the server URL|请填写服务器地址", self.snapshot()):
                    break
                time.sleep(0.25)
        raise AssertionError(f"could not sign in as {username}:\n"
                             f"{self.safe_snapshot()}{self.diagnosis()}")

    def rail(self, name: str) -> None:
        """Open a page from the navigation rail (scrolling the rail when the page's entry
        is below its fold: a manager has more pages than a tablet shows)."""
        button = self.page.get_by_role("button", name=re.compile(re.escape(name))).first
        before = self.traffic()
        for _ in range(6):
            try:
                button.click(timeout=2_000)
                break
            except Exception:  # not on screen (not in the accessibility tree) yet
                self.page.mouse.move(46, self.page.viewport_size["height"] - 120)
                self.page.mouse.wheel(0, 300)
                time.sleep(0.5)
        else:
            button.click()
        self.settle(before, 0.8)

    def row(self, code: str) -> None:
        """Open a job's side panel from its row on the board."""
        before = self.traffic()
        self.page.get_by_role("cell", name=re.compile(code)).first.click()
        self.settle(before, 0.6)


@pytest.fixture(scope="module")
def desk_app(api: ApiServer, e2e_dir: Path) -> Iterator[str]:
    """The app for the office tests (its own process: phones sync every second)."""
    port = free_port()
    log = e2e_dir / "desk-app.log"
    watch_log(log)
    proc = Proc([sys.executable, "-m", "mobile", "--api-url", api.url, "--port", str(port),
                 "--data-dir", str(e2e_dir / "desk-devices"), "--offline-retry-s", "1",
                 "--online-interval-s", "1"], log)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", proc=proc.proc)
        yield url
    finally:
        proc.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        if log.exists():
            (ARTIFACTS / "desk-app.log").write_bytes(log.read_bytes())


def python_errors(log: Path) -> list[str]:
    """Errors the app process logged (tracebacks, ERROR lines)."""
    if not log.exists():
        return []
    return [ln for ln in log.read_text(errors="replace").splitlines()
            if "Traceback" in ln or " ERROR " in ln or ln.startswith("ERROR")]
