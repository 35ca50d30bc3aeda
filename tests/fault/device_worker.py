"""A phone in its own process: ``python -m tests.fault.device_worker CONFIG.json``.

The real device engine (``Store`` on its own SQLite file, ``Transport`` over HTTP through
the fault proxy, ``SyncEngine`` running its background loop, ``Actions``) driven by a
``Player`` with a seeded RNG. Each op is written to ``journal.log`` once ``enqueue`` has
returned (so the journal never names an op the database lacks). The process exits 0 once
it has made ``ops`` ops and its outbox has nothing left to send (or ``drain_s`` passed).

The test kills it (SIGKILL) at random moments and starts it again on the same folder. It
also kills itself, with probability ``self_kill`` each time, at the sharpest points:
right after a push was answered (before the answers are recorded), after a pull page
arrived (before it is applied), and after a photo chunk was stored.

Timers are compressed (backoff base 0.1 s instead of 2 s): the behaviour is the same,
the test is faster.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

from sync.client import backoff
from sync.client import engine as engine_mod
from sync.client.actions import Actions
from sync.client.engine import SyncEngine
from sync.client.errors import NotSignedIn, PermanentError, TransientError
from sync.client.outbox import OutboxEntry
from sync.client.store import Key, Store
from sync.client.transport import Transport
from sync.protocol import PhotoStatus, PushResponse
from tests.fault.player import Player, photos_waiting, unsent


def write_atomically(path: Path, text: str) -> None:
    """Never a half-written file, however the process dies."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def read_int(path: Path) -> int:
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        return 0


def compress_time() -> None:
    backoff.BASE_S = 0.1
    backoff.CAP_S = 1.0
    engine_mod.MIN_GAP_S = 0.05


class Events:
    def __init__(self, path: Path) -> None:
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 (kept for the process)

    def write(self, kind: str, **data: Any) -> None:
        self._fh.write(json.dumps({"t": time.time(), "event": kind, **data}) + "\n")
        self._fh.flush()


class KillingTransport(Transport):
    """Dies (SIGKILL, like the OS ending the app) right after an answer arrived."""

    def __init__(self, *a: Any, rng: random.Random, p: float, events: Events, **kw: Any
                 ) -> None:
        super().__init__(*a, **kw)
        self._rng, self._p, self._events = rng, p, events
        self.dead_zone_until = 0.0
        self.kill_once: set[str] = set()  # die the first time each of these is reached
        self.kill_once_file: Path | None = None

    def _send(self, method: str, url: str, **kw: Any) -> Any:
        if time.monotonic() < self.dead_zone_until:  # no signal here: nothing leaves
            self.reachable = False
            raise TransientError("no signal", code="SYNC_OFFLINE")
        return super()._send(method, url, **kw)

    def _maybe_die(self, where: str) -> None:
        once = self.kill_once_file
        if once is not None and where in self.kill_once:
            done = set(once.read_text().split()) if once.exists() else set()
            if where not in done:
                # the event first, then "done": a kill from outside between the two makes
                # the phone die here once more (two events), never die with none written
                self._events.write("self_kill", where=where)
                write_atomically(once, " ".join(sorted(done | {where})))
                self._die(where, noted=True)
        if self._p and self._rng.random() < self._p:
            self._die(where)

    def _die(self, where: str, *, noted: bool = False) -> None:
        if not noted:
            self._events.write("self_kill", where=where)
        os.kill(os.getpid(), signal.SIGKILL)

    def push(self, body: dict[str, Any], **kw: Any) -> PushResponse:
        answer = super().push(body, **kw)
        self._maybe_die("push_answered")
        return answer

    def pull(self, cursor: str | None, limit: int, **kw: Any) -> dict[str, Any]:
        page = super().pull(cursor, limit, **kw)
        self._maybe_die("pull_page")
        return page

    def photo_put(self, sha256: str, **kw: Any) -> PhotoStatus:
        status = super().photo_put(sha256, **kw)
        self._maybe_die("photo_chunk")
        return status


