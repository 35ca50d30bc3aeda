"""Where a pull's time goes on the server: ``.venv/bin/python bench/profile_pull.py``.

Two workloads, each on a fresh SQLite file in this process (no socket):

* ``--empty`` (the default): no-change pulls through the whole app (``create_app``: its
  middleware, routing, the route), driven as ASGI with crew1's token and a cursor at the
  end of its scope: the request every phone makes every few seconds;
* ``--download``: fresh downloads of crew1's scope (200 jobs and 10,000 notes pushed
  first: 10,606 rows, as ``sync_bench.py``'s) through ``server.sync.pull.pull`` and
  ``orjson``, page by page; ``--cold`` leaves out the start-up warm-up
  (``server.sync.pull.warm_up``), as a server without it served its first download;
* ``--after-push``: incremental pulls of what a push of 10,000 notes over 200 jobs
  changed (crew1's other device, from its cursor before the push, page by page, as
  ``--download`` does): the set-wise push logs a job's notes of a chunk by one timeline
  entry, which such a pull reads back by the job and the chunk's time.

Prints the CPU time per pull (per downloaded row), or, with ``--instructions``, counts CPU
instructions under valgrind's callgrind, instrumented only while the measured pulls run:
the count repeats to within ~0.1 %, where seconds on this host move ±30 % from one run
to the next.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_push import (
    ROOT,
    SECRET,
    build,
    callgrind_total,
    counted_window,
    make_app,
    requests,
)

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class Asgi:
    """GET requests to the app as ASGI calls on one event loop (as a server has one)."""

    def __init__(self, app: Any, user_id: str) -> None:
        from server.auth.security import make_token

        self.app = app
        self.token, _ = make_token(secret=SECRET, sub=user_id, kind="access",
                                   ttl=timedelta(hours=1))
        self.loop = asyncio.new_event_loop()

    def get(self, path: str, query: dict[str, Any] | bytes) -> Any:
        import orjson

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": path,
                 "raw_path": path.encode(), "root_path": "",
                 "query_string": query if isinstance(query, bytes)
                 else urlencode(query).encode(),
                 "headers": [(b"authorization", f"Bearer {self.token}".encode()),
                             (b"x-device-id", b"bench-device-1"),
                             (b"accept-encoding", b"gzip"), (b"host", b"bench")],
                 "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        parts: list[bytes] = []
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        self.loop.run_until_complete(self.app(scope, receive, send))
        raw = b"".join(parts)
        assert status == [200], (status, raw[:300])
        return orjson.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)


def empty_pulls(folder: Path) -> tuple[Any, int]:
    """``(pull(), 1)``: one no-change pull through the whole app."""
    app = make_app(folder)
    _db, actor, _jobs = build(folder / "gridone.db", 20, app)
    http = Asgi(app, actor.user_id)  # type: ignore[attr-defined]
    query: dict[str, Any] = {"limit": 1000, "protocol": 1}
    while True:  # the crew's download, to the end: its cursor
        page = http.get("/api/v1/sync/pull", query)
        query["cursor"] = page["next_cursor"]
        if not page["has_more"]:
            break

    encoded = urlencode(query).encode()

    def pull() -> None:
        page = http.get("/api/v1/sync/pull", encoded)
        assert not page["changes"] and not page["has_more"], page

    return pull, 1


def downloads(folder: Path, *, cold: bool) -> tuple[Any, int]:
    """``(download(), rows)``: crew1's fresh download, page by page."""

    from server.db import make_database
    from server.sync import bulk
    from server.sync import pull as pulling

    db, actor, jobs = build(folder / "gridone.db", 200, None)
    for request in requests(jobs, 10_000):
        bulk.push(db, actor=actor, request=request, lang="en")  # type: ignore[arg-type]
    db.dispose()  # type: ignore[attr-defined]
    db = make_database(f"sqlite:///{folder / 'gridone.db'}")  # a server's fresh engines
    if not cold:
        pulling.warm_up(db)  # as the server's lifespan does

    return (lambda: pull_pages(db, actor, None)[1]), 10_606


def pull_pages(db: Any, actor: Any, cursor: str | None) -> tuple[str, int]:
    """Pages of 1,000 from ``cursor`` to the end, each encoded as the route encodes it:
    the cursor there and the rows pulled."""
    import orjson
    from sqlmodel import Session

    from server.sync import pull as pulling

    rows = 0
    while True:
        with Session(db.reader) as session:
            page = pulling.pull(session, actor=actor, cursor=cursor, limit=1000,
                                secret=SECRET)
        orjson.dumps({"changes": page.changes, "next_cursor": page.next_cursor})
        rows += len(page.changes)
        cursor = page.next_cursor
        if not page.has_more:
            return cursor, rows


