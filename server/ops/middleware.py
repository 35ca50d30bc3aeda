"""ASGI middleware of the ops side: request ids, latency metrics and the access log, and
security headers. Pure ASGI (no BaseHTTPMiddleware), so streaming and the request
context pass through untouched."""

from __future__ import annotations

import logging
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.ops.logs import REQUEST_ID
from server.ops.metrics import Metrics

access_log = logging.getLogger("gridone.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED = "<unmatched>"


class RequestMiddleware:
    """Takes the caller's ``X-Request-ID`` (or makes one), answers with it, and records
    the request's latency by route template (``/api/v1/work-orders/{order_id}``)."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"]
                      if k == b"x-request-id"), "")
        # one made here: 32 random hex digits (``uuid4().hex``'s form, without building a
        # UUID object on every request)
        request_id = given if _REQUEST_ID.match(given) else os.urandom(16).hex()
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()
        id_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # as ``MutableHeaders[...] = ...``: any X-Request-ID the app set replaced
                message["headers"] = [*(h for h in message.get("headers", ())
                                        if h[0].lower() != b"x-request-id"), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope["method"]
            metrics = self.metrics
            metrics.child(metrics.request_seconds, method, route).observe(seconds)
            metrics.child(metrics.requests, method, route, str(status)).inc()
            if access_log.isEnabledFor(logging.INFO):  # the record's fields only if kept
                access_log.info(
                    "%s %s %s %.1f ms", method, scope.get("path", ""), status, seconds * 1000,
                    extra={"method": method, "route": route, "status": status,
                           "duration_ms": round(seconds * 1000, 1),
                           "client": (scope.get("client") or ("-",))[0]})
            REQUEST_ID.reset(token)


#: API answers are JSON: nothing in them may run, frame or be sniffed as something else.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Swagger UI and ReDoc (FastAPI's /docs, /redoc) load their scripts from a CDN.
DOCS_PREFIXES = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    """Security headers on every answer (``security_headers``, ``hsts_seconds``)."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Permissions-Policy": "camera=(), geolocation=(), microphone=()",
        }
        if hsts_seconds:
            self.headers["Strict-Transport-Security"] = f"max-age={hsts_seconds}"
        # The headers as the ASGI message carries them, encoded once (setting them one by
        # one through ``MutableHeaders`` was ~4 % of a no-change pull's instructions).
        self._raw = [(k.lower().encode("latin-1"), v.encode("latin-1"))
                     for k, v in self.headers.items()]
        self._raw_api = [*self._raw, (b"content-security-policy", API_CSP.encode("latin-1"))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self._raw if scope.get("path", "").startswith(DOCS_PREFIXES) else self._raw_api

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # as ``MutableHeaders.setdefault`` each: a header the answer has is kept
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in ours if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
