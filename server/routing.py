"""A route class whose JSON request bodies are read with orjson.

FastAPI reads a JSON body with ``Request.json`` (the ``json`` module). A push of 500 ops
is ~200 KB of JSON, and the ``json`` module's scanner was a tenth of the server's work
per pushed op (callgrind, ``bench/profile_push.py --http --instructions``); orjson reads
it several times faster. What orjson refuses but the ``json`` module reads (``NaN``,
``Infinity``, a lone surrogate escaped in one op's text) is read again with the ``json``
module, so it gets the same answer as before: validation's, op by op (one bad op of a push
is rejected alone, never the whole push). Text that is not JSON at all is refused by both
and gets FastAPI's ``json_invalid`` answer (``server.errors``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError:
                self._json = json.loads(body)  # lenient as before; raises when not JSON
        return self._json


class OrjsonRoute(APIRoute):
    """``APIRoute`` handing its handler an ``OrjsonRequest`` (FastAPI's documented way
    of customising the request a route reads)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def orjson_handler(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return orjson_handler