def after_push(folder: Path) -> tuple[Any, int]:
    """``(pull(), rows)``: the incremental pulls that bring a device up to date with a
    push of 10,000 notes, from the device's cursor before it (read-only: repeatable)."""
    from server.sync import bulk

    db, actor, jobs = build(folder / "gridone.db", 200, None)
    before, _ = pull_pages(db, actor, None)
    for request in requests(jobs, 10_000):
        bulk.push(db, actor=actor, request=request, lang="en")  # type: ignore[arg-type]
    _, rows = pull_pages(db, actor, before)
    assert rows == _AFTER_PUSH_ROWS, rows
    return (lambda: pull_pages(db, actor, before)[1]), rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--empty", action="store_true", help="no-change pulls (the default)")
    what.add_argument("--download", action="store_true", help="fresh downloads, 10,606 rows")
    what.add_argument("--after-push", action="store_true",
                      help="incremental pulls of a push of 10,000 notes")
    ap.add_argument("--cold", action="store_true",
                    help="--download: without the start-up warm-up; the first download")
    ap.add_argument("--n", type=int, default=0,
                    help="pulls (default 3,000) or downloads (default 5) measured")
    ap.add_argument("--instructions", action="store_true",
                    help="count CPU instructions under callgrind (valgrind)")
    ap.add_argument("--keep", metavar="FILE", help="with --instructions: callgrind's output")
    ap.add_argument("--counted", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    pages = args.download or args.after_push  # rows, page by page (else: no-change pulls)
    n = args.n or (5 if pages else 3000)
    if args.cold:
        n = 1  # only the first download is cold
    if args.instructions:
        count_instructions(args, n)
        return
    from shared.heap import SERVER_YOUNG, settle

    folder = Path(tempfile.mkdtemp(prefix="gridone-profile-pull-"))
    run, units = (downloads(folder, cold=args.cold) if args.download
                  else after_push(folder) if args.after_push else empty_pulls(folder))
    if not pages and not args.cold:
        for _ in range(100):
            run()  # the first requests build what requests reuse
    settle(young=SERVER_YOUNG)  # as the server's lifespan does
    if args.counted:
        def measured() -> None:
            for _ in range(n):
                run()

        counted_window(Path(args.counted), measured)
        return
    if pages:
        what = "incremental pulls after the push" if args.after_push else "download"
        for i in range(n):
            t = time.process_time()
            run()
            cpu = time.process_time() - t
            print(f"{what} {i}{' (cold)' if args.cold else ''}: {units} rows, CPU "
                  f"{cpu * 1000:.0f} ms ({cpu * 1e6 / units:.1f} µs a row)")
    else:
        t = time.process_time()
        for _ in range(n):
            run()
        cpu = time.process_time() - t
        print(f"{n} no-change pulls (the whole app, ASGI): CPU {cpu * 1e6 / n:.0f} µs each")
    shutil.rmtree(folder, ignore_errors=True)


def count_instructions(args: Any, n: int) -> None:
    total = callgrind_total([__file__, "--n", str(n),
                             *(["--download"] if args.download else []),
                             *(["--after-push"] if args.after_push else []),
                             *(["--cold"] if args.cold else [])], args.keep)
    if args.after_push:
        rows = _AFTER_PUSH_ROWS * n
        print(f"incremental pulls after a push of 10,000 notes, {n} x {_AFTER_PUSH_ROWS:,} "
              f"rows: {total:,} instructions -> {total / rows:,.0f} per row (callgrind)")
    elif args.download:
        rows = 10_606 * n
        print(f"{'first ' if args.cold else ''}download, {n} x 10,606 rows: {total:,} "
              f"instructions -> {total / rows:,.0f} per row (callgrind)")
    else:
        print(f"no-change pull (the whole app, ASGI): {total:,} instructions for {n} -> "
              f"{total / n:,.0f} per pull (callgrind)")


#: The rows those pulls bring: the 10,000 notes and each job's row once a page it changed
#: in (``after_push`` counts them; asserted there).
_AFTER_PUSH_ROWS = 11_000


if __name__ == "__main__":
    main()
