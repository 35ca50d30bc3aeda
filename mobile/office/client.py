"""The office's HTTP client: the server's API, with the signed-in session's tokens.

Office screens are online: they read server-paged lists and act through the API (the same
domain services as everything else). ``OfficeClient`` reuses the device's token store and
the sync transport's refresh (one 401 -> one refresh -> one retry; a refresh token works
once and the new pair is saved before use), and turns every answer into either the decoded
JSON or an ``OfficeError`` with the server's stable code and message.

It also keeps the connection state the shell shows: ``online`` is False after a request
failed to reach the server (or the server failed), True after any answer; listeners hear
every change so a lost connection is said at once, never hidden.

Methods for the supervision screens live in ``client_supervision.py`` (a class taking this
client), so the two never edit the same file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from sync.client.errors import AuthRequired, PermanentError, TransientError
from sync.client.transport import CONNECT_TIMEOUT_S, TokenStore, Transport, tls_context
from sync.protocol import PROTOCOL_VERSION

#: Longest a board's long poll waits for a change (the server caps it too).
CHANGES_WAIT_S = 20.0


class OfficeError(Exception):
    """A request the server refused (``code`` is the stable code) or could not answer."""

    def __init__(self, message: str, *, code: str, status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}


class Offline(OfficeError):
    """The server could not be reached or failed (5xx, timeout): try again later."""


class SignedOut(OfficeError):
    """The session is gone (refresh refused): sign in again."""


class _Transport(Transport):
    """The sync transport with one generic authorised call."""

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        resp, _, _ = self._authed(method, path, **kw)
        return resp


class OfficeClient:
    def __init__(self, base_url: str, tokens: TokenStore, *, lang: str = "zh",
                 timeout_s: float = 15.0, client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        if client is None:
            client = httpx.Client(
                base_url=self.base_url, verify=tls_context(),
                timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)),
                headers={"User-Agent": f"GridOne-device/{PROTOCOL_VERSION}"})
        self._t = _Transport(self.base_url, tokens, lang=lang, timeout_s=timeout_s,
                             client=client)
        self.online: bool | None = None
        self.last_error: OfficeError | None = None
        self._listeners: list[Callable[[bool], Any]] = []
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------
    @property
    def lang(self) -> str:
        return self._t.lang

    @lang.setter
    def lang(self, value: str) -> None:
        self._t.lang = value

    def close(self) -> None:
        self._t.close()

    def on_connection(self, listener: Callable[[bool], Any]) -> None:
        """``listener(online)`` after every change of the connection state."""
        self._listeners.append(listener)

    def _set_online(self, online: bool) -> None:
        with self._lock:
            changed = self.online is not online
            self.online = online
        if changed:
            for listener in list(self._listeners):
                listener(online)

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                json: Any = None, timeout: float | None = None) -> Any:
        """The decoded answer (None for 204), or ``OfficeError`` / ``Offline`` /
        ``SignedOut``."""
        resp = self._send(method, path, params=params, json=json, timeout=timeout)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def download(self, path: str, **params: Any) -> bytes:
        """A file the server makes (a CSV or XLSX export): its bytes."""
        return self._send("GET", path, params=params).content

    def _send(self, method: str, path: str, *, params: dict[str, Any] | None = None,
              json: Any = None, timeout: float | None = None) -> httpx.Response:
        kw: dict[str, Any] = {}
        if params:
            kw["params"] = {k: v for k, v in params.items() if v not in (None, "")}
        if json is not None:
            kw["json"] = json
        if timeout is not None:
            kw["timeout"] = timeout
        try:
            resp = self._t.call(method, path, **kw)
        except AuthRequired as exc:
            self._set_online(True)
            raise SignedOut(exc.message, code=exc.code, status=exc.status) from exc
        except TransientError as exc:
            err = Offline(exc.message, code=exc.code, status=exc.status, details=exc.details)
            self.last_error = err
            self._set_online(False)
            raise err from exc
        except PermanentError as exc:
            self._set_online(True)
            raise OfficeError(exc.message, code=exc.code, status=exc.status,
                              details=exc.details) from exc
        self._set_online(True)
        return resp

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    # -- reference data ---------------------------------------------------------------
    def me(self) -> dict[str, Any]:
        return self.get("/api/v1/me")  # type: ignore[no-any-return]

    def desk_settings(self) -> dict[str, Any]:
        """Stations and areas for the filters, the map's tile server."""
        return self.get("/api/v1/dispatch/settings")  # type: ignore[no-any-return]

    # -- the board ----------------------------------------------------------------------
    def board(self, **query: Any) -> dict[str, Any]:
        return self.get("/api/v1/dispatch/board", **query)  # type: ignore[no-any-return]

    def board_counts(self, **query: Any) -> dict[str, Any]:
        return self.get("/api/v1/dispatch/board/counts", **query)  # type: ignore[no-any-return]

    def job(self, order_id: str) -> dict[str, Any]:
        return self.get(f"/api/v1/dispatch/jobs/{order_id}")  # type: ignore[no-any-return]

    def suggestions(self, order_id: str) -> dict[str, Any]:
        return self.get(  # type: ignore[no-any-return]
            f"/api/v1/dispatch/jobs/{order_id}/suggestions")

    def act(self, order_id: str, action: str, body: dict[str, Any] | None = None
            ) -> dict[str, Any]:
        """A state-machine action on one job (``dispatch``, ``reassign``, ``cancel`` …)."""
        return self.post(  # type: ignore[no-any-return]
            f"/api/v1/work-orders/{order_id}/{action.replace('_', '-')}", body or {})

    def set_priority(self, order_id: str, priority: str) -> dict[str, Any]:
        return self.post(f"/api/v1/dispatch/jobs/{order_id}/priority",  # type: ignore[no-any-return]
                         {"priority": priority})

    def bulk(self, action: str, order_ids: list[str], **fields: Any) -> dict[str, Any]:
        return self.post("/api/v1/dispatch/bulk",  # type: ignore[no-any-return]
                         {"action": action, "order_ids": order_ids, **fields})

    def changes(self, since: int, wait: float = CHANGES_WAIT_S) -> dict[str, Any]:
        """What changed on the board after ``since`` (waits up to ``wait`` s for a change)."""
        return self.request(  # type: ignore[no-any-return]
            "GET", "/api/v1/dispatch/changes", params={"since": since, "wait": wait},
            timeout=wait + 15.0)

    def map_data(self, **query: Any) -> dict[str, Any]:
        return self.get("/api/v1/dispatch/map", **query)  # type: ignore[no-any-return]

    # -- hotline ------------------------------------------------------------------------
    def find_accounts(self, q: str, limit: int = 20) -> dict[str, Any]:
        """The desk's customer search (account no., meter no., phone, name, address, ID
        documents); on a server without it, the accounts list's own search (account no.
        or name)."""
        try:
            return self.get("/api/v1/customers/search", q=q,  # type: ignore[no-any-return]
                            limit=limit)
        except OfficeError as exc:
            if exc.status != 404:
                raise
        return self.get("/api/v1/accounts", q=q, limit=limit)  # type: ignore[no-any-return]

    def report(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.post("/api/v1/work-orders", body)  # type: ignore[no-any-return]

    # -- roster -------------------------------------------------------------------------
    def roster(self, **query: Any) -> dict[str, Any]:
        return self.get("/api/v1/dispatch/roster", **query)  # type: ignore[no-any-return]

    def set_duty(self, user_id: str, on_duty: bool) -> dict[str, Any]:
        return self.put(f"/api/v1/dispatch/roster/{user_id}/duty",  # type: ignore[no-any-return]
                        {"on_duty": on_duty})

    # -- inbox --------------------------------------------------------------------------
    def inbox(self, *, unread: bool = False, limit: int = 30) -> list[dict[str, Any]]:
        return self.get("/api/v1/notifications", unread=str(unread).lower(),  # type: ignore[no-any-return]
                        limit=limit, lang=self.lang)

    def mark_read(self, notification_id: str) -> None:
        self.post(f"/api/v1/notifications/{notification_id}/read")

    # -- admin ----------------------------------------------------------------------------
    def stall_rules(self) -> list[dict[str, Any]]:
        return self.get("/api/v1/dispatch/stall-rules")  # type: ignore[no-any-return]

    def update_stall_rule(self, rule_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.put(f"/api/v1/dispatch/stall-rules/{rule_id}", body)  # type: ignore[no-any-return]

    def run_stall_check(self) -> dict[str, Any]:
        return self.post("/api/v1/dispatch/stall-rules/run")  # type: ignore[no-any-return]

    def scheduler(self) -> dict[str, Any]:
        return self.get("/api/v1/admin/scheduler")  # type: ignore[no-any-return]
