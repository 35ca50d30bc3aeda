"""The sync engine: one pass (``sync_once``), and the device's one sync scheduler.

A pass pushes the outbox (``sync.client.push``), uploads queued photos
(``sync.client.upload``) and pulls changes until there are no more
(``sync.client.pull``). Ops go before photos: an upload stops between chunks as soon as
a new op is made (``nudge``), the pass pushes it and then resumes the photos, so a status
change never waits behind a queue of photos on a slow link. An interrupted upload still
lets the pull run (the pass then counts as failed and is retried with backoff). Only one
pass runs at a time.

The scheduler (``start``/``run_forever``) is the only thing that decides when to sync
(the app has no timer of its own). It runs a pass, then sleeps:

* after success, ``interval_s`` (sooner if an op asked to be retried earlier);
* after a transient failure, ``backoff_s`` (exponential, full jitter), never less than
  ``min_gap_s`` and never before what ``Retry-After`` asked;
* when signed out or the app is too old, until nudged (sign-in, update) or ``IDLE_S``.

``nudge()`` wakes it at once (a new local op, connectivity back, "sync now"); nudges
closer than ``min_gap_s`` to the last pass wait out the gap, so a burst of taps makes one
request, and a nudge never cuts short the wait a server asked for (``Retry-After``).

While the last pass succeeded, a second thread (``live``) keeps one long-poll pull open
(``wait`` ≤ ``LONG_POLL_S``): a change the server commits in the user's scope reaches the
read model as soon as the server answers. A server that ignores ``wait`` answers at once;
then the listener waits out ``poll_s`` between polls (never a hot loop).

Every failure is recorded in the store (``last_error``) and shown by ``status()``; the
loop never dies on an error and never retries in a tight loop. ``subscribe(fn)`` calls
``fn()`` (from the engine's threads) after every pass, every live page and every change
of reachability: the app refreshes what it shows then, instead of polling.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from shared.enums import Role
from shared.timeutil import utcnow
from sync.client import outbox
from sync.client.backoff import backoff_s
from sync.client.errors import (
    AuthRequired,
    ClientTooOld,
    NotSignedIn,
    PermanentError,
    TransientError,
)
from sync.client.pull import Puller, PullReport
from sync.client.push import Pusher, PushReport
from sync.client.status import SyncStatus, read_status
from sync.client.store import Key, SignedIn, Store
from sync.client.timefmt import to_iso
from sync.client.upload import PhotoUploader, UploadReport
from sync.protocol import DEFAULT_PULL_LIMIT

if TYPE_CHECKING:  # made by the device, imported with httpx only when used
    from sync.client.transport import Transport

log = logging.getLogger(__name__)

#: How long to wait when nothing can be done until a sign-in or an update nudges the loop.
IDLE_S = 300.0
MIN_GAP_S = 1.0
#: The long poll's ``wait`` (the server holds a pull up to this long).
LONG_POLL_S = 25.0
#: Between polls when the server answers an empty long poll early (it ignores ``wait``).
POLL_S = 20.0
#: How long ``stop`` waits for the live listener to end its long poll before letting it go.
LISTENER_GRACE_S = 1.0


@dataclass
class SyncReport:
    push: PushReport = field(default_factory=PushReport)
    upload: UploadReport = field(default_factory=UploadReport)
    pull: PullReport = field(default_factory=PullReport)

    @property
    def retry_at(self) -> datetime | None:
        return self.push.outcome.retry_at


class SyncEngine:
    def __init__(self, store: Store, transport: Transport, *, interval_s: float = 60.0,
                 pull_limit: int = DEFAULT_PULL_LIMIT, rng: random.Random | None = None,
                 min_gap_s: float = MIN_GAP_S, live: bool = True,
                 long_poll_s: float = LONG_POLL_S, poll_s: float = POLL_S,
                 backoff_cap_s: float | None = None) -> None:
        self.store = store
        self.transport = transport
        self.interval_s = interval_s
        self.min_gap_s = min_gap_s
        self.live = live
        self.long_poll_s = long_poll_s
        self.poll_s = poll_s
        self.backoff_cap_s = backoff_cap_s
        self.rng = rng or random.Random()
        self.pusher = Pusher(store, transport, self.rng)
        self.uploader = PhotoUploader(store, transport)
        self.puller = Puller(store, transport, limit=pull_limit)
        self._pass_lock = threading.Lock()
        self._wake = threading.Event()
        self._local_change = threading.Event()  # an op was made: uploads give way
        self._stopping = threading.Event()
        self._healthy = threading.Event()  # the last pass succeeded: the listener may poll
        self._thread: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        #: bumped by every start: a listener let go by ``stop`` knows it is no longer wanted
        self._generation = 0
        self._subscribers: list[Callable[[], None]] = []
        self.live_pages = 0
        self._listen_failures = 0
        transport.on_reachable = lambda _value: self._emit()
        self._syncing = False
        self._next_at: datetime | None = None
        self._last_pass_at: float = 0.0
        self._not_before: float = 0.0  # monotonic time before which the server asked us to wait
        self._update_required = False
        self.failures = 0

    # -- signing in -----------------------------------------------------------------
    def login(self, username: str, password: str) -> SignedIn:
        pair = self.transport.login(username, password, self.store.device_id)
        me = self.transport.me(pair.access_token)
        who = SignedIn(user_id=pair.user_id, role=Role(pair.role), username=me["username"],
                       display_name=me.get("display_name", ""), station_id=me.get("station_id"),
                       account_ids=tuple(me.get("account_ids") or ()))
        self.store.sign_in(who, access=pair.access_token, refresh=pair.refresh_token)
        self.nudge()
        return who

    def logout(self) -> bool:
        """Sign out: revoke the login on the server when it can be reached (returns
        whether it was), and forget the tokens here. The outbox stays: nothing unsent is
        lost, and it is sent after the same user signs in again."""
        revoked = True
        try:
            self.transport.logout()
        except (TransientError, PermanentError):
            revoked = False
        self.store.sign_out()
        return revoked

    # -- one pass -------------------------------------------------------------------
    def sync_once(self) -> SyncReport:
        """Push, upload photos, pull. Raises what stopped it (after recording it)."""
        with self._pass_lock:
            self._syncing = True
            try:
                return self._pass()
            except (TransientError, PermanentError) as exc:
                if isinstance(exc, AuthRequired):
                    self.store.sign_out()
                self._update_required = isinstance(exc, ClientTooOld)
                self.store.record_error(exc.code, exc.message, exc.details)
                raise
            except NotSignedIn as exc:
                self.store.record_error("SYNC_NOT_SIGNED_IN", str(exc))
                raise
            except Exception as exc:
                self.store.record_error("SYNC_CLIENT_ERROR", f"{type(exc).__name__}: {exc}")
                raise
            finally:
                self._syncing = False
                self._save_clock()

    def _pass(self) -> SyncReport:
        who = self.store.signed_in()
        if who is None:
            raise NotSignedIn("nobody is signed in on this device")
        report = SyncReport()
        self._local_change.clear()  # before the push: an op made after it sets it again
        report.push = self.pusher.run(who)
        upload_failed: TransientError | None = None
        try:
            while True:  # photos, giving way to every op made meanwhile
                upload = self.uploader.run(give_way=self._local_change.is_set)
                report.upload.add(upload)
                if not upload.gave_way:
                    break
                self._local_change.clear()
                report.push.merge(self.pusher.run(who))
        except TransientError as exc:  # a flaky upload must not keep fresh data away
            upload_failed = exc
        report.pull = self.puller.run()
        self._update_required = False
        if upload_failed is not None:
            raise upload_failed
        with self.store.write() as conn:
            self.store.put(conn, Key.LAST_SUCCESS, to_iso(utcnow()))
        return report

    def _save_clock(self) -> None:
        offset = self.transport.clock.offset_s
        if offset is not None:
            with self.store.write() as conn:
                self.store.put(conn, Key.CLOCK_OFFSET, offset)

    # -- the loop -------------------------------------------------------------------
    def subscribe(self, fn: Callable[[], None]) -> None:
        """Call ``fn()`` after every pass, live page and change of reachability (once,
        however often it subscribes)."""
        if fn not in self._subscribers:
            self._subscribers.append(fn)

    def unsubscribe(self, fn: Callable[[], None]) -> None:
        if fn in self._subscribers:
            self._subscribers.remove(fn)

    def _emit(self) -> None:
        for fn in list(self._subscribers):
            try:
                fn()
            except Exception:  # a listener's trouble never stops sync
                log.exception("sync listener failed")

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._generation += 1
        self._thread = threading.Thread(target=self.run_forever, name="gridone-sync",
                                        daemon=True)
        self._thread.start()
        if self.live:
            self._listener = threading.Thread(target=self._listen_forever,
                                              args=(self._generation,),
                                              name="gridone-live", daemon=True)
            self._listener.start()

    def stop(self, timeout: float = 35.0) -> bool:
        """Stop the loop; returns True when it has ended (a request in flight finishes or
        times out first).

        The live listener is asked to end its long poll (the transport closes its
        connection); where the platform does not wake a blocked read on close, the listener
        is let go after ``LISTENER_GRACE_S``: whatever its poll brings back later is
        dropped, never applied (``_listening``), and it ends by itself."""
        self._stopping.set()
        self._healthy.set()  # lets a waiting listener see the stop
        self._wake.set()
        interrupt = getattr(self.transport, "interrupt_long_poll", None)
        if interrupt is not None:
            interrupt()  # a long poll in flight ends now, not in up to 25 s
        deadline = time.monotonic() + timeout
        thread = self._thread
        if thread is not None:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                return False
        listener = self._listener
        grace = min(deadline, time.monotonic() + LISTENER_GRACE_S)
        while listener is not None and listener.is_alive() and time.monotonic() < grace:
            # again: a listener that checked for the stop just before it was asked may
            # have opened its next long poll after the first interrupt
            if interrupt is not None:
                interrupt()
            listener.join(min(0.2, max(0.0, grace - time.monotonic())))
        self._thread = self._listener = None
        self._healthy.clear()
        return True

    def nudge(self) -> None:
        """Sync at once: a local change, the link back, or the user asked."""
        self._local_change.set()
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stopping.is_set():
            self._last_pass_at = time.monotonic()
            delay = self._one_round()
            if self.failures:
                self._healthy.clear()
            else:
                self._healthy.set()
            self._next_at = utcnow() + timedelta(seconds=delay)
            self._emit()
            woke = self._wake.wait(delay)
            self._wake.clear()
            if woke and not self._stopping.is_set():
                now = time.monotonic()  # a nudge never cuts short a Retry-After
                gap = max(self.min_gap_s - (now - self._last_pass_at), self._not_before - now)
                if gap > 0:
                    self._stopping.wait(gap)
        self._next_at = None

    def _backoff(self, failures: int | None = None) -> float:
        n = self.failures if failures is None else failures
        return backoff_s(n, self.rng, self.backoff_cap_s)

    def _one_round(self) -> float:
        """Run a pass; return how long to sleep before the next one."""
        try:
            report = self.sync_once()
        except (AuthRequired, ClientTooOld, NotSignedIn):
            self.failures += 1
            return IDLE_S  # nothing to do until a sign-in or an update nudges us
        except TransientError as exc:
            self.failures += 1
            if exc.retry_after:
                self._not_before = time.monotonic() + exc.retry_after
            return max(self._backoff(), exc.retry_after or 0.0, self.min_gap_s)
        except Exception:  # recorded by sync_once; keep going, slowly
            self.failures += 1
            return max(self._backoff(), self.min_gap_s)
        self.failures = 0
        delay = self.interval_s
        if report.retry_at is not None:
            delay = min(delay, max((report.retry_at - utcnow()).total_seconds(), MIN_GAP_S))
        return delay

    # -- live delivery: one long poll open while online ------------------------------
    def _listening(self, generation: int) -> bool:
        """This listener is still wanted (not stopped, not replaced by a restart)."""
        return not self._stopping.is_set() and generation == self._generation

    def _listen_forever(self, generation: int = 0) -> None:
        while self._listening(generation):
            self._healthy.wait()
            if not self._listening(generation):
                break
            if time.monotonic() < self._not_before:
                self._stopping.wait(self._not_before - time.monotonic())
                continue
            began = time.monotonic()
            try:
                got = self._listen_once(lambda: self._listening(generation))
            except Exception as exc:  # the engine's next pass records it and backs off
                self._listen_failures += 1
                self._healthy.clear()
                retry_after = getattr(exc, "retry_after", None)
                if retry_after:  # the server asked everyone on this device to wait
                    self._not_before = max(self._not_before, time.monotonic() + retry_after)
                else:
                    self.nudge()
                self._stopping.wait(max(self.min_gap_s,
                                        self._backoff(self._listen_failures)))
                continue
            self._listen_failures = 0
            if got is not None and got.changes:
                self._emit()
            if got is not None and got.more:
                self.nudge()  # the rest comes with a full pull
            elapsed = time.monotonic() - began
            if (got is None or not got.changes) and elapsed < self.long_poll_s / 2:
                # answered at once without news: the server ignores ``wait``
                self._stopping.wait(max(self.poll_s - elapsed, self.min_gap_s))

    def _listen_once(self, wanted: Callable[[], bool] = lambda: True) -> PullReport | None:
        if self.store.signed_in() is None:
            self._healthy.clear()
            return None
        got = self.puller.listen(self.long_poll_s, wanted=wanted)
        if got is not None:
            self.live_pages += 1
        return got

    # -- what the app shows and the user decides ------------------------------------
    def status(self) -> SyncStatus:
        return read_status(self.store, online=self.transport.reachable,
                           running=self._thread is not None and self._thread.is_alive(),
                           syncing=self._syncing, next_attempt_at=self._next_at,
                           update_required=self._update_required)

    def discard(self, op_id: str, *, with_dependents: bool = True) -> int:
        with self.store.write() as conn:
            n = outbox.discard(conn, op_id, with_dependents=with_dependents)
        self.nudge()
        return n

    def retry(self, op_id: str) -> int:
        with self.store.write() as conn:
            n = outbox.retry(conn, op_id)
        self.nudge()
        return n

