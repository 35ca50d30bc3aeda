"""ASGI middleware: request body size limit (counted, not trusted from Content-Length)."""

from __future__ import annotations

import json
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
        path: str = scope.get("path", "")
        limit = self.large_limit if path.startswith(self.large_prefixes or ("\0",)) else self.limit
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
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

    @staticmethod
    async def _refuse(send: Send, lang: str, limit: int) -> None:
        body: Any = error_body(ErrorCode.PAYLOAD_TOO_LARGE, lang, {"limit": limit})
        raw = json.dumps(body, ensure_ascii=False).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})