def _login(engine: SyncEngine, username: str, password: str, events: Events, deadline: float
           ) -> None:
    while True:
        try:
            engine.login(username, password)
            events.write("login")
            return
        except (TransientError, PermanentError) as exc:
            if time.monotonic() > deadline:
                raise
            events.write("login_failed", code=exc.code)
            time.sleep(0.2)


def main(config_path: str) -> int:
    cfg = json.loads(Path(config_path).read_text())
    folder = Path(cfg["dir"])
    folder.mkdir(parents=True, exist_ok=True)
    events = Events(folder / "events.log")
    starts_file = folder / "starts"
    starts = read_int(starts_file) + 1
    write_atomically(starts_file, str(starts))
    rng = random.Random(f"{cfg['seed']}:{starts}")
    compress_time()
    store = Store(folder / "gridone.db")
    transport = KillingTransport(cfg["url"], store, lang="en",
                                 timeout_s=float(cfg.get("timeout_s", 5)),
                                 rng=random.Random(f"kill:{cfg['seed']}:{starts}"),
                                 p=float(cfg.get("self_kill", 0.0)), events=events)
    transport.kill_once = set(cfg.get("kill_once", ()))
    transport.kill_once_file = folder / "killed_once"
    engine = SyncEngine(store, transport, interval_s=float(cfg.get("interval_s", 0.3)),
                        min_gap_s=0.02, rng=rng)
    actions = Actions(store, photo_dir=folder / "photos", on_change=engine.nudge, lang="en")
    journal = open(folder / "journal.log", "a", encoding="utf-8")  # noqa: SIM115

    def made(e: OutboxEntry) -> None:
        journal.write(json.dumps({"seq": e.device_seq, "op_id": e.op_id, "type": e.type,
                                  "entity_id": e.entity_id}) + "\n")
        journal.flush()

    player = Player(store, actions, engine, rng, photo_rate=float(cfg.get("photo_rate", 0.05)),
                    poison_rate=float(cfg.get("poison_rate", 0.01)), made=made)
    events.write("start", starts=starts, seq=int(store.state(Key.DEVICE_SEQ, 0) or 0))
    deadline = time.monotonic() + float(cfg.get("max_s", 600))
    think = cfg.get("think_ms", [0, 20])
    target = int(cfg["ops"])
    try:
        if store.signed_in() is None or store.tokens()[1] is None:
            _login(engine, cfg["username"], cfg["password"], events, deadline)
        engine.start()
        while int(store.state(Key.DEVICE_SEQ, 0) or 0) < target:
            if time.monotonic() > deadline:
                events.write("gave_up_making_ops")
                return 3
            if store.tokens()[1] is None:  # signed out (refresh refused): sign in again
                events.write("relogin")
                _login(engine, cfg["username"], cfg["password"], events, deadline)
            try:
                player.step()
            except NotSignedIn:
                continue
            if rng.random() < float(cfg.get("dead_zone_rate", 0.0)):
                seconds = rng.uniform(0.5, 3.0)
                events.write("dead_zone", seconds=seconds)
                transport.dead_zone_until = time.monotonic() + seconds
            if rng.random() < float(cfg.get("expire_rate", 0.0)):
                with store.write() as conn:  # the access token ran out
                    store.put(conn, Key.ACCESS_TOKEN, "expired.access.token")
            time.sleep(rng.uniform(think[0], think[1]) / 1000)
        events.write("made", counts=player.counts)
        transport.dead_zone_until = 0.0
        drain_until = time.monotonic() + float(cfg.get("drain_s", 20))
        while time.monotonic() < drain_until:
            if unsent(store) == 0 and photos_waiting(store) == 0:
                break
            if store.tokens()[1] is None:
                events.write("relogin")
                _login(engine, cfg["username"], cfg["password"], events, deadline)
            engine.nudge()
            time.sleep(0.2)
        events.write("done", unsent=unsent(store), photos=photos_waiting(store))
        return 0
    finally:
        engine.stop(10)
        transport.close()
        store.close()
        journal.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
