"""ASGI middleware: request body size limit (counted, not trusted from Content-Length), and
gzip-encoded request bodies (``Content-Encoding: gzip``) decoded with a bound on the decoded
size."""

from __future__ import annotations

import json
import zlib
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import error_body
from shared.errors import ErrorCode
from shared.messages import negotiate


class _TooLarge(Exception):
    pass


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
        headers = _headers(scope)
        lang = negotiate(headers.get("accept-language"))
        try:
            declared = int(headers.get("content-length", "0") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            await self._refuse(send, lang, limit)
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
                    await self._refuse(send, lang, limit)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._refuse(send, lang, limit)

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
        headers = _headers(scope)
        if headers.get("content-encoding", "").strip().lower() != "gzip":
            await self.app(scope, receive, send)
            return
        lang = negotiate(headers.get("accept-language"))
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


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _answer(send: Send, status: int, body: Any) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(raw)).encode())]})
    await send({"type": "http.response.body", "body": raw})
