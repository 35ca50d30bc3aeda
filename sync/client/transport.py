"""HTTP to the GridOne server (httpx): auth header, token refresh, error classes, clock.

Every call either returns the decoded answer or raises one error of
``sync.client.errors``:

* ``TransientError`` — connect/read errors, timeouts, 408, 429, 5xx (``retry_after``
  from the ``Retry-After`` header when given): back off and try again;
* ``AuthRequired`` — 401 even after one refresh, or the refresh token refused;
* ``ClientTooOld`` — 426;
* ``PermanentError`` — any other 4xx, with the server's stable ``code``.

A 401 triggers one refresh and one retry. A refresh token works once, so the new pair is
saved (both tokens, one transaction) before it is used; a lost refresh answer therefore
means signing in again, never a silent logout loop.

Connecting gives up after ``CONNECT_TIMEOUT_S`` (2 s): a phone that lost its link learns
it within a few seconds, and every failed request flips ``reachable`` to False at once
(``on_reachable`` is called on each change, so the app can show "Offline" right away).
A request still unanswered after ``PROBE_AFTER_S`` (a dead link swallows packets: a
pooled connection then waits for its read timeout) starts a probe — ``GET /api/v1/health``
on a fresh connection, ``PROBE_TIMEOUT_S`` to answer; if it fails, ``reachable`` turns
False at once while the slow request goes on until its own timeout (a big push on a slow
link is not cut short). A long-poll pull (``wait_s``) is not probed; it gets a read
timeout of its wait plus ``LONG_POLL_SLACK_S``.

Each push and pull answer carries ``server_time``; with the local send and receive times
it gives one sample of the device clock's offset (``sync.clock.ClockEstimator``).
"""

from __future__ import annotations

import functools
import gzip
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx

from shared.timeutil import utcnow
from sync.client import jsontext
from sync.client.errors import (
    AuthRequired,
    ClientTooOld,
    PermanentError,
    TransientError,
)
from sync.clock import ClockEstimator
from sync.protocol import PROTOCOL_VERSION, PhotoStatus, PushResponse

CONNECT_TIMEOUT_S = 2.0
LONG_POLL_SLACK_S = 10.0
#: A request without an answer after this long makes the transport check the link.
PROBE_AFTER_S = 0.8
#: ...with a tiny request on a fresh connection that must answer within this long.
PROBE_TIMEOUT_S = 1.2
PROBE_PATH = "/api/v1/health"


class TokenStore(Protocol):
    def tokens(self) -> tuple[str | None, str | None]: ...

    def save_tokens(self, access: str, refresh: str) -> None: ...


class TransportFactory(Protocol):
    """How a device makes its transport: ``Transport`` itself over httpx, or
    ``sync.client.transport_fetch.fetch_transport`` in the browser."""

    def __call__(self, base_url: str, tokens: TokenStore, *, lang: str = ...,
                 timeout_s: float = ..., device_id: str | None = ...) -> Transport: ...


#: A push body at least this big goes gzip-encoded (smaller ones would barely shrink).
PUSH_GZIP_MIN_BYTES = 512


def push_body(body: dict[str, Any]) -> dict[str, Any]:
    """The request arguments of a push: compact JSON, gzip-encoded when that pays (the
    server decodes ``Content-Encoding: gzip`` with the same bound on the decoded size)."""
    wire = getattr(body, "wire", None)
    if wire is not None:  # encoded beforehand (``EncodedPush``)
        return wire  # type: ignore[no-any-return]
    raw = jsontext.dump_bytes(body)
    headers = {"Content-Type": "application/json"}
    if len(raw) >= PUSH_GZIP_MIN_BYTES:
        raw = gzip.compress(raw, compresslevel=3)
        headers["Content-Encoding"] = "gzip"
    return {"content": raw, "headers": headers}


def _when_body_sent(callback: Callable[[], object]) -> Callable[[str, Any], None]:
    """An httpcore trace hook (``extensions={"trace": ...}``) calling ``callback`` when a
    request's body has been written (HTTP/1.1 or HTTP/2)."""

    def trace(event: str, _info: Any) -> None:
        if event.endswith("send_request_body.complete"):
            callback()

    return trace


