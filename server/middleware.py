"""ASGI middleware: a NUL character in the URL refused, the request body's size limit
(counted, not trusted from Content-Length), and gzip-encoded request bodies
(``Content-Encoding: gzip``) decoded with a bound on the decoded size.

Each reads only the request headers it needs from the raw list (``_header``): building a
dict of every header, on every request, was a measurable part of a no-change pull."""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import error_body, http_status
from shared.errors import ErrorCode
from shared.messages import negotiate


class _TooLarge(Exception):
    pass


class RefuseNulInUrl:
    """A NUL character in the path or the query (raw or ``%00``) is never meant, and
    PostgreSQL cannot even compare text with one: 422 ``VALIDATION_ERROR`` before any
    route runs. (Pure ASGI: as an app-wide FastAPI dependency it made every request solve
    a dependency, ~6 % of a no-change pull's instructions.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and nul_in_url(scope):
            await _answer(send, http_status(ErrorCode.VALIDATION_ERROR), error_body(
                ErrorCode.VALIDATION_ERROR, _lang(scope),
                {"summary": "NUL character in the URL"}))
            return
        await self.app(scope, receive, send)


def nul_in_url(scope: Scope) -> bool:
    """Whether the path (decoded by the server) or the query string (raw: a NUL arrives
    percent-encoded, and percent-decoding is the only way a query's text gets one) holds
    a NUL character."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope.get("path", "") or b"%00" in query or b"\x00" in query


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes (``large_limit`` under ``large_prefixes``)."""

    def __init__(self, app: ASGIApp, *, limit: int, large_limit: int = 0,
                 large_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.limit = limit
        self.large_limit = large_limit
        self.large_prefixes = large_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        try:
            declared = int(_header(scope, b"content-length") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            await self._refuse(send, _lang(scope), limit)
            return
        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if too_large:
                # The app caught the cut-off (FastAPI turns any error while reading the
                # body into a 400): whatever it answers, the answer is 413.
                if not started:
                    started = True
                    await self._refuse(send, _lang(scope), limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, _lang(scope), limit)

    def limit_for(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        return self.large_limit if path.startswith(self.large_prefixes or ("\0",)) else self.limit

    @staticmethod
    async def _refuse(send: Send, lang: str, limit: int) -> None:
        await _answer(send, 413, error_body(ErrorCode.PAYLOAD_TOO_LARGE, lang, {"limit": limit}))


class GunzipMiddleware(BodyLimitMiddleware):
    """Decode a request body sent with ``Content-Encoding: gzip`` before the app reads it.

    Sits inside ``BodyLimitMiddleware`` (which bounds the bytes on the wire); the decoded
    body is bounded by the same limits (more: 413, never inflated in memory past the
    limit); a body that is not gzip is a 400 ``VALIDATION_ERROR``. Other requests pass
    through untouched."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if (_header(scope, b"content-encoding") or "").strip().lower() != "gzip":
            await self.app(scope, receive, send)
            return
        lang = _lang(scope)
        limit = self.limit_for(scope)
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        out = bytearray()
        try:
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return  # the client went away
                out += inflate.decompress(message.get("body", b""), limit + 1 - len(out))
                if len(out) > limit or inflate.unconsumed_tail:
                    await self._refuse(send, lang, limit)
                    return
                more = message.get("more_body", False)
            out += inflate.flush()
            if not inflate.eof:
                raise zlib.error("truncated")
        except zlib.error:
            await _answer(send, 400, error_body(ErrorCode.VALIDATION_ERROR, lang, {
                "summary": "Content-Encoding: gzip, but the body is not gzip"}))
            return
        if len(out) > limit:
            await self._refuse(send, lang, limit)
            return
        raw = [(k, v) for k, v in scope["headers"]
               if k.lower() not in (b"content-encoding", b"content-length")]
        raw.append((b"content-length", str(len(out)).encode()))
        sent = False

        async def decoded() -> Message:
            nonlocal sent
            if sent:
                return await receive()  # after the body: the disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": bytes(out), "more_body": False}

        await self.app({**scope, "headers": raw}, decoded, send)


def _header(scope: Scope, name: bytes) -> str | None:
    """The value of request header ``name`` (lowercase; the last one if it is repeated),
    or None."""
    found: bytes | None = None
    for key, value in scope["headers"]:
        if key == name or key.lower() == name:
            found = value
    return None if found is None else found.decode("latin-1")


def _lang(scope: Scope) -> str:
    return negotiate(_header(scope, b"accept-language"))


async def _answer(send: Send, status: int, body: Any) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})
