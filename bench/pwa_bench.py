"""The installed app (issue 11), measured in Chromium: ``.venv/bin/python bench/pwa_bench.py``.

Serves the static build (``mobile.web.build``) from the real API server (uvicorn, SQLite,
the small world of ``tests.factories``) and prints:

* the build's size, and what the service worker precaches;
* cold start online: a fresh browser profile, ``goto`` → the sign-in screen usable;
* time to usable after a reload, online and offline (the target: ≤ 5 s warm): right
  after signing in (the device has no memory snapshot yet), and again after the warm
  starts (it has one);
* warm start offline, ``--warm`` times (5; one start moves ±0.5 s between runs, so the
  median is the figure), Pyodide restored from the device's memory snapshot, and before
  them ``--afresh`` times (3) with the snapshot removed first (Pyodide started afresh, as
  on a device that has none yet): the tab closed and the app opened again with no signal, with where
  its time went: the Python worker logs each step of its start ("gridone-start <step>
  <epoch ms>", ``mobile/web/python-worker.js``), read here against the page's ``goto``;
* a push of 500 queued ops from the browser device: 500 notes are queued in the device's
  database (made with the same ``sync.client`` code on this machine, then put into the
  browser's IndexedDB as the app would have written it), and the app — back online —
  pushes them; the time runs from the app's start to "All synced" on its screen, and the
  server is checked to hold all 500.

"Usable" means the screen shows what a person waits for (the sign-in button, the job
list), read from Flutter's accessibility tree.
"""

from __future__ import annotations

import argparse
import base64
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mobile.web.build import build, built_version, size  # noqa: E402
from sync.client.actions import Actions  # noqa: E402
from sync.client.store import Store  # noqa: E402
from tests.e2e.conftest import CHROMIUM_ARGS, free_port  # noqa: E402
from tests.e2e.pwa.conftest import SNAPSHOT_REPLACE, SNAPSHOT_SIZE, PwaServer  # noqa: E402
from tests.e2e.world import dispatched_job  # noqa: E402
from tests.factories import PASSWORD  # noqa: E402

READY_LOGIN = re.compile("Sign in")


def usable(page: Any, ready: re.Pattern[str], started: float, timeout_s: float = 180) -> float:
    ph = page.locator("flt-semantics-placeholder")
    ph.wait_for(state="attached", timeout=timeout_s * 1000)
    ph.evaluate("el => el.click()")
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        try:
            if ready.search(str(page.locator("body").aria_snapshot(timeout=5000))):
                return time.monotonic() - started
        except Exception:
            pass
        time.sleep(0.05)
    try:
        screen = str(page.locator("body").aria_snapshot(timeout=5000))[:1500]
    except Exception as exc:
        screen = f"(no snapshot: {exc})"
    raise TimeoutError(f"{ready.pattern!r} did not show in {timeout_s} s; the screen:\n"
                       f"{screen}")


def open_app(page: Any, url: str, ready: re.Pattern[str]) -> float:
    started = time.monotonic()
    page.goto(url)
    return usable(page, ready, started)


STEPS = {"worker": "the Python worker runs (beside Flutter's start)",
         "pyodide": "Pyodide started afresh (loadPyodide: runtime, stdlib; no snapshot)",
         "restored": "Pyodide restored from the device's memory snapshot",
         "packages": "app unpacked, packages' zip in place, native packages loaded",
         "app": "the app's imports and ft.run (Python ready for Flutter)"}


def open_app_steps(page: Any, url: str, ready: re.Pattern[str]) -> tuple[float, list[str]]:
    """``open_app``, and the worker's start steps, as milliseconds after ``goto``."""
    marks: list[tuple[str, float]] = []

    def seen(msg: Any) -> None:
        m = re.match(r"gridone-start (\w+) ([\d.]+)", msg.text)
        if m:
            marks.append((m.group(1), float(m.group(2))))

    page.on("worker", lambda worker: worker.on("console", seen))
    started_ms = time.time() * 1000
    took = open_app(page, url, ready)
    lines = [f"  {at - started_ms:6.0f} ms  {STEPS.get(step, step)}" for step, at in marks]
    return took, [*lines, f"  {took * 1000:6.0f} ms  usable (the job list read from the screen)"]


def reload_app(page: Any, ready: re.Pattern[str]) -> float:
    started = time.monotonic()
    page.reload()
    return usable(page, ready, started)


