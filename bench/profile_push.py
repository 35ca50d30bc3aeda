"""Where a push's time goes on the server: ``.venv/bin/python bench/profile_push.py``.

Calls the server's push (``--path bulk``: ``server.sync.bulk.push``, the default; ``per_op``:
``server.sync.push.push``) in this process (no HTTP) with ``--ops`` ``add_note`` ops
across 200 jobs, in requests of 500 like the phone sends, on a fresh SQLite file, and
prints the server-side rate and (``--profile``) the top functions from cProfile by own
time and by cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
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
    args = ap.parse_args()
    from server.sync import bulk
    from server.sync import push as per_op
    from sync.protocol import OpStatus

    tmp = Path(tempfile.mkdtemp(prefix="gridone-profile-"))
    db, actor, jobs = build(tmp / "gridone.db", 200)
    batches = requests(jobs, args.ops)
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


if __name__ == "__main__":
    main()
