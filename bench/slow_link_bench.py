"""A crew's day over a slow link (not part of the test run):
``.venv/bin/python bench/slow_link_bench.py [--jobs 30] [--photos 170]``.

The real server (uvicorn, child process, SQLite), the fault proxy as a 2G/3G link
(256 kbit/s up, 1 Mbit/s down, 300 ms round trip: ``tests.fault.proxy.Link``) and the
real device engine, running its scheduler as the app does:

1. the crew's phone signs in and downloads ``--jobs`` dispatched jobs over the link;
2. the signal goes (a blackhole outage) and the crew works the day offline: per job
   accept, start travel, arrive, photos of the meter (synthetic meter faces, prepared by
   the device: ~1600 px WebP), notes, resolve — 300 ops and 170 photos by default;
3. the signal comes back; the phone's connectivity event nudges the engine (t = 0).

Printed: when each status change (accept, start travel, arrive, resolve) reached the
server (its ``applied_op.received_at``) after the signal returned — median and max, the
target is every one within 30 s — when the last op and the last photo were on the
server, the photo bytes, and one more status change tapped while the photos still
trickle up (it must not wait behind them). Ends with one line::

    status_max_s=… status_median_s=… ops_done_s=… photos_done_s=… tap_while_photos_s=…
"""

from __future__ import annotations

import argparse
import io
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from PIL import ImageDraw

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from server.migrate import upgrade  # noqa: E402
from tests.factories import build_world  # noqa: E402
from tests.fault.harness import Office, ServerProcess, make_device  # noqa: E402
from tests.fault.proxy import FaultProxy, Link  # noqa: E402
from tests.meter_face import meter_face  # noqa: E402

STATUS_TYPES = ("work_order.accept@1", "work_order.start_travel@1", "work_order.arrive@1",
                "work_order.resolve@1")
GPS = {"lat": 27.81, "lon": 112.91, "accuracy_m": 8.0}


def camera_shots(n: int, seed: int = 7) -> list[bytes]:
    """``n`` different meter-face photos as a camera hands them over (JPEG q92)."""
    face, _ = meter_face(seed, size=(2400, 1800))
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        x, y = rnd.randrange(0, 300), rnd.randrange(0, 220)
        shot = face.crop((x, y, x + 2100, y + 1575))
        ImageDraw.Draw(shot).text((40, 40), f"photo {i:03d}", fill=(250, 250, 250))
        buf = io.BytesIO()
        shot.save(buf, format="JPEG", quality=92)
        out.append(buf.getvalue())
    return out


