"""Where a push's time goes on the server: ``.venv/bin/python bench/profile_push.py``.

Calls the server's push (``--path bulk``: ``server.sync.bulk.push``, the default; ``per_op``:
``server.sync.push.push``) in this process (no HTTP) with ``--ops`` ``add_note`` ops
across 200 jobs, in requests of 500 like the phone sends, on a fresh SQLite file, and
prints the server-side rate and (``--profile``) the top functions from cProfile by own
time and by cumulative time.

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

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def build(db_path: Path, n_jobs: int) -> tuple[object, object, list[str]]:
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
    db = make_database(url)
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


def requests(jobs: list[str], n: int, per_request: int = 500) -> list[object]:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ops", type=int, default=5000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument("--path", choices=("bulk", "per_op"), default="bulk")
    ap.add_argument("--instructions", action="store_true",
                    help="count CPU instructions per op under callgrind (valgrind)")
    ap.add_argument("--counted", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.instructions:
        count_instructions(args.ops, args.path)
        return
    from server.sync import bulk
    from server.sync import push as per_op
    from sync.protocol import OpStatus

    tmp = Path(tempfile.mkdtemp(prefix="gridone-profile-"))
    db, actor, jobs = build(tmp / "gridone.db", 200)
    batches = requests(jobs, args.ops)
    if args.counted:
        counted(Path(args.counted), db, actor, batches, args.path)
        return
    prof = cProfile.Profile() if args.profile else None
    t0, c0 = time.perf_counter(), time.process_time()
    if prof:
        prof.enable()
    statuses: dict[str, int] = {}
    for req in batches:
        decide = bulk.push if args.path == "bulk" else per_op.push
        for r in decide(db, actor=actor, request=req, lang="en"):  # type: ignore[arg-type]
            statuses[r.status] = statuses.get(r.status, 0) + 1
    if prof:
        prof.disable()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert statuses == {OpStatus.APPLIED: args.ops}, statuses
    print(f"server push path {args.path} (no HTTP): {args.ops} ops in {seconds:.2f} s -> "
          f"{args.ops / seconds:,.0f} ops/s ({seconds / args.ops * 1000:.3f} ms/op; CPU "
          f"{cpu / args.ops * 1000:.3f} ms/op = {args.ops / cpu:,.0f} ops/s of CPU)"
          + (" [under cProfile]" if prof else ""))
    if prof:
        for key in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats(key).print_stats(args.top)
            print(out.getvalue())
    db.dispose()  # type: ignore[attr-defined]


def counted(signals: Path, db: object, actor: object, batches: list[object], path: str
            ) -> None:
    """Child of ``count_instructions``: the first request warms up, the rest run while
    the parent has callgrind's instrumentation on."""
    from server.sync import bulk
    from server.sync import push as per_op

    decide = bulk.push if path == "bulk" else per_op.push

    def run(req: object) -> None:
        results = decide(db, actor=actor, request=req, lang="en")  # type: ignore[arg-type]
        assert all(r.status == "applied" for r in results)

    run(batches[0])
    (signals / "ready").write_text(str(os.getpid()))
    _wait_for(signals / "go")
    for req in batches[1:]:
        run(req)
    (signals / "done").touch()
    _wait_for(signals / "stop")


def count_instructions(ops: int, path: str) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian: apt-get install valgrind)")
    signals = Path(tempfile.mkdtemp(prefix="gridone-count-"))
    out = signals / "callgrind.out"
    child = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         sys.executable, __file__, "--ops", str(ops), "--path", path,
         "--counted", str(signals)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    shutil.rmtree(signals)
    measured = ops - 500  # the first request of 500 is the warm-up
    print(f"server push path {path} (no HTTP): {total:,} instructions for {measured} ops "
          f"-> {total / measured:,.0f} instructions per op (callgrind)")


def _wait_for(flag: Path, child: subprocess.Popen[bytes] | None = None) -> None:
    while not flag.exists():
        if child is not None and child.poll() is not None:
            raise SystemExit(f"the counted run ended early (exit {child.returncode})")
        time.sleep(0.05)


if __name__ == "__main__":
    main()