def fill(page: Any, label: str, value: str) -> None:
    """As the PWA tests type (``tests/e2e/pwa/conftest.py``): Flutter replaces a text
    field's element when the form re-renders, and Python in the worker can miss a fill
    made meanwhile; so each fill is checked against what the field shows and made again
    (on the field focused first) until it holds."""
    box = page.get_by_role("textbox", name=label, exact=True).first
    for attempt in range(6):
        try:
            if attempt:
                box.focus(timeout=5000)
                time.sleep(0.3)
            box.fill(value, timeout=5000)
            time.sleep(0.8)
            if box.input_value(timeout=2000) == value:
                return
        except Exception:  # Playwright's TimeoutError: the element went away meanwhile
            pass
        time.sleep(0.5)
    raise TimeoutError(f"could not type into {label!r}: "
                       f"{page.locator('body').aria_snapshot(timeout=5000)}")


def sign_in(page: Any, username: str) -> None:
    """As the tests do (``tests/e2e/pwa/conftest.py``): a fill that Python in the page's
    worker dropped while it re-rendered the form shows as "Enter your user name": again."""
    for _attempt in range(3):
        for label, value in (("User name", username), ("Password", PASSWORD)):
            fill(page, label, value)
        page.get_by_role("button", name="Sign in", exact=True).first.click()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if page.get_by_role("tablist").count():
                return
            if re.search(r"Enter your user name|Enter your password",
                         str(page.locator("body").aria_snapshot(timeout=5000))):
                break
            time.sleep(0.25)
    raise TimeoutError(f"could not sign in as {username}; the screen:\n"
                       f"{page.locator('body').aria_snapshot(timeout=5000)}")


def wait_installed(page: Any) -> None:
    page.evaluate("""async () => {
        await navigator.serviceWorker.ready;
        while (!navigator.serviceWorker.controller) await new Promise(r => setTimeout(r, 100));
        const info = await (await fetch("build.json")).json();
        const cache = await caches.open("gridone-app-" + info.version);
        while ((await cache.keys()).length < info.files + 1) {
            await new Promise(r => setTimeout(r, 200));
        }
    }""")


# -- the 500 queued ops: the device database, moved between the browser and this machine --
ASK = "const ask = (r) => new Promise(ok => { r.onsuccess = () => ok(r.result); });"
READ_DB = """async () => {
    ASK
    const db = await new Promise((ok, err) => {
        const r = indexedDB.open("/data"); r.onsuccess = () => ok(r.result); r.onerror = err;
    });
    const store = db.transaction("FILE_DATA", "readonly").objectStore("FILE_DATA");
    const keys = await ask(store.getAllKeys());
    const key = keys.find(k => k.endsWith("/gridone.db"));
    const entry = await ask(store.get(key));
    let bin = ""; for (const b of entry.contents) bin += String.fromCharCode(b);
    db.close();
    return [key, btoa(bin), keys.filter(k => k.endsWith(".db") || k.includes(".db-"))];
}""".replace("ASK", ASK)
WRITE_DB = """async ([key, b64]) => {
    ASK
    const db = await new Promise((ok, err) => {
        const r = indexedDB.open("/data"); r.onsuccess = () => ok(r.result); r.onerror = err;
    });
    const tx = db.transaction("FILE_DATA", "readwrite");
    const store = tx.objectStore("FILE_DATA");
    const entry = await ask(store.get(key));
    const bin = atob(b64); const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    entry.contents = bytes; entry.timestamp = new Date();
    store.put(entry, key);
    await new Promise(ok => { tx.oncomplete = ok; });
    db.close();
}""".replace("ASK", ASK)