def received(db_path: Path) -> dict[str, tuple[str, float]]:
    """op id -> (type, when it reached the server, unix seconds)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        got = conn.execute("SELECT op_id, type, received_at FROM applied_op").fetchall()
    out = {}
    for op_id, op_type, at in got:
        when = datetime.fromisoformat(at)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        out[op_id] = (op_type, when.timestamp())
    return out


def photos_on_server(db_path: Path) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM photo WHERE status = 'complete'")
                   .fetchone()[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--jobs", type=int, default=30)
    ap.add_argument("--photos", type=int, default=170)
    ap.add_argument("--up-kbit", type=float, default=256)
    ap.add_argument("--down-kbit", type=float, default=1024)
    ap.add_argument("--rtt-ms", type=float, default=300)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gridone-slowlink-"))
    db_path = tmp / "server" / "gridone.db"
    db_path.parent.mkdir()
    upgrade(f"sqlite:///{db_path}")
    from server.db import make_database

    db = make_database(f"sqlite:///{db_path}")
    world = build_world(db)
    db.dispose()
    server = ServerProcess(db_path, tmp / "server.log")
    server.start()
    proxy = FaultProxy(server.port, seed=1).start()
    office = Office(server, world.user("dispatcher1").id)
    try:
        run(args, tmp, db_path, world, proxy, office)
    finally:
        office.close()
        proxy.stop()
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path, db_path: Path, world: object, proxy: FaultProxy,
        office: Office) -> None:
    crew_id = world.user("crew1").id  # type: ignore[attr-defined]
    account = world.accounts["acc1"].id  # type: ignore[attr-defined]
    jobs = [office.new_job(account, crew_id)["id"] for _ in range(args.jobs)]
    began = time.monotonic()
    shots = camera_shots(args.photos)
    print(f"{len(shots)} camera photos made in {time.monotonic() - began:.0f} s")
    proxy.link = Link.kbit(args.up_kbit, args.down_kbit, args.rtt_ms)
    phone = make_device(proxy.url, tmp / "phone", "crew1", timeout_s=30)
    phone.engine.min_gap_s = 1.0
    began = time.monotonic()
    phone.sync()
    print(f"signed in and downloaded {len(jobs)} jobs over the link in "
          f"{time.monotonic() - began:.1f} s")
    phone.engine.start()
    proxy.outage(24 * 3600, blackhole=True)  # into the valley
    began = time.monotonic()
    per_job = [args.photos // args.jobs + (1 if i < args.photos % args.jobs else 0)
               for i in range(args.jobs)]
    shot = iter(shots)
    keep_for_later = jobs[-1]
    for job, n_photos in zip(jobs, per_job, strict=True):
        phone.actions.accept(job)
        phone.actions.start_travel(job)
        phone.actions.arrive(job, GPS)
        for k in range(n_photos):
            phone.actions.add_photo(job, next(shot), caption=f"meter {k}")
        notes = 10 - 4 - n_photos
        for k in range(max(notes, 0)):
            phone.actions.add_note(job, f"checked the fuse box ({k})")
        if job != keep_for_later:
            phone.actions.resolve(job, "replaced the fuse", "storm")
    status = phone.engine.status()
    print(f"the day offline: {status.waiting} ops, {status.photos_waiting} photos "
          f"({status.photo_bytes_left / 1024:.0f} KB) queued in {time.monotonic() - began:.0f} s")
    photo_bytes = status.photo_bytes_left
    with phone.store.read() as conn:
        made = {r[0]: r[1] for r in conn.exec_driver_sql("SELECT op_id, type FROM outbox")}

    proxy.signal_back()
    back = time.time()
    phone.engine.nudge()  # the phone's connectivity event
    ops_done = photos_done = tap_s = None
    tapped_at = tap_op = None
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        time.sleep(0.25)
        seen = received(db_path)
        if ops_done is None and all(op in seen for op in made):
            ops_done = max(seen[op][1] for op in made) - back
        on_server = photos_on_server(db_path)
        if tap_op is None and ops_done is not None and on_server < args.photos // 2:
            tap_op = phone.actions.resolve(keep_for_later, "replaced the fuse", "storm").op_id
            tapped_at = time.time()
        if tap_op is not None and tap_s is None and tap_op in seen:
            tap_s = seen[tap_op][1] - (tapped_at or 0)
        if photos_done is None and on_server >= args.photos:
            photos_done = time.time() - back
        if ops_done is not None and photos_done is not None and (tap_s is not None
                                                                 or tap_op is None):
            break
    phone.engine.stop(10)
    phone.close()
    seen = received(db_path)
    status_s = sorted(seen[op][1] - back for op, t in made.items()
                      if t in STATUS_TYPES and op in seen)
    lost = [op for op, t in made.items() if t in STATUS_TYPES and op not in seen]
    print(f"link: {args.up_kbit:.0f} kbit/s up, {args.down_kbit:.0f} kbit/s down, "
          f"{args.rtt_ms:.0f} ms RTT; carried up {proxy.link_stats['up'] / 1024:.0f} KB, "
          f"down {proxy.link_stats['down'] / 1024:.0f} KB")
    print(f"ops made offline: {len(made)} ({len(status_s)} status changes), photos: "
          f"{args.photos}, {photo_bytes / 1024 / max(args.photos, 1):.1f} KB each")
    print(f"status changes on the server after the signal returned: median "
          f"{statistics.median(status_s):.1f} s, max {max(status_s):.1f} s "
          f"(target: all within 30 s); not arrived: {len(lost)}")
    print(f"all ops on the server after {ops_done:.1f} s; all photos after "
          f"{(photos_done or float('nan')):.0f} s")
    if tap_s is not None:
        print(f"a status change tapped while photos still went up reached the server in "
              f"{tap_s:.1f} s")
    print(f"status_max_s={max(status_s):.1f} status_median_s={statistics.median(status_s):.1f} "
          f"ops_done_s={ops_done:.1f} photos_done_s={(photos_done or float('nan')):.0f} "
          f"tap_while_photos_s={(tap_s if tap_s is not None else float('nan')):.1f}")


if __name__ == "__main__":
    main()
