"""A phone in the browser: one Playwright context (its own localStorage, so its own device
identity and local store in the app) with helpers that find controls as a person would:
by their labels."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
VIEWPORT = {"width": 430, "height": 900}
#: Counts the messages between the Flutter client and the app's Python (Flet's websocket in
#: web mode, the Python worker's messages in the installed app) and when the last one went:
#: a step waits for the app's answer and a quiet moment instead of a fixed pause.
TRAFFIC_JS = """(() => {
  const t = {got: 0, last: 0};
  globalThis.__gridoneTraffic = t;
  const got = () => { t.got++; t.last = performance.now(); };
  const sent = () => { t.last = performance.now(); };
  const WS = globalThis.WebSocket;
  if (WS) globalThis.WebSocket = class extends WS {
    constructor(...a) { super(...a); this.addEventListener("message", got); }
    send(...a) { sent(); return super.send(...a); }
  };
  const W = globalThis.Worker;
  if (W) globalThis.Worker = class extends W {
    constructor(...a) { super(...a); this.addEventListener("message", got); }
    postMessage(...a) { sent(); return super.postMessage(...a); }
  };
})();"""
#: how long the app's messages must have been quiet for a step to count as done (ms)
QUIET_MS = 200
#: ... and before a screenshot (longer: a route's transition is drawn after the last message)
SHOT_QUIET_MS = 400
#: the app and API processes' logs (``watch_log``): a failure shows their last lines
APP_LOGS: list[Path] = []
#: Flutter's skwasm renderer (the web-mode app's) traps now and then under heavy rebuilds
#: (flutter/flutter#184858, #182734: "memory access out of bounds", "null function"): the
#: page stops drawing while the app's Python goes on. The app reloads such a page itself,
#: once a minute at most (``mobile/web/served.py``), and Flet resumes the same session;
#: when it did not (a second trap within that minute), a step that waits for the screen
#: reloads it as a person would, at most ``MOST_RELOADS`` times a phone, and says so (a
#: warning and ``renderer-traps.log``). A trap is what the app's page reloads for: an
#: uncaught ``WebAssembly.RuntimeError`` (its ``name``).
TRAP = "RuntimeError"
MOST_RELOADS = 2


def watch_log(log: Path) -> None:
    """Show the last lines of ``log`` (an app's or the API's) in every failure message."""
    if log not in APP_LOGS:
        APP_LOGS.append(log)


def tail(log: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a log (read from its end: logs can be long)."""
    with open(log, "rb") as f:
        f.seek(max(0, f.seek(0, 2) - 8_000))
        return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])


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
        self.console: list[str] = []  # the last lines the page and its workers logged
        self._renderer_state()
        self.page = self._new_page()
        self.shots: list[Path] = []

    def _new_page(self) -> Any:
        page = self.context.new_page()
        page.set_default_timeout(15_000)
        page.add_init_script(TRAFFIC_JS)

        def keep(kind: str, text: str) -> None:
            self.console.append(f"[{kind}] {text}"[:2000])
            del self.console[:-40]

        page.on("console", lambda msg: keep(msg.type, msg.text))
        page.on("pageerror", lambda exc: keep("pageerror", str(exc)))
        self._watch_renderer(page)
        return page

    def _renderer_state(self) -> None:
        """What the phone knows of its renderer's traps (``TRAP``) and its pages' loads."""
        self.traps: list[str] = []  # the traps this phone's pages hit
        self.traps_since_load = 0  # ... that no reload has got past yet
        self.reloads = 0  # the reloads of the harness's that got past one
        #: the page loaded again since its semantics were turned on (the app reloads a page
        #: whose renderer trapped by itself: ``mobile/web/served.py``): ``_shows`` turns
        #: them on again
        self.loaded_again = False

    def _watch_renderer(self, page: Any) -> None:
        def error(exc: Any) -> None:
            if getattr(exc, "name", None) == TRAP:
                self.traps.append(str(exc)[:200])
                self.traps_since_load += 1

        def loaded(_page: Any) -> None:
            self.loaded_again, self.traps_since_load = True, 0

        page.on("pageerror", error)
        page.on("load", loaded)

    # -- lifecycle ------------------------------------------------------------------------
    def open(self, ready: str | re.Pattern[str] = re.compile("Sign in|登录")) -> None:
        """Load the app, turn on Flutter's semantics DOM, wait for ``ready`` to show."""
        self.page.goto(self.url)
        self.open_semantics(ready)

    def restart(self, ready: str | re.Pattern[str]) -> None:
        """The app is closed and started again on this phone: a new tab in the same
        browser profile (same localStorage, so the same device) is a new app session
        (a reload would resume the old session, which Flet keeps on the server)."""
        self.page.close()
        self.page = self._new_page()
        self.open(ready)

    def open_semantics(self, ready: str | re.Pattern[str]) -> None:
        self.semantics_on()
        expect(self.page.get_by_role("button", name=ready).or_(
            self.page.get_by_role("tab", name=ready)).or_(
            self.page.get_by_text(ready)).first).to_be_attached(timeout=30_000)
        time.sleep(0.8)

    def semantics_on(self, timeout_s: float = 60) -> None:
        """Turn on Flutter's semantics DOM (off in every newly loaded page)."""
        ph = self.page.locator("flt-semantics-placeholder")
        ph.wait_for(state="attached", timeout=timeout_s * 1000)
        ph.evaluate("el => el.click()")
        self.loaded_again = False

    def _semantics_again(self) -> None:
        """After a load the test did not ask for: semantics on as soon as Flutter offers
        them (its placeholder); without waiting, as ``_shows`` is called in a loop."""
        with contextlib.suppress(Exception):  # a page between two loads: next time
            ph = self.page.locator("flt-semantics-placeholder")
            if ph.count():
                ph.evaluate("el => el.click()", timeout=2_000)
                self.loaded_again = False
            elif self.page.locator("flt-semantics").count():  # on already
                self.loaded_again = False

    def close(self) -> None:
        self.context.close()

    # -- finding and doing ----------------------------------------------------------------
    def button(self, name: str | re.Pattern[str], exact: bool = False) -> Any:
        return self.page.get_by_role("button", name=name, exact=exact)

    def traffic(self) -> int:
        """How many messages the app's Python has sent the page so far; -1 when the page
        cannot tell."""
        try:
            return int(self.page.evaluate(
                "() => globalThis.__gridoneTraffic ? globalThis.__gridoneTraffic.got : -1"))
        except Exception:  # a page that is busy or gone: the step falls back to its pause
            return -1

    def settle(self, before: int, most: float) -> None:
        """Wait until the app has answered the step begun at ``before`` (a message back
        from its Python) and has then been quiet for ``QUIET_MS``; at most ``most``
        seconds, the fixed pause this replaces (a step the app does not answer, such as a
        typed value no screen reacts to, or a page that could not tell, waits it out)."""
        if before < 0:
            time.sleep(most)
        else:
            self._until_quiet(before, QUIET_MS, most)

    def quiet(self, most: float) -> None:
        """Wait until the app's messages have been quiet for ``SHOT_QUIET_MS`` (a screen it
        finished drawing, its route's transition included); at most ``most`` seconds."""
        self._until_quiet(-1, SHOT_QUIET_MS, most)

    def _until_quiet(self, got: int, quiet_ms: int, most: float) -> None:
        with contextlib.suppress(PlaywrightTimeout):  # not so by then: the pause is over
            self.page.wait_for_function(
                """([got, quiet]) => { const t = globalThis.__gridoneTraffic;
                    return !!t && t.got > got && performance.now() - t.last >= quiet; }""",
                arg=[got, quiet_ms], timeout=most * 1000)

    def tap(self, name: str | re.Pattern[str], *, exact: bool = False, settle: float = 0.6
            ) -> None:
        before = self.traffic()
        self.button(name, exact).first.click()
        self.settle(before, settle)

    def tab(self, name: str) -> None:
        before = self.traffic()
        self.page.get_by_role("tab", name=re.compile(re.escape(name))).click()
        self.settle(before, 0.8)

    def fill(self, label: str, text: str, *, settle: float = 0.4) -> None:
        """Type into the field labelled ``label``. Flutter rebuilds its text-field DOM
        when the screen re-renders; a fill that landed on a replaced element is retried
        (checked against what the field shows; a password field shows its value to the
        page too, so test passwords are checked alike)."""
        box = self.page.get_by_role("textbox", name=label, exact=True).first
        for attempt in range(4):
            if attempt:
                box.focus()  # let Flutter attach its editing element to this field
                time.sleep(0.3)
            before = self.traffic()
            box.fill(text)
            self.settle(before, settle)
            try:
                if box.input_value(timeout=2_000) == text:
                    return
            except Exception:  # the element was replaced meanwhile: look again
                pass
            time.sleep(0.5)
        raise AssertionError(f"field {label!r} did not take {text!r}:\n{self.snapshot()}")

    def value(self, label: str) -> str:
        """What the text field labelled ``label`` holds."""
        return str(self.page.get_by_role("textbox", name=label, exact=True).first
                   .input_value())

    def _shows(self, text: str | re.Pattern[str]) -> bool:
        if self.loaded_again:  # the page reloaded itself: what a screen reader turns on
            self._semantics_again()
        try:
            snap = self.snapshot(timeout=5_000)
        except PlaywrightTimeout:  # the page was busy drawing: look again (callers time out)
            return False
        return bool(text.search(snap)) if isinstance(text, re.Pattern) else text in snap

    def see(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        """Wait until ``text`` is on the screen (in the accessibility tree: Flutter merges
        a card's texts into one node, so this reads the whole tree, as a screen reader)."""
        deadline = time.monotonic() + timeout / 1000
        while not self._shows(text):
            if time.monotonic() > deadline:
                if self.reload_after_trap():
                    deadline = time.monotonic() + timeout / 1000
                    continue
                raise AssertionError(f"{text!r} not on the screen of {self.name}:\n"
                                     f"{self.safe_snapshot()}{self.diagnosis()}")
            time.sleep(0.25)

    def reload_after_trap(self) -> bool:
        """When the renderer has trapped (``TRAP``) since the page last loaded, reload it as
        a person would (Flet resumes the session: same screen, same state) and say so;
        False when it has not, or after ``MOST_RELOADS`` reloads (the step then fails)."""
        if not self.traps_since_load or self.reloads >= MOST_RELOADS:
            return False
        self.reloads += 1
        trap = self.traps[-1]
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with open(ARTIFACTS / "renderer-traps.log", "a", encoding="utf-8") as log:
            log.write(f"{time.strftime('%H:%M:%S')} {test} {self.name}: {trap}\n")
        warnings.warn(f"Flutter's renderer trapped on {self.name}'s page ({trap}); it was "
                      "reloaded", stacklevel=3)  # shown, not an error (pyproject.toml)
        self.page.reload()
        self.semantics_on()
        self.quiet(2.0)
        return True

    def gone(self, text: str | re.Pattern[str], timeout: float = 15_000) -> None:
        deadline = time.monotonic() + timeout / 1000
        while self._shows(text):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} still on the screen of {self.name}")
            time.sleep(0.25)

    def diagnosis(self) -> str:
        """For a failure message: what the screen's text fields hold (Flet's "Error running
        app" shows the traceback in one) and the last lines logged to the console."""
        try:
            # wait_for_function, not evaluate: a page whose main thread is stuck never
            # answers an evaluate, and this runs when something already went wrong
            fields = self.page.wait_for_function(
                "() => [...document.querySelectorAll('input, textarea')]"
                ".map(e => e.value).filter(v => v)", timeout=5_000).json_value()
        except Exception as exc:  # a closed page still gets its message
            fields = [f"(fields unreadable: {exc})"]
        logs = "".join(f"\n--- {log.name} (last lines):\n{tail(log)}" for log in APP_LOGS
                       if log.exists() and log.stat().st_size)
        return ("\n--- fields:\n" + "\n".join(map(str, fields))
                + "\n--- console:\n" + "\n".join(self.console) + logs)

    def safe_snapshot(self) -> str:
        """The screen for a failure message, or why there is none (a page whose main
        thread is blocked does not answer)."""
        try:
            return self.snapshot()
        except PlaywrightTimeout:
            return "(the page did not answer for 15 s: its main thread was busy)"

    def snapshot(self, timeout: float = 15_000) -> str:
        return str(self.page.locator("body").aria_snapshot(timeout=timeout))

    def shot(self, name: str, *, pause: float = 0.5) -> Path:
        """A screenshot in the run's artifacts, once the screen has settled; the screen
        must not show a text with a placeholder left in it."""
        self.quiet(pause)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}-{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(path))
        self.shots.append(path)
        left = self.unfilled()
        assert left == [], (path.name, left)
        return path

    def unfilled(self) -> list[str]:
        """Texts on screen with a placeholder left in them ("Export CSV: {table}"): a
        string shown with the wrong key or without its values."""
        return self.page.evaluate(r"""() => {
          const texts = [...document.querySelectorAll('flt-semantics, [aria-label]')].map(
              (el) => (el.getAttribute('aria-label') || '') + ' ' + (el.textContent || ''));
          const hits = [...new Set(texts.filter((x) => /\{[a-z_]+\}/.test(x))
                                        .map((x) => x.trim()))];
          // the innermost texts only (a container's text holds its children's)
          return hits.filter((x) => !hits.some((y) => y !== x && x.includes(y)));
        }""")

    # -- flows ----------------------------------------------------------------------------
    def sign_in(self, username: str, password: str, *, labels: tuple[str, str, str] = (
            "User name", "Password", "Sign in")) -> None:
        for _attempt in range(3):
            self.fill(labels[0], username)
            self.fill(labels[1], password)
            self.tap(labels[2], exact=True, settle=0.5)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if self.page.get_by_role("tablist").count():
                    self.quiet(0.8)
                    return
                if re.search(r"Enter the server URL|请填写服务器地址|Enter your user name and "
                             r"password|请填写用户名和密码", self.snapshot()):
                    break  # a fill the page dropped while it was still settling: again
                time.sleep(0.25)
        raise AssertionError(f"could not sign in as {username}:\n"
                             f"{self.safe_snapshot()}{self.diagnosis()}")


REVIEW_SHOTS = Path("/tmp/phone-shots")


def look(phone: Phone, name: str) -> None:
    """A screenshot kept for the people reviewing the screens (the phones that call this
    are set to 390x844), besides the run's own artifacts."""
    REVIEW_SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(phone.shot(name, pause=0.8), REVIEW_SHOTS / f"{name}.png")
