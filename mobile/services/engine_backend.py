"""``Backend`` over the sync engine in ``sync.client`` — the app's only way to the network.

One ``EngineBackend`` per device (per browser in web mode): its own SQLite store, photo
folder and engine. Reads go through ``ReadModel``; writes append an op to the outbox in
one local transaction (``Store.enqueue``), photos are prepared and queued with the op
that first refers to them (``sync.client.photos``).

Thin adapter notes (things ``sync.client`` does not do itself):

* the server URL is kept in ``device.json`` beside the store, so a restart without a
  signal still knows where to sync to;
* ``act(order_id, action, payload)`` hands the screens' actions to
  ``sync.client.actions.Actions`` (which decides and queues them);
* thumbnails for the screens are made here from the stored photo files.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mobile.services.backend import Row, SessionInfo
from shared.enums import Role, WorkOrderKind
from shared.meter_rules import SwapDraft
from shared.timeutil import utcnow
from shared.workorders.state_machine import Action
from sync.client import outbox, photos, rows
from sync.client.actions import Actions
from sync.client.applications import Applications, AppView
from sync.client.engine import SyncEngine
from sync.client.errors import NotSignedIn, PermanentError, TransientError
from sync.client.readmodel import CashLine, JobDetail, JobView, ReadModel
from sync.client.status import SyncStatus, read_status
from sync.client.store import SignedIn, Store

if TYPE_CHECKING:
    from sync.client.transport import Transport, TransportFactory

log = logging.getLogger(__name__)
THUMB_SIDE = 240


def http_transport(base_url: str, tokens: Any, **kw: Any) -> Transport:
    """``Transport`` over httpx, imported when the first one is made."""
    from sync.client.transport import Transport

    return Transport(base_url, tokens, **kw)


def _to_session(who: SignedIn, server_url: str) -> SessionInfo:
    return SessionInfo(user_id=who.user_id, role=Role(who.role), username=who.username,
                       display_name=who.display_name or who.username, server_url=server_url,
                       station_id=who.station_id, account_ids=tuple(who.account_ids))


class EngineBackend:
    def __init__(self, folder: Path, *, lang: str = "zh", poll_s: float = 20.0,
                 backoff_cap_s: float | None = None,
                 transport: TransportFactory = http_transport) -> None:
        """``poll_s``: between polls when the server does not hold long polls (and
        between timer passes); ``backoff_cap_s``: the longest wait between attempts
        while syncing fails (default ``sync.client.backoff.CAP_S``); ``transport``: how
        to reach the server (httpx; ``fetch`` in the browser build)."""
        self.folder = folder
        self.poll_s = poll_s
        self.backoff_cap_s = backoff_cap_s
        self.make_transport = transport
        self._listeners: list[Callable[[], None]] = []
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = Store(folder / "gridone.db")
        self.photo_dir = folder / "photos"
        self.lang = lang
        self.read = ReadModel(self.store, lang=lang)
        self.actions = Actions(self.store, photo_dir=self.photo_dir, on_change=self._nudge,
                               lang=lang)
        self.applications = Applications(self.store, on_change=self._nudge)
        self._engine: SyncEngine | None = None
        self._engine_url = ""
        self._lock = threading.Lock()
        self._thumbs: dict[str, bytes] = {}
        #: the server this device syncs with; its engine is made on first use (``_live``)
        self._saved_url = str(self._settings().get("server_url") or "")

    # -- device settings ----------------------------------------------------------------
    def _settings(self) -> dict[str, Any]:
        path = self.folder / "device.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_settings(self, **values: Any) -> None:
        data = {**self._settings(), **values}
        tmp = self.folder / "device.json.tmp"
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.folder / "device.json")

    # -- inbox read marks: a ``notification.read@1`` op each (offline first), so the
    # user's other phones and the office see the message read once it syncs; a message
    # the server marked read is read. Marks an older release kept only in device.json
    # still count here, and go up with the next mark.
    def read_notes(self) -> set[str]:
        return self.actions.read_marks() | self._legacy_read_notes()

    def _legacy_read_notes(self) -> set[str]:
        return {str(x) for x in self._settings().get("read_notes") or []}

    def mark_read(self, ids: list[str]) -> None:
        legacy = self._legacy_read_notes()
        self.actions.mark_read([*sorted(legacy), *ids])
        if legacy:
            self._save_settings(read_notes=[])

    @property
    def server_url(self) -> str:
        return str(self._settings().get("server_url") or "")

    def _live(self) -> SyncEngine | None:
        """The engine for the server this device syncs with, made when first needed: the
        transport (httpx and the standard library it pulls in, ~0.25 s of the browser
        app's start) stays off the path to the first screen. None: no server yet."""
        if self._engine is None and self._saved_url:
            return self._connect(self._saved_url)
        return self._engine

    def _connect(self, server_url: str) -> SyncEngine:
        with self._lock:
            server_url = server_url.rstrip("/")
            if self._engine is not None and self._engine_url == server_url:
                return self._engine
            running = bool(self._listeners)
            if self._engine is not None:
                self._engine.stop(timeout=1.0)
                self._engine.transport.close()
            transport = self.make_transport(server_url, self.store, lang=self.lang,
                                            timeout_s=15.0, device_id=self.store.device_id)
            self._engine = SyncEngine(self.store, transport, interval_s=max(self.poll_s, 20.0),
                                      poll_s=self.poll_s, backoff_cap_s=self.backoff_cap_s)
            self._engine_url = server_url
            for fn in self._listeners:
                self._engine.subscribe(fn)
            if running:
                self._engine.start()
            return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.stop(timeout=1.0)
            self._engine.transport.close()
        self.store.close()

    # -- session --------------------------------------------------------------------------
    def session(self) -> SessionInfo | None:
        """Who is signed in on this device (works offline: the tokens are kept here)."""
        who = self.store.signed_in()
        if who is None or not self.server_url:
            return None
        _, refresh = self.store.tokens()
        if refresh is None:
            return None
        return _to_session(who, self.server_url)

    def sign_in(self, server_url: str, username: str, password: str) -> SessionInfo:
        engine = self._connect(server_url)
        who = engine.login(username, password)
        self._saved_url = server_url.rstrip("/")
        self._save_settings(server_url=self._saved_url)
        return _to_session(who, server_url.rstrip("/"))

    def sign_out(self) -> None:
        """Revoke the login on the server when reachable; forget the tokens here. The
        outbox stays: nothing unsent is lost."""
        _, refresh = self.store.tokens()
        engine = self._live()
        if engine is not None and refresh:
            with contextlib.suppress(TransientError, PermanentError):
                engine.transport._send("POST", "/api/v1/auth/logout", token=None,
                                             json={"refresh_token": refresh})
        self.store.sign_out()

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.read.lang = lang
        self.actions.read.lang = lang
        if self._engine is not None:
            self._engine.transport.lang = lang
        self._save_settings(lang=lang)

    # -- reads ----------------------------------------------------------------------------
    def my_jobs(self, *, include_done: bool = False) -> list[JobView]:
        return self.read.my_jobs(include_done=include_done)

    def job(self, order_id: str) -> JobDetail | None:
        return self.read.job(order_id)

    def rows(self, entity: str) -> list[Row]:
        with self.store.read() as conn:
            return [r for _, r in rows.all_of(conn, entity)]

    def row(self, entity: str, row_id: str) -> Row | None:
        with self.store.read() as conn:
            got = rows.get(conn, entity, row_id)
        return got[1] if got else None

    def thumbnail(self, sha256: str) -> bytes | None:
        if sha256 in self._thumbs:
            return self._thumbs[sha256]
        path = photos.path_for(self.photo_dir, sha256)
        try:
            from PIL import Image
        except ImportError:  # in the browser: the stored photo is small already
            return path.read_bytes() if path.is_file() else None
        try:
            with Image.open(path) as img:
                img.thumbnail((THUMB_SIDE, THUMB_SIDE))
                out = io.BytesIO()
                img.convert("RGB").save(out, format="JPEG", quality=80)
        except OSError:
            return None
        self._thumbs[sha256] = out.getvalue()
        return self._thumbs[sha256]

    def remote_photo(self, sha256: str, *, thumb: bool) -> bytes | None:
        """A photo of a job in scope taken on another phone: its thumbnail (kept on this
        device once downloaded) or, on demand, the full photo; None offline or when the
        server does not have it yet."""
        cache = self.photo_dir / "remote" / f"{sha256}.thumb.jpg"
        if thumb and cache.exists():
            return cache.read_bytes()
        try:
            # the transport's signed-in request (it refreshes the token): a read, no op
            resp, _, _ = self._online()._authed(
                "GET", f"/api/v1/photos/{sha256}/content",
                params={"size": "thumb" if thumb else "full"})
        except (TransientError, PermanentError, NotSignedIn):
            return None
        data = resp.content
        if thumb and data:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(cache)
        return data or None

    def photo_bytes(self, sha256: str) -> bytes | None:
        """The full photo: from this device if it was taken here, else from the server."""
        path = photos.path_for(self.photo_dir, sha256)
        try:
            return path.read_bytes()
        except OSError:
            return self.remote_photo(sha256, thumb=False)

    # -- writes (sync.client.actions: checked offline, then queued) ---------------------
    def act(self, order_id: str, action: str, payload: dict[str, Any]) -> None:
        self.actions.act(order_id, Action(action), payload)

    def add_photo(self, order_id: str, data: bytes, caption: str | None = None) -> str:
        entry = self.actions.add_photo(order_id, data, caption)
        return str(entry.payload["sha256"])

    def record_swap(self, order_id: str, draft: SwapDraft) -> None:
        self.actions.record_swap(order_id, draft)

    def record_finding(self, order_id: str, data: dict[str, Any]) -> None:
        self.actions.record_finding(order_id, data)

    def report(self, *, account_id: str, description: str,
               location: dict[str, Any] | None, photo_shas: list[str]) -> str:
        return self.actions.report(kind=WorkOrderKind.FAULT_REPAIR, description=description,
                                   account_id=account_id, location=location,
                                   photo_shas=photo_shas)

    def store_photo(self, data: bytes) -> str:
        """Downscale (about 2000 px), store by SHA-256 and queue the upload."""
        return self.actions.take_photo(data)

    # -- business applications (issue 13): ops, checked offline by the shared rules -------
    def my_applications(self) -> list[AppView]:
        return self.applications.mine()

    def application(self, app_id: str) -> AppView | None:
        return self.applications.get(app_id)

    def apply(self, data: dict[str, Any]) -> str:
        return self.applications.apply(data)

    def resubmit_application(self, app_id: str, documents: dict[str, str]) -> None:
        self.applications.resubmit(app_id, documents)

    def rate_application(self, app_id: str, rating: int, comment: str | None = None) -> None:
        self.applications.rate(app_id, rating, comment)

    def install_meter(self, order_id: str, *, meter_no: str, start_kwh: str, card_no: str
                      ) -> None:
        self.applications.install(order_id, meter_no=meter_no, start_kwh=start_kwh,
                                  card_no=card_no)

    def installation_recorded(self, order_id: str) -> bool:
        return self.applications.installed(order_id)

    # -- money (issue 5): field cash is an op; online payment needs the server now -------
    def cash_recharge(self, *, account_id: str, amount_fen: int, receipt_no: str) -> str:
        return self.actions.cash_recharge(account_id=account_id, amount_fen=amount_fen,
                                          receipt_no=receipt_no).op_id

    def cash_recharges(self) -> list[CashLine]:
        return self.read.cash_recharges()

    def _online(self) -> Transport:
        """The transport for a call that cannot wait for sync (raises TransientError
        with SYNC_OFFLINE when there is no server to call)."""
        engine = self._live()
        if engine is None:
            raise TransientError("not connected to a server", code="SYNC_OFFLINE")
        return engine.transport

    def create_payment_order(self, *, account_id: str, amount_fen: int,
                             idempotency_key: str) -> dict[str, Any]:
        return self._online().create_payment_order(
            account_id=account_id, amount_fen=amount_fen, idempotency_key=idempotency_key)

    def payment_order(self, order_id: str) -> dict[str, Any]:
        return self._online().payment_order(order_id)

    def payment_receipt(self, order_id: str) -> dict[str, Any]:
        return self._online().payment_receipt(order_id)

    def correct_purchase_count(self, meter_id: str, *, correction_id: str, new_count: int,
                               expected_count: int | None, reason: str) -> dict[str, Any]:
        return self._online().correct_purchase_count(
            meter_id, correction_id=correction_id, new_count=new_count,
            expected_count=expected_count, reason=reason)

    def approval_requests(self, *, kind: str | None = None, limit: int = 10
                          ) -> list[dict[str, Any]]:
        """The user's four-eyes requests as the server lists them now (online only)."""
        return list(self._online().approvals(kind=kind, limit=limit)["items"])

    def my_scorecard(self, month: str | None = None) -> tuple[dict[str, Any], bool]:
        """The staff member's scorecard, and whether it is the copy kept from the last
        time it was fetched (no connection now: shown "as of" then, never hidden)."""
        key = f"scorecard:{month or 'current'}"
        try:
            card = self._online().my_scorecard(month)
        except TransientError:
            kept = self._settings().get(key)
            if kept is None:
                raise
            return kept, True
        self._save_settings(**{key: {**card, "fetched_at": utcnow().isoformat()}})
        return card, False

    def _nudge(self) -> None:
        if self._engine is not None:
            self._engine.nudge()

    # -- sync -----------------------------------------------------------------------------
    def start_sync(self, listener: Callable[[], None]) -> None:
        """Run the engine's scheduler (the only thing that decides when to sync) while at
        least one screen listens; ``listener()`` is called from the engine's threads
        after every pass, live page and change of reachability."""
        with self._lock:
            if listener not in self._listeners:
                self._listeners.append(listener)
        engine = self._live()
        if engine is not None:
            engine.subscribe(listener)
            engine.start()
            engine.nudge()

    def stop_sync(self, listener: Callable[[], None]) -> None:
        """Stop listening; the scheduler stops with the last listener."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
            engine, last = self._engine, not self._listeners
        if engine is not None:
            engine.unsubscribe(listener)
            if last:
                engine.stop(timeout=1.0)

    def nudge(self) -> None:
        """Sync at once: a local change, the link back, or "sync now"."""
        self._nudge()

    def sync_once(self) -> SyncStatus:
        engine = self._live()
        if engine is None:
            return self.status()
        try:
            engine.sync_once()
        except (TransientError, PermanentError, NotSignedIn):
            pass  # recorded by the engine, shown by status()
        except Exception:
            log.exception("sync pass failed")
        return self.status()

    def status(self) -> SyncStatus:
        if self._engine is not None:
            return self._engine.status()
        return read_status(self.store)

    def discard(self, op_id: str) -> None:
        if self._engine is not None:
            self._engine.discard(op_id)
            return
        with self.store.write() as conn:
            outbox.discard(conn, op_id)

    def retry(self, op_id: str) -> None:
        if self._engine is not None:
            self._engine.retry(op_id)
            return
        with self.store.write() as conn:
            outbox.retry(conn, op_id)
