"""The device's HTTP in the browser: ``Transport`` over the worker's ``XMLHttpRequest``.

Python in the browser (Pyodide) cannot open sockets, so httpx's own transport cannot
connect. ``XhrTransport`` is an ``httpx.BaseTransport`` that sends each request as a
synchronous ``XMLHttpRequest`` of the web worker Python runs in (synchronous requests are
allowed in workers, never on a page). Everything above it is the same code as on a phone:
``sync.client.transport.Transport`` with its auth header, refresh, timeouts and error
classes — a request the browser cannot send becomes the same ``httpx.ConnectError`` (and
so ``TransientError`` ``SYNC_OFFLINE``) as a refused socket, a timeout the same
``httpx.ReadTimeout``.

The synchronous request holds the worker for its duration, as a blocking socket holds a
thread; the engine's calls are short (15 s at most, and a cut connection fails at once).
"""

from __future__ import annotations

from typing import Any

import httpx

from sync.client.transport import TokenStore, Transport
from sync.protocol import PROTOCOL_VERSION

#: Headers the browser sets itself and refuses from a script (the Fetch standard's list).
FORBIDDEN = frozenset({
    "accept-charset", "accept-encoding", "access-control-request-headers",
    "access-control-request-method", "connection", "content-length", "cookie", "cookie2",
    "date", "dnt", "expect", "host", "keep-alive", "origin", "referer", "te", "trailer",
    "transfer-encoding", "upgrade", "user-agent", "via"})
#: Answer headers that describe the bytes on the wire, not the (decoded) body we get.
WIRE_ONLY = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def parse_headers(raw: str) -> list[tuple[str, str]]:
    """``getAllResponseHeaders()`` text as pairs, without the wire-only ones."""
    out = []
    for line in raw.split("\r\n"):
        name, sep, value = line.partition(":")
        if sep and name.strip() and name.strip().lower() not in WIRE_ONLY:
            out.append((name.strip(), value.strip()))
    return out


def failure(name: str, message: str, request: httpx.Request) -> httpx.TransportError:
    """The httpx error a failed ``XMLHttpRequest`` stands for (by the DOMException name)."""
    text = f"{name}: {message}"
    if name == "TimeoutError":
        return httpx.ReadTimeout(text, request=request)
    return httpx.ConnectError(text, request=request)


def _timeout_ms(request: httpx.Request) -> int:
    timeout = request.extensions.get("timeout") or {}
    values = [v for v in (timeout.get("connect"), timeout.get("read")) if v]
    return int(max(values) * 1000) if values else 0


class XhrTransport(httpx.BaseTransport):
    """Send requests with the worker's synchronous ``XMLHttpRequest``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        from js import Uint8Array, XMLHttpRequest  # type: ignore[import-not-found]
        from pyodide.ffi import JsException  # type: ignore[import-not-found]

        xhr = XMLHttpRequest.new()
        body = request.read()
        try:
            xhr.open(request.method, str(request.url), False)
            xhr.responseType = "arraybuffer"
            xhr.timeout = _timeout_ms(request)
            for name, value in request.headers.multi_items():
                if name.lower() not in FORBIDDEN:
                    xhr.setRequestHeader(name, value)
            xhr.send(Uint8Array.new(body) if body else None)
        except JsException as exc:
            raise failure(getattr(exc, "name", "") or type(exc).__name__, str(exc),
                          request) from exc
        if xhr.status == 0:  # blocked or cut without an exception
            raise failure("NetworkError", "no answer", request)
        content = xhr.response.to_bytes() if xhr.response is not None else b""
        return httpx.Response(xhr.status, headers=parse_headers(xhr.getAllResponseHeaders()),
                              content=content, request=request)


def fetch_transport(base_url: str, tokens: TokenStore, *, lang: str = "zh",
                    timeout_s: float = 30.0, device_id: str | None = None,
                    **_: Any) -> Transport:
    """A ``Transport`` (same interface, timeouts and errors) that works in the browser."""
    client = httpx.Client(
        base_url=base_url, transport=XhrTransport(), trust_env=False,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)),
        headers={"User-Agent": f"GridOne-device/{PROTOCOL_VERSION}"})
    return Transport(base_url, tokens, lang=lang, timeout_s=timeout_s, client=client,
                     device_id=device_id)