class EncodedPush(dict):  # type: ignore[type-arg]
    """A push body with its request arguments made beforehand (``push_body``), so that
    the pusher encodes and compresses the next batch while the one before it is with
    the server (``sync.client.push``). Still the body's dict for anything that reads it."""

    wire: dict[str, Any]

    @classmethod
    def of(cls, body: dict[str, Any]) -> EncodedPush:
        encoded = cls(body)
        encoded.wire = push_body(body)
        return encoded


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user_id: str
    role: str


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _error_body(resp: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        return body["code"], str(body.get("message") or body["code"]), details or {}
    return f"HTTP_{resp.status_code}", resp.reason_phrase or str(resp.status_code), {}


def classify(resp: httpx.Response) -> None:
    """Raise the error an unsuccessful answer stands for (return on 2xx)."""
    status = resp.status_code
    if status < 400:
        return
    code, message, details = _error_body(resp)
    if status == 426:
        raise ClientTooOld(message, code=code, status=status, details=details)
    if status == 401:
        raise AuthRequired(message, code=code, status=status, details=details)
    if status in (408, 429) or status >= 500:
        raise TransientError(message, code=code, status=status, details=details,
                             retry_after=_retry_after(resp))
    raise PermanentError(message, code=code, status=status, details=details)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once per process: making them reads the CA
    bundle (50-65 ms here), and a sign-in, a desk session and every new long-poll client
    would each pay it again, on the way to their first request."""
    return httpx.create_ssl_context()


class Transport:
    """One server. ``client`` may be given (a proxy in fault tests); by default an
    ``httpx.Client`` on ``base_url`` is made here and closed by ``close``."""

    def __init__(self, base_url: str, tokens: TokenStore, *, lang: str = "zh",
                 timeout_s: float = 30.0, client: httpx.Client | None = None,
                 device_id: str | None = None,
                 connect_timeout_s: float = CONNECT_TIMEOUT_S) -> None:
        self.tokens = tokens
        self.lang = lang
        #: Sent as ``X-Device-ID`` (the server counts sync budgets per device); learnt at
        #: sign-in when not given.
        self.device_id = device_id
        self.clock = ClockEstimator()
        self.timeout_s = timeout_s
        self.connect_timeout_s = min(timeout_s, connect_timeout_s)
        self._client = client or httpx.Client(
            base_url=base_url, verify=tls_context(),
            timeout=httpx.Timeout(timeout_s, connect=self.connect_timeout_s),
            headers={"User-Agent": f"GridOne-device/{PROTOCOL_VERSION}"})
        #: Long polls get their own client (``interrupt_long_poll`` closes it) unless a
        #: client was given (fault tests route everything through their proxy client).
        self._base_url = base_url
        self._given_client = client is not None
        self._live_client: httpx.Client | None = None
        self._live_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._reachable: bool | None = None
        #: None: no link probes (tests of timing that must not see extra requests).
        self.probe_after_s: float | None = PROBE_AFTER_S
        #: Called with the new value whenever ``reachable`` changes (from any thread).
        self.on_reachable: Callable[[bool], None] | None = None

    @property
    def reachable(self) -> bool | None:
        """True after any answer from the server, False after a connection failure."""
        return self._reachable

    @reachable.setter
    def reachable(self, value: bool) -> None:
        changed = value != self._reachable
        self._reachable = value
        if changed and self.on_reachable is not None:
            self.on_reachable(value)

    def close(self) -> None:
        self.interrupt_long_poll()
        self._client.close()

    def _long_poll_client(self) -> httpx.Client:
        if self._given_client:
            return self._client
        with self._live_lock:
            if self._live_client is None:
                self._live_client = httpx.Client(
                    base_url=self._base_url, verify=tls_context(),
                    headers=dict(self._client.headers))
            return self._live_client

    def interrupt_long_poll(self) -> None:
        """End a long poll in flight (from another thread): its pull fails at once."""
        with self._live_lock:
            live, self._live_client = self._live_client, None
        if live is not None:
            live.close()

    # -- plumbing -------------------------------------------------------------------
    def _send(self, method: str, url: str, *, token: str | None,
              client: httpx.Client | None = None, **kw: Any
              ) -> tuple[httpx.Response, datetime, datetime]:
        headers = {"Accept-Language": self.lang, **kw.pop("headers", {})}
        if self.device_id:
            headers["X-Device-ID"] = self.device_id
        if token:
            headers["Authorization"] = f"Bearer {token}"
        sent = utcnow()
        watchdog: threading.Timer | None = None
        if client is None and self.probe_after_s is not None and not self._given_client:
            watchdog = threading.Timer(self.probe_after_s, self._probe)
            watchdog.daemon = True
            try:
                watchdog.start()
            except RuntimeError:  # no threads here (Python in the browser): no probe
                watchdog = None
        try:
            resp = (client or self._client).request(method, url, headers=headers, **kw)
        except RuntimeError as exc:  # the long-poll client was closed under it
            raise TransientError(f"interrupted: {exc}", code="SYNC_OFFLINE") from exc
        except httpx.TransportError as exc:  # connect, read, write, timeout, protocol
            self.reachable = False
            raise TransientError(f"{type(exc).__name__}: {exc}", code="SYNC_OFFLINE") from exc
        finally:
            if watchdog is not None:
                watchdog.cancel()
        self.reachable = True
        return resp, sent, utcnow()

    def _probe(self) -> None:
        """Is the server reachable right now? (A request has waited long already.)"""
        try:  # the busy connection is taken: the pool opens a fresh one for this
            self._client.get(PROBE_PATH, timeout=PROBE_TIMEOUT_S)
        except httpx.TransportError:
            self.reachable = False
        except RuntimeError:  # the client was closed meanwhile
            pass

    def _authed(self, method: str, url: str, **kw: Any
                ) -> tuple[httpx.Response, datetime, datetime]:
        access, _ = self.tokens.tokens()
        if access is None:
            access = self._refresh(None)
        resp, sent, received = self._send(method, url, token=access, **kw)
        if resp.status_code == 401:
            access = self._refresh(access)
            resp, sent, received = self._send(method, url, token=access, **kw)
        classify(resp)
        return resp, sent, received

    def _refresh(self, stale_access: str | None) -> str:
        """Trade the refresh token for a new pair (once, even if several threads ask)."""
        with self._refresh_lock:
            access, refresh = self.tokens.tokens()
            if access is not None and access != stale_access:
                return access  # another caller refreshed meanwhile
            if not refresh:
                raise AuthRequired("not signed in", code="AUTH_REQUIRED", status=401)
            resp, _, _ = self._send("POST", "/api/v1/auth/refresh", token=None,
                                    json={"refresh_token": refresh})
            try:
                classify(resp)
            except (AuthRequired, ClientTooOld, TransientError):
                raise
            except PermanentError as exc:  # a refresh token the server will never take
                raise AuthRequired(exc.message, code=exc.code, status=exc.status,
                                   details=exc.details) from exc
            body = resp.json()
            self.tokens.save_tokens(body["access_token"], body["refresh_token"])
            return str(body["access_token"])

    # -- endpoints ------------------------------------------------------------------
    def login(self, username: str, password: str, device_id: str) -> TokenPair:
        self.device_id = device_id
        resp, _, _ = self._send("POST", "/api/v1/auth/token", token=None, data={
            "username": username, "password": password, "device_id": device_id})
        if resp.status_code == 401:
            code, message, details = _error_body(resp)
            raise PermanentError(message, code=code, status=401, details=details)
        classify(resp)
        b = resp.json()
        return TokenPair(b["access_token"], b["refresh_token"], int(b["expires_in"]),
                         b["user_id"], b["role"])

    def logout(self) -> None:
        """Revoke this login's refresh tokens on the server (raises when unreachable)."""
        _, refresh = self.tokens.tokens()
        if refresh:
            resp, _, _ = self._send("POST", "/api/v1/auth/logout", token=None,
                                    json={"refresh_token": refresh})
            classify(resp)

    def me(self, access_token: str | None = None) -> dict[str, Any]:
        if access_token is not None:
            resp, _, _ = self._send("GET", "/api/v1/me", token=access_token)
            classify(resp)
        else:
            resp, _, _ = self._authed("GET", "/api/v1/me")
        return resp.json()  # type: ignore[no-any-return]

    def push(self, body: dict[str, Any], *, on_sent: Callable[[], object] | None = None
             ) -> PushResponse:
        """``on_sent``: called once the request's body is written to the connection (each
        time it is, when a 401 sends it again), before the answer is read."""
        kw = push_body(body)
        if on_sent is not None:
            kw = {**kw, "extensions": {"trace": _when_body_sent(on_sent)}}
        resp, sent, received = self._authed("POST", "/api/v1/sync/push", **kw)
        answer = PushResponse.model_validate_json(resp.content)
        self.clock.sample(sent, received, answer.server_time)
        return answer

    def pull(self, cursor: str | None, limit: int, *, wait_s: float | None = None
             ) -> dict[str, Any]:
        """One page after ``cursor``. With ``wait_s`` a long poll: the server may hold
        the answer up to that long until a change in scope commits."""
        params: dict[str, Any] = {"limit": limit, "protocol": PROTOCOL_VERSION}
        if cursor:
            params["cursor"] = cursor
        kw: dict[str, Any] = {}
        if wait_s:
            params["wait"] = int(wait_s)
            kw["timeout"] = httpx.Timeout(max(self.timeout_s, wait_s + LONG_POLL_SLACK_S),
                                          connect=self.connect_timeout_s)
            kw["client"] = self._long_poll_client()
        resp, sent, received = self._authed("GET", "/api/v1/sync/pull", params=params, **kw)
        page: dict[str, Any] = jsontext.loads(resp.content)
        for key in ("changes", "next_cursor", "has_more"):
            if key not in page:
                raise TransientError(f"pull answer without {key!r}", code="SYNC_BAD_ANSWER")
        if page.get("server_time"):
            self.clock.sample(sent, received, datetime.fromisoformat(page["server_time"]))
        return page

    def photo_status(self, sha256: str) -> PhotoStatus:
        resp, _, _ = self._authed("GET", f"/api/v1/photos/{sha256}")
        return PhotoStatus.model_validate_json(resp.content)

    def photo_put(self, sha256: str, *, offset: int, chunk: bytes, size: int,
                  content_type: str) -> PhotoStatus:
        resp, _, _ = self._authed(
            "PUT", f"/api/v1/photos/{sha256}", params={"offset": offset}, content=chunk,
            headers={"Content-Type": "application/octet-stream", "X-Photo-Size": str(size),
                     "X-Photo-Type": content_type})
        return PhotoStatus.model_validate_json(resp.content)

    # -- online-only calls (money that needs the server now: not sync ops) -------------
    def create_payment_order(self, *, account_id: str, amount_fen: int,
                             idempotency_key: str) -> dict[str, Any]:
        """Start an online recharge; the same key again answers with the same order."""
        resp, _, _ = self._authed("POST", "/api/v1/payments/orders", json={
            "account_id": account_id, "amount_fen": amount_fen,
            "idempotency_key": idempotency_key})
        return resp.json()  # type: ignore[no-any-return]

    def my_scorecard(self, month: str | None = None) -> dict[str, Any]:
        """The signed-in staff member's scorecard for a month (default: this month)."""
        resp, _, _ = self._authed("GET", "/api/v1/appraisal/me",
                                  params={"month": month} if month else None)
        return resp.json()  # type: ignore[no-any-return]

    def payment_order(self, order_id: str) -> dict[str, Any]:
        resp, _, _ = self._authed("GET", f"/api/v1/payments/orders/{order_id}")
        return resp.json()  # type: ignore[no-any-return]

    def payment_receipt(self, order_id: str) -> dict[str, Any]:
        resp, _, _ = self._authed("GET", f"/api/v1/payments/orders/{order_id}/receipt")
        return resp.json()  # type: ignore[no-any-return]

    def correct_purchase_count(self, meter_id: str, *, correction_id: str, new_count: int,
                               expected_count: int | None, reason: str) -> dict[str, Any]:
        """Agents and managers: ask for a meter's purchase count to be corrected, with a
        reason. The server records it for another person's approval (four eyes) and
        answers the pending request (``id``, ``status``, ``old_count``, ``new_count``,
        ``meter_no``); the count changes only once approved. ``correction_id`` is the
        request's id: a resend answers the same request with ``duplicate`` true."""
        resp, _, _ = self._authed(
            "POST", f"/api/v1/billing/meters/{meter_id}/purchase-count",
            json={"id": correction_id, "new_count": new_count,
                  "expected_count": expected_count, "reason": reason})
        return resp.json()  # type: ignore[no-any-return]

    def approvals(self, *, kind: str | None = None, status: str | None = None,
                  limit: int = 20) -> dict[str, Any]:
        """Four-eyes requests, newest first (``items``, ``total``): an agent gets only the
        ones they recorded (with ``status``, ``old_count``/``new_count``, ``meter_no``,
        ``decided_by_name``, ``decision_reason``); ``kind`` e.g. ``purchase_count``."""
        params: dict[str, Any] = {"limit": limit}
        if kind:
            params["kind"] = kind
        if status:
            params["status"] = status
        resp, _, _ = self._authed("GET", "/api/v1/supervision/approvals", params=params)
        return resp.json()  # type: ignore[no-any-return]
