"""Where a push's time goes on the server: ``.venv/bin/python bench/profile_push.py``.

Calls the server's push (``--path bulk``: ``server.sync.bulk.push``, the default; ``per_op``:
``server.sync.push.push``) in this process (no HTTP) with ``--ops`` ``add_note`` ops
across 200 jobs, in requests of 2,000 like the phone sends a backlog, on a fresh SQLite
file, and prints the server-side rate and (``--profile``) the top functions from cProfile
by own time and by cumulative time.

``--http`` sends the same requests through the whole app instead (``create_app``: its
middleware, FastAPI's body and response handling, the route), as the phone sends them
(compact JSON, gzip-encoded, a bearer token), driven as ASGI in this process: the server's
work per op without the socket.

``--instructions`` counts instead of timing: the same pushes under valgrind's callgrind,
instrumented only while they run (the first request, which compiles the statements, is
left out), printing CPU instructions per op. Unlike seconds on this shared host (±30 %
from one run to the next), the count repeats to within 0.1 %, so a change's effect on
the server's work shows in one run each way.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret-" + "s" * 40
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build(db_path: Path, n_jobs: int, app: object = None) -> tuple[object, object, list[str]]:
    from sqlmodel import Session

    from server.db import make_database
    from server.deps import load_auth_user
    from server.migrate import upgrade
    from server.uow import UnitOfWork
    from server.users.models import User
    from server.work_orders import service
    from shared.workorders.state_machine import Action, Actor
    from tests.factories import build_world

    url = f"sqlite:///{db_path}"
    upgrade(url)
    db = app.state.db if app is not None else make_database(url)  # type: ignore[attr-defined]
    world = build_world(db)
    u = world.user("dispatcher1")
    office = Actor(u.id, u.role, u.station_id)
    jobs = []
    for _ in range(n_jobs):
        with UnitOfWork(db, office) as uow:
            order, _ = service.report(uow, actor=office, data={
                "kind": "fault_repair", "account_id": world.accounts["acc1"].id,
                "description": "benchmark job"})
            service.act(uow, actor=office, order_id=order.id, action=Action.DISPATCH,
                        data={"assignee_id": world.user("crew1").id})
            uow.commit()
            jobs.append(order.id)
    with Session(db.reader) as s:
        crew = s.get(User, world.user("crew1").id)
        assert crew is not None
        actor = load_auth_user(s, crew).actor
    return db, actor, jobs


def requests(jobs: list[str], n: int, per_request: int = 2000) -> list[object]:
    from shared.ids import new_id
    from shared.timeutil import utcnow
    from sync.protocol import OpType, PushRequest

    now = utcnow()
    last: dict[str, str] = {}
    ops = []
    for i in range(n):
        job = jobs[i % len(jobs)]
        op_id = new_id()
        ops.append({"op_id": op_id, "device_id": "bench-device-1", "device_seq": i + 1,
                    "lane": f"work_order:{job}", "lane_prev": last.get(job),
                    "type": OpType.WO_ADD_NOTE.value, "entity_id": job, "base_version": None,
                    "payload": {"text": f"note {i}"}, "photos": [],
                    # after the jobs' dispatch (an op before it is flagged and decided
                    # by the per-op path), within the clock tolerance
                    "created_at": (now - timedelta(milliseconds=(n - i) / 100)).isoformat()})
        last[job] = op_id
    return [PushRequest.model_validate({"protocol": 1, "device_id": "bench-device-1",
                                        "sent_at": now.isoformat(),
                                        "ops": ops[i:i + per_request]})
            for i in range(0, n, per_request)]


def make_app(folder: Path) -> object:
    """The whole server app on a SQLite file in ``folder`` (as ``sync_bench.serve``)."""
    from server.app import create_app
    from server.config import Settings
    from server.migrate import upgrade
    from tests.factories import PEPPER

    url = f"sqlite:///{folder / 'gridone.db'}"
    upgrade(url)
    settings = Settings(env="test", data_dir=folder / "data", database_url=url,
                        secret_key=SECRET, lookup_pepper=PEPPER, stalled_check=False,
                        sync_pull_per_minute=10**9, sync_push_per_minute=10**9)
    return create_app(settings, migrate=False)


class Wire:
    """The phone's push requests as the app gets them, sent as ASGI calls."""

    def __init__(self, app: object, user_id: str) -> None:
        from server.auth.security import make_token

        token, _ = make_token(secret=SECRET, sub=user_id, kind="access",
                              ttl=timedelta(hours=1))
        self.app, self.token = app, token
        # one event loop for every request, as a server has (a loop per request would
        # count a new loop and new thread-pool threads each time)
        import asyncio

        self.loop = asyncio.new_event_loop()

    def bodies(self, batches: list[object]) -> list[tuple[bytes, list[tuple[bytes, bytes]]]]:
        from sync.client.transport import push_body

        out = []
        for req in batches:
            args = push_body(req.model_dump(mode="json"))  # type: ignore[attr-defined]
            headers = [(k.lower().encode(), v.encode()) for k, v in args["headers"].items()]
            headers += [(b"authorization", f"Bearer {self.token}".encode()),
                        (b"accept-encoding", b"gzip"), (b"host", b"bench"),
                        (b"content-length", str(len(args["content"])).encode())]
            out.append((args["content"], headers))
        return out

    def post(self, body: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, int]:
        """One push; the answer's statuses counted."""
        import asyncio
        import gzip

        import orjson

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/api/v1/sync/push",
                 "raw_path": b"/api/v1/sync/push", "root_path": "", "query_string": b"",
                 "headers": headers, "client": ("127.0.0.1", 1), "server": ("bench", 80)}
        parts: list[bytes] = []
        status: list[int] = []
        sent = [False]

        async def receive() -> dict[str, object]:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])  # type: ignore[arg-type]
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))  # type: ignore[arg-type]

        self.loop.run_until_complete(self.app(scope, receive, send))  # type: ignore[operator]
        left = asyncio.all_tasks(self.loop)  # a receive() still waiting: not needed now
        for task in left:
            task.cancel()
        if left:
            self.loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
        raw = b"".join(parts)
        # orjson: the answer's parse is this process's work too, not the server's
        answer = orjson.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        assert status == [200], (status, answer)
        counts: dict[str, int] = {}
        for r in answer["results"]:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=10000)
    ap.add_argument("--per-request", type=int, default=2000,
                    help="ops per push request (2000: as the phone sends a backlog)")
    ap.add_argument("--jobs", type=int, default=200,
                    help="jobs the notes go round (200: as sync_bench.py's)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--path", choices=("bulk", "per_op"), default="bulk")
    ap.add_argument("--instructions", action="store_true",
                    help="count CPU instructions per op under callgrind (valgrind)")
    ap.add_argument("--http", action="store_true",
                    help="through the whole app (middleware, FastAPI, the route), as ASGI")
    ap.add_argument("--keep", metavar="FILE",
                    help="with --instructions: keep callgrind's output there "
                         "(callgrind_annotate --inclusive=yes FILE)")
    ap.add_argument("--counted", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.instructions:
        count_instructions(args.ops, args.path, args.http, args.keep, args.per_request,
                           args.jobs)
        return
    from server.sync import bulk
    from server.sync import push as per_op
    from sync.protocol import OpStatus

    tmp = Path(tempfile.mkdtemp(prefix="gridone-profile-"))
    app = make_app(tmp) if args.http else None
    db, actor, jobs = build(tmp / "gridone.db", args.jobs, app)
    batches = requests(jobs, args.ops, args.per_request)
    if args.http:
        send = http_sender(app, actor, batches)
    else:
        def send(i: int) -> dict[str, int]:
            decide = bulk.push if args.path == "bulk" else per_op.push
            out: dict[str, int] = {}
            for r in decide(db, actor=actor, request=batches[i],  # type: ignore[arg-type]
                            lang="en"):
                out[r.status] = out.get(r.status, 0) + 1
            return out
    if args.counted:
        counted(Path(args.counted), send, len(batches))
        return
    from shared.heap import SERVER_YOUNG, settle

    settle(young=SERVER_YOUNG)  # as the server's lifespan does
    prof = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    statuses: dict[str, int] = {}
    for i in range(len(batches)):
        for status, n in send(i).items():
            statuses[status] = statuses.get(status, 0) + n
    if prof:
        prof.disable()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert statuses == {OpStatus.APPLIED: args.ops}, statuses
    where = "the whole app, ASGI" if args.http else "no HTTP"
    print(f"server push path {args.path} ({where}): {args.ops} ops in {seconds:.2f} s -> "
          f"{args.ops / seconds:,.0f} ops/s ({seconds / args.ops * 1000:.3f} ms/op; CPU "
          f"{cpu / args.ops * 1000:.3f} ms/op = {args.ops / cpu:,.0f} ops/s of CPU)"
          + (" [under cProfile]" if prof else ""))
    if prof:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    db.dispose()  # type: ignore[attr-defined]


def http_sender(app: object, actor: object, batches: list[object]) -> Any:
    """``send(i)``: the ``i``-th request through the app (its body built beforehand)."""
    wire = Wire(app, actor.user_id)  # type: ignore[attr-defined]
    bodies = wire.bodies(batches)
    return lambda i: wire.post(*bodies[i])


def counted(signals: Path, send: Any, n: int) -> None:
    """Child of ``count_instructions``: the first request warms up, the rest run while
    the parent has callgrind's instrumentation on."""

    def run(i: int) -> None:
        assert set(send(i)) == {"applied"}

    from shared.heap import SERVER_YOUNG, settle

    run(0)
    settle(young=SERVER_YOUNG)  # as the server's lifespan does (``server.app``)
    def rest() -> None:
        for i in range(1, n):
            run(i)

    counted_window(signals, rest)


def count_instructions(ops: int, path: str, http: bool = False, keep: str | None = None,
                       per_request: int = 2000, jobs: int = 200) -> None:
    total = callgrind_total([__file__, "--ops", str(ops), "--path", path,
                             "--per-request", str(per_request), "--jobs", str(jobs),
                             *(["--http"] if http else [])], keep)
    measured = ops - per_request  # the first request is the warm-up
    where = "the whole app, ASGI" if http else "no HTTP"
    print(f"server push path {path} ({where}): {total:,} instructions for {measured} ops "
          f"-> {total / measured:,.0f} instructions per op (callgrind; {per_request} ops per "
          f"request, {jobs} jobs)")


def callgrind_total(argv: list[str], keep: str | None = None) -> int:
    """CPU instructions of the measured part of ``python argv... --counted DIR`` under
    callgrind: the child calls ``counted_window`` around that part, and only it is
    instrumented (``keep``: callgrind's output copied there)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    signals = Path(tempfile.mkdtemp(prefix="gridone-count-"))
    out = signals / "callgrind.out"
    child = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, *argv, "--counted", str(signals)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(signals / "ready", child)
    pid = (signals / "ready").read_text()
    subprocess.run(["callgrind_control", "-i", "on", pid], check=True, capture_output=True)
    (signals / "go").touch()
    _wait_for(signals / "done", child)
    subprocess.run(["callgrind_control", "-i", "off", pid], check=True, capture_output=True)
    (signals / "stop").touch()
    child.wait()
    total = max(int(line.split()[1]) for line in out.read_text().splitlines()
                if line.startswith(("summary:", "totals:")))
    if keep:
        shutil.copy(out, keep)
    shutil.rmtree(signals)
    return total


def counted_window(signals: Path, measured: Any) -> None:
    """The child's side of ``callgrind_total``: ``measured()`` while the parent has
    callgrind's instrumentation on."""
    (signals / "ready").write_text(str(os.getpid()))
    _wait_for(signals / "go")
    measured()
    (signals / "done").touch()
    _wait_for(signals / "stop")


def _wait_for(flag: Path, child: subprocess.Popen[bytes] | None = None) -> None:
    while not flag.exists():
        if child is not None and child.poll() is not None:
            raise SystemExit(f"the counted run ended early (exit {child.returncode})")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
