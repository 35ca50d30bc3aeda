"""ASGI middleware of the ops side: request ids, latency metrics and the access log, and
security headers. Pure ASGI (no BaseHTTPMiddleware), so streaming and the request
context pass through untouched."""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
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
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "").startswith(DOCS_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if not docs:
                    headers.setdefault("Content-Security-Policy", API_CSP)
            await send(message)

        await self.app(scope, receive, send_with_headers)
