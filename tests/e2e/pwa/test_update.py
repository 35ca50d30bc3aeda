"""A new release of the installed app replaces the cached one on the next online start,
and the work still waiting on the phone is not lost (issue 11, check 3)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from mobile.web.build import build
from tests.e2e.pwa.conftest import PwaPhone, PwaServer, installed_crew
from tests.e2e.pwa.test_offline import applied_ops


def served_version(phone: PwaPhone, timeout_s: float = 120) -> str:
    """The version the page runs now (its service worker's), across the reload an update
    makes."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return str(phone.page.evaluate("""async () => {
                const reg = await navigator.serviceWorker.ready;
                const sw = navigator.serviceWorker.controller;
                if (!sw) return "";
                return await new Promise((resolve) => {
                    navigator.serviceWorker.addEventListener(
                        "message", (e) => resolve(e.data.version), { once: true });
                    sw.postMessage("version");
                });
            }"""))
        except Exception:  # the page is reloading into the new version
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_a_new_version_replaces_the_cached_one_without_losing_pending_ops(
        pwa_server: PwaServer, pwa_build: Path, phone_factory: Any) -> None:
    phone, job, first = installed_crew(pwa_server, phone_factory, "pwa-update", "crew1b",
                                       "Flickering lights in the shop")
    code = job["code"]
    assert served_version(phone) == first

    phone.offline()
    phone.page.get_by_role("button", name=re.compile(code)).first.click()
    phone.tap("Accept", exact=True)
    phone.tap("Add note", exact=True)
    phone.fill("Note", "Bring a spare breaker")
    phone.tap("Save note", exact=True)
    phone.see("2 pending")
    phone.durable()

    # -- a new release is deployed; the phone gets its signal back and starts the app ----
    release = build(label="next")
    try:
        pwa_server.deploy(release)
        phone.offline(False)
        phone.page.reload()
        target = release_version(release)
        # the page asks for a new release 5 s after it starts (boot.js), then precaching it
        # takes a few seconds. (It took ~60 s, once over 360 s, while Flutter asked for a
        # missing fallback font ~18 times a second: each request through the service worker
        # put Chromium's update check off; see bench/README.md. With that fixed it takes
        # ~30 s alone, but once over 180 s in the whole suite on two busy cores, precaching
        # the new release beside the other tests: 2026-12-05's clean-clone run.)
        deadline = time.monotonic() + 360
        while (now := served_version(phone)) != target:
            assert time.monotonic() < deadline, f"still on {now}"
            time.sleep(1)
        phone.open_semantics(re.compile("All synced|pending"))
        phone.see("All synced", timeout=60_000)
        phone.tab("Settings")
        phone.see(target[:24])
        phone.shot("updated")
        ops = applied_ops(pwa_server, job["id"])
        assert len(ops) == 2 and {s for _, s in ops} == {"applied"}, ops
    finally:
        pwa_server.deploy(pwa_build)


def release_version(build_dir: Path) -> str:
    from mobile.web.build import built_version

    version = built_version(build_dir)
    assert version and version.endswith("-next")
    return version
