"""Route classes: JSON request bodies read with orjson (``OrjsonRoute``), and endpoints
that read their request themselves (``RawRoute``).

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

import inspect
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


class RawRoute(APIRoute):
    """A route whose endpoint takes the ``Request`` and returns a ``Response`` itself,
    reading and checking what it needs on its own (the sync pull: ``pull_params``, the
    token). FastAPI routes to it and documents it (``openapi_extra``) as any route, but
    has nothing to solve for it: its request handler (dependencies, the endpoint run, the
    answer's serialisation, the per-operation telemetry hooks) is skipped, ~9 % of a
    no-change pull's instructions, the most frequent request a server gets."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint!r}: a RawRoute's endpoint is async")

        async def raw_handler(request: Request) -> Response:
            response = await endpoint(request)
            if not isinstance(response, Response):
                raise TypeError(f"{endpoint!r} answered {type(response).__name__}, "
                                "not a Response")
            return response

        return raw_handler
