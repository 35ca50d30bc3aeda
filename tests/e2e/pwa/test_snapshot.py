"""The installed app restores Python from a memory snapshot the device made itself
(``mobile/web/python-worker.js``, ``snapshot-worker.js``): a start without one makes it in
the background; the next start restores Pyodide from it instead of starting it afresh; one
that cannot be used (another Pyodide build, a damaged file) costs nothing but that start's
speed: Python starts afresh, the work is all there, and a good snapshot is made again."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.pwa.conftest import SNAPSHOT_REPLACE, SNAPSHOT_SIZE, PwaServer, installed_crew

RESTORED = "GridOne: Python restored from its memory snapshot"
REFUSED = "GridOne: the memory snapshot could not be used"
#: The snapshot's header: its magic number ("\0snp"), then a build id no Pyodide has.
OTHER_BUILD = [0x00, 0x73, 0x6E, 0x70]
#: A snapshot under the key of another ``PRELOAD`` list: "put" one there, or whether one "has".
OLD_KEY = """async (what) => {
    const { SNAPSHOT_CACHE } = await import(new URL("snapshot.js", document.baseURI).href);
    const key = new URL("pyodide/memory.snapshot?preload=00000000", document.baseURI).href;
    const cache = await caches.open(SNAPSHOT_CACHE);
    if (what === "put") { await cache.put(key, new Response(new Uint8Array(1024))); return true; }
    return Boolean(await cache.match(key));
}"""


def test_a_start_restores_python_from_the_snapshot_and_a_bad_one_is_replaced(
        pwa_server: PwaServer, phone_factory: Any) -> None:
    phone, job, _ = installed_crew(pwa_server, phone_factory, "pwa-snapshot", "crew1",
                                   "Snapshot: lights flicker in the shop")
    code = job["code"]
    phone.see("All synced")
    assert not any(RESTORED in line for line in phone.said), phone.said  # a fresh profile
    made = phone.page.evaluate(SNAPSHOT_SIZE, 120_000)
    assert made > 10_000_000, f"no memory snapshot was made: {phone.said}"

    # -- with no signal, the app opened again: Python restored, and it works -----------------
    phone.offline()
    phone.reopen(ready=code)
    assert any(RESTORED in line for line in phone.said), phone.said
    phone.see("Offline", timeout=30_000)
    phone.page.get_by_role("button", name=re.compile(code)).first.click()
    phone.see("Customer acc1")
    phone.tap("Accept", exact=True)
    phone.see("1 pending")
    phone.shot("restored-accepted")
    phone.durable()

    # -- a snapshot of another Pyodide build: refused, Python afresh, nothing lost -----------
    phone.page.evaluate(SNAPSHOT_REPLACE, OTHER_BUILD)
    phone.reopen(ready="1 pending")
    assert any(REFUSED in line and "build id" in line for line in phone.said), phone.said
    assert not any(RESTORED in line for line in phone.said), phone.said
    phone.see("Offline", timeout=30_000)
    # ... and a good one made in its place
    remade = phone.page.evaluate(SNAPSHOT_SIZE, 120_000)
    assert remade > 10_000_000, f"the refused snapshot was not made again: {phone.said}"

    # -- a damaged file: the same; and one kept under another key (made with another list of
    # preloaded modules) is dropped, not used ---------------------------------------------------
    phone.page.evaluate(SNAPSHOT_REPLACE, [7, 1, 2])
    assert phone.page.evaluate(OLD_KEY, "put") is True
    phone.reopen(ready="1 pending")
    assert any(REFUSED in line for line in phone.said), phone.said
    assert phone.page.evaluate(OLD_KEY, "has") is False
    phone.offline(False)
    phone.see("All synced", timeout=60_000)
    assert phone.page.evaluate(SNAPSHOT_SIZE, 120_000) > 10_000_000


def test_starts_restored_from_one_snapshot_draw_different_random_numbers(
        pwa_server: PwaServer, browser: Any) -> None:
    """A snapshot holds Python's ``random`` module as seeded when it was made: without a
    fresh seed at each restore, every start of the device would draw the same numbers (the
    sync engine's retry jitter among them). The snapshot is made by the function the app's
    ``snapshot-worker.js`` makes it with (the standard library the app uses imported first),
    and restored by ``startPyodide`` of the app's ``snapshot.js``, twice, in a page of the app's
    origin: those modules are there and work (SQLite on a file among them)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(pwa_server.app_url + "build.json")
        drawn, restored, kept, found = page.evaluate("""async () => {
            const base = document.baseURI;
            const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", base).href);
            const { PRELOAD, makeSnapshotBytes, startPyodide } = await import(
                new URL("snapshot.js", base).href);
            const snapshot = await makeSnapshotBytes(loadPyodide);
            const drawn = [], restored = [], kept = [], found = [];
            for (let i = 0; i < 2; i++) {
                const bytes = snapshot.slice();
                const [python, fromSnapshot] = await startPyodide(loadPyodide, bytes, {});
                restored.push(fromSnapshot);
                kept.push(bytes.byteLength);
                python.globals.set("preload", PRELOAD);
                found.push(python.runPython(`
import sqlite3, sys
missing = [name for name in preload.to_py() if name not in sys.modules]
with sqlite3.connect("/tmp/restored.db") as db:
    db.execute("CREATE TABLE IF NOT EXISTS note (body TEXT)")
    db.execute("INSERT INTO note VALUES (?)", ("kept",))
db.close()
with sqlite3.connect("/tmp/restored.db") as db:
    rows = db.execute("SELECT body FROM note").fetchall()
db.close()
[missing, len(preload), rows == [("kept",)]]`).toJs());
                drawn.push(python.runPython("import random; random.random()"));
            }
            return [drawn, restored, kept, found];
        }""")
    finally:
        context.close()
    assert restored == [True, True]
    assert drawn[0] != drawn[1], drawn
    # Pyodide keeps its options for the worker's life: the 31 MB given to it is let go
    assert kept == [0, 0], kept
    for missing, preloaded, sqlite_works in found:
        assert preloaded > 40 and missing == [], missing
        assert sqlite_works