def queue_notes(db_bytes: bytes, order_id: str, n: int) -> bytes:
    """``n`` notes queued on the device database, with the device's own code."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gridone.db"
        path.write_bytes(db_bytes)
        store = Store(path)
        try:
            actions = Actions(store, photo_dir=Path(tmp) / "photos", on_change=lambda: None)
            for i in range(n):
                actions.add_note(order_id, f"bench note {i}")
        finally:
            store.close()
        with sqlite3.connect(path) as conn:  # as the browser keeps it: a rollback journal
            conn.execute("PRAGMA journal_mode=DELETE")
        return path.read_bytes()


def pending_ops(db_bytes: bytes) -> int:
    """How many ops wait to be sent in a device database (its file's bytes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gridone.db"
        path.write_bytes(db_bytes)
        with sqlite3.connect(path) as conn:
            return int(conn.execute("SELECT count(*) FROM outbox WHERE state IN "
                                    "('pending', 'sending')").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--warm", type=int, default=5,
                        help="warm starts to time (one run moves ±0.5 s: the median counts)")
    parser.add_argument("--afresh", type=int, default=3,
                        help="warm starts without the memory snapshot (each removes it first),"
                             " timed before the others, for comparison")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    dist = build()
    files = sum(1 for p in dist.rglob("*") if p.is_file())
    print(f"build {built_version(dist)}: {size(dist) / 1e6:.1f} MB in {files} files "
          f"(all precached by the service worker)")
    work = Path(tempfile.mkdtemp(prefix="pwa-bench-"))
    server = PwaServer(work / "api", free_port(), work / "api.log", work / "webapp")
    server.deploy(dist)
    server.start()
    try:
        job = dispatched_job(server, kind="fault_repair", assignee="crew1",
                             description="Bench job")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=CHROMIUM_ARGS)
            ctx = browser.new_context(viewport={"width": 390, "height": 844})
            got: list[int] = []
            page = ctx.new_page()
            page.on("response", lambda r: got.append(int(r.headers.get("content-length", 0))))
            cold = open_app(page, server.app_url, READY_LOGIN)
            print(f"cold start online (fresh profile) → sign-in usable: {cold:.1f} s; "
                  f"{sum(got) / 1e6:.1f} MB fetched by the page")
            sign_in(page, "crew1")
            wait_installed(page)
            # the reloads of a device with no snapshot yet: the one made after the sign-in's
            # start is waited for and removed
            page.evaluate(SNAPSHOT_SIZE, 120_000)
            page.evaluate(SNAPSHOT_REPLACE, None)
            ready_jobs = re.compile(re.escape(job["code"]))
            print(f"reload online (no snapshot yet) → job list usable: "
                  f"{reload_app(page, ready_jobs):.1f} s")
            ctx.set_offline(True)
            print(f"reload offline (no snapshot yet) → job list usable: "
                  f"{reload_app(page, ready_jobs):.1f} s")
            for snapshot, runs in ((False, args.afresh), (True, args.warm)):
                warms: list[float] = []
                what = "from the snapshot" if snapshot else "Pyodide afresh (no snapshot)"
                for n in range(runs):
                    if snapshot:
                        made = page.evaluate(SNAPSHOT_SIZE, 120_000)
                        assert made, "no memory snapshot was made"
                    else:
                        page.evaluate(SNAPSHOT_REPLACE, None)
                    page.close()
                    page = ctx.new_page()
                    warm, steps = open_app_steps(page, server.app_url, ready_jobs)
                    warms.append(warm)
                    print(f"warm start offline, {what}, #{n + 1} (tab closed, opened again)"
                          f" → usable: {warm:.2f} s")
                    print("\n".join(steps))
                if warms:
                    print(f"warm start offline, {what}, over {len(warms)}: median "
                          f"{statistics.median(warms):.2f} s, min {min(warms):.2f}, "
                          f"max {max(warms):.2f}")
                    if snapshot:
                        print(f"  the snapshot: {made / 1e6:.1f} MB in Cache Storage")
            if args.warm:  # the reloads of a device that has its snapshot
                print(f"reload offline, from the snapshot → job list usable: "
                      f"{reload_app(page, ready_jobs):.1f} s")
                ctx.set_offline(False)
                print(f"reload online, from the snapshot → job list usable: "
                      f"{reload_app(page, ready_jobs):.1f} s")
                ctx.set_offline(True)

            # -- 500 queued ops, pushed by the browser ---------------------------------
            time.sleep(2.5)  # the last write-back to IndexedDB
            page.goto(server.app_url + "build.json")  # same origin, no app running
            key, b64, db_files = page.evaluate(READ_DB)
            queued = queue_notes(base64.b64decode(b64), job["id"], args.ops)
            page.evaluate(WRITE_DB, [key, base64.b64encode(queued).decode()])
            print(f"  {args.ops} notes queued into {key} (database files in IndexedDB: "
                  f"{db_files}; {pending_ops(queued)} ops pending in it)")
            page.close()
            page = ctx.new_page()
            try:
                open_app(page, server.app_url, re.compile(f"{args.ops} pending"))
            except TimeoutError:
                time.sleep(3)  # the app's next write-back
                page.goto(server.app_url + "build.json")
                key2, b64, db_files = page.evaluate(READ_DB)
                print(f"  after the app opened: {key2} holds "
                      f"{pending_ops(base64.b64decode(b64))} pending ops; files {db_files}")
                raise
            ctx.set_offline(False)
            started = time.monotonic()
            deadline = started + 600
            while "All synced" not in str(page.locator("body").aria_snapshot(timeout=15_000)):
                assert time.monotonic() < deadline, "the push did not finish"
                time.sleep(0.1)
            took = time.monotonic() - started
            with sqlite3.connect(server.data_dir / "gridone.db") as db:
                applied = db.execute("SELECT count(*) FROM applied_op WHERE entity_id = ? "
                                     "AND status = 'applied'", (job["id"],)).fetchone()[0]
            print(f"push of {args.ops} queued ops from the browser → All synced: {took:.1f} s "
                  f"({args.ops / took:.0f} ops/s); the server applied {applied}")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
