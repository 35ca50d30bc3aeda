"""The installed app (the static build of ``mobile.web.build``) in Chromium, against its
own API server, which serves the build at ``/app/``.

One build per session, reused between runs from ``.cache/pwa/builds`` (keyed by the hash of
its sources); the server reads it through a symlink, so a test can put a new version in
place as a deployment would.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mobile.web.build import build
from tests.e2e.conftest import ApiServer, free_port
from tests.e2e.phone import ARTIFACTS, Phone
from tests.e2e.pwa.link import Link
from tests.e2e.world import dispatched_job
from tests.factories import PASSWORD

#: The build's first start runs Python in the browser: Flutter, then Pyodide and the wheels.
START_S = 120

#: The memory snapshot Pyodide is restored from (``mobile/web/snapshot.js``, whose cache name
#: and key these use), read in the page (same origin, same Cache Storage): its size in
#: bytes, or 0 while there is none.
#: The argument: how long to wait for one (ms).
SNAPSHOT_SIZE = """async (waitMs) => {
    const { SNAPSHOT_CACHE, SNAPSHOT_KEY } =
        await import(new URL("snapshot.js", document.baseURI).href);
    const deadline = Date.now() + waitMs;
    for (;;) {
        const hit = await (await caches.open(SNAPSHOT_CACHE)).match(SNAPSHOT_KEY);
        if (hit) { return (await hit.arrayBuffer()).byteLength; }
        if (Date.now() >= deadline) { return 0; }
        await new Promise(r => setTimeout(r, 250));
    }
}"""
#: Put ``bytes`` (a list of numbers, repeated to 1 MB) in the snapshot's place; none: remove it.
SNAPSHOT_REPLACE = """async (bytes) => {
    const { SNAPSHOT_CACHE, SNAPSHOT_KEY } =
        await import(new URL("snapshot.js", document.baseURI).href);
    const cache = await caches.open(SNAPSHOT_CACHE);
    if (bytes === null) { return cache.delete(SNAPSHOT_KEY); }
    const body = new Uint8Array(1 << 20);
    for (let i = 0; i < body.length; i++) { body[i] = bytes[i % bytes.length]; }
    await cache.put(SNAPSHOT_KEY, new Response(body));
    return true;
}"""


class PwaServer(ApiServer):
    """The API with the device app at ``/app/``, read from ``webapp`` (a symlink)."""

    def __init__(self, data_dir: Path, port: int, log: Path, webapp: Path) -> None:
        super().__init__(data_dir, port, log)
        self.webapp = webapp
        self.proc.env = {**os.environ, "GRIDONE_WEBAPP_DIR": str(webapp)}
        self.app_url = f"{self.url}/app/"

    def deploy(self, build_dir: Path) -> None:
        """Serve ``build_dir`` from now on (atomically, as ``mv -T`` of a symlink)."""
        tmp = self.webapp.with_name(self.webapp.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(build_dir, target_is_directory=True)
        tmp.replace(self.webapp)


class PwaPhone(Phone):
    """A phone with the app installed from the server (a browser context of its own),
    which it reaches through its own link (``link``, a loopback relay that ``offline``
    cuts)."""

    link: Link

    def _new_page(self) -> Any:
        page = super()._new_page()
        self.fonts: list[tuple[str, int]] = []  # (path, status) of each font Flutter fetched
        # what the Python worker said of its start ("GridOne: Python restored from ...")
        self.said: list[str] = []

        def said(message: Any) -> None:
            if message.text.startswith("GridOne:"):
                self.said.append(message.text)

        page.on("console", said)
        page.on("response", lambda r: "/assets/fonts/" in r.url and self.fonts.append(
            (r.url.split("/assets/fonts/", 1)[1], r.status)))
        return page

    def open_semantics(self, ready: str | re.Pattern[str]) -> None:
        self.semantics_on(START_S)
        self.see(ready, timeout=START_S * 1000)
        time.sleep(0.8)

    def sign_in(self, username: str, password: str, **_: Any) -> None:
        """Sign in (Python in the browser answers more slowly than a server process: the
        sign-in and the first pull run in the page's own worker). A fill the page dropped
        while it was still settling shows as "fill in ..." : then again."""
        for _attempt in range(3):
            self.fill("User name", username, settle=0.8)
            # checked like any field (a test password): a fill Python's worker missed while
            # it re-rendered the form is typed again rather than sent empty
            self.fill("Password", password, settle=0.8)
            self.tap("Sign in", exact=True, settle=0.5)
            deadline = time.monotonic() + START_S
            while time.monotonic() < deadline:
                if self.page.get_by_role("tablist").count():
                    time.sleep(0.8)
                    return
                if re.search(r"Enter the server URL|Enter your user name|请填写", self.snapshot()):
                    break
                time.sleep(0.25)
        self.shot("sign-in-failed")
        raise AssertionError(f"could not sign in as {username}:\n{self.snapshot()}")

    def installed(self, timeout_s: float = START_S) -> str:
        """Wait until the service worker has precached the whole build and controls the
        page; returns the version it holds."""
        version: str = self.page.evaluate("""async (timeoutMs) => {
            const reg = await navigator.serviceWorker.ready;
            const deadline = Date.now() + timeoutMs;
            while (!navigator.serviceWorker.controller && Date.now() < deadline) {
                await new Promise(r => setTimeout(r, 100));
            }
            const info = await (await fetch("build.json")).json();
            const cache = await caches.open("gridone-app-" + info.version);
            while ((await cache.keys()).length < info.files + 1 && Date.now() < deadline) {
                await new Promise(r => setTimeout(r, 200));
            }
            return reg.active && navigator.serviceWorker.controller ? info.version : "";
        }""", timeout_s * 1000)
        assert version, "the service worker did not take control"
        return version

    def offline(self, value: bool = True) -> None:
        """No signal (``False``: the signal is back). Chromium's offline mode is set, and
        the phone's link to the server is cut too: Playwright does not put a page's
        workers offline itself (Python runs in one), and a worker that starts with a new
        tab was seen to reach the server before the page's offline mode applied to it."""
        if value:
            self.link.cut()
        else:
            self.link.restore()
        self.context.set_offline(value)

    def reload(self, ready: str | re.Pattern[str]) -> None:
        self.page.reload()
        self.open_semantics(ready)

    def reopen(self, ready: str | re.Pattern[str]) -> None:
        """Close the tab and open the app again in a new one (same browser profile)."""
        self.restart(ready)

    def durable(self) -> None:
        """Give the last commit's write-back to IndexedDB its moment (it starts at the
        commit; a few ms of work)."""
        time.sleep(1.5)


def installed_crew(server: PwaServer, phone_factory: Any, name: str, crew: str,
                   description: str) -> tuple[PwaPhone, dict[str, Any], str]:
    """A fault job dispatched to ``crew``, who signs in on a new phone (``name``) that
    shows it and has the app installed: (the phone, the job, the installed version)."""
    job = dispatched_job(server, kind="fault_repair", assignee=crew, description=description)
    phone = phone_factory(name)
    phone.open()
    phone.sign_in(crew, PASSWORD)
    phone.see(job["code"])
    return phone, job, phone.installed()


@pytest.fixture(scope="session")
def pwa_build() -> Path:
    return build()


@pytest.fixture(scope="session")
def pwa_server(e2e_dir: Path, pwa_build: Path) -> Iterator[PwaServer]:
    webapp = e2e_dir / "webapp"
    server = PwaServer(e2e_dir / "pwa-api", free_port(), e2e_dir / "pwa-api.log", webapp)
    server.deploy(pwa_build)
    server.start()
    yield server
    server.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(e2e_dir / "pwa-api.log", ARTIFACTS / "pwa-api.log")


@pytest.fixture()
def phone_factory(browser: Any, pwa_server: PwaServer) -> Iterator[Any]:
    phones: list[PwaPhone] = []

    def make(name: str, **kw: Any) -> PwaPhone:
        link = Link(pwa_server.port).start()
        phone = PwaPhone(browser, f"{link.url}/app/", name, **kw)
        phone.link = link
        phone.page.set_default_timeout(30_000)
        phones.append(phone)
        return phone

    yield make
    for phone in phones:
        phone.close()
        phone.link.stop()
