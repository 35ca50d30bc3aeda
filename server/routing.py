"""A route class whose JSON request bodies are read with orjson.

FastAPI reads a JSON body with ``Request.json`` (the ``json`` module). A push of 500 ops
is ~200 KB of JSON, and the ``json`` module's scanner was a tenth of the server's work
per pushed op (callgrind, ``bench/profile_push.py --http --instructions``); orjson reads
it several times faster. Its errors are ``json.JSONDecodeError``s, so a malformed body
still gets FastAPI's ``json_invalid`` answer (``server.errors``). It is stricter than the
``json`` module where JSON is: ``NaN``/``Infinity`` and lone surrogates are refused as
invalid JSON instead of reaching validation (an integer beyond 64 bits is read as a float,
which validation then refuses where an integer is due).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class OrjsonRoute(APIRoute):
    """``APIRoute`` handing its handler an ``OrjsonRequest`` (FastAPI's documented way
    of customising the request a route reads)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def orjson_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return orjson_handler
