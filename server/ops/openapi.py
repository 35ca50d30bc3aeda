"""The OpenAPI document says what errors look like: every 4xx answer (documented per
route or not) is ``{"code", "message", "details"}`` -- the ``Error`` schema -- instead of
FastAPI's default ``HTTPValidationError`` (which our answers never use)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_CONTENT = {"application/json": {"schema": ERROR_REF}}


class ErrorOut(BaseModel):
    code: str = Field(description="Stable machine code (shared/errors.py, sync/protocol.py)")
    message: str = Field(description="In the language of Accept-Language (zh default, en)")
    details: dict[str, Any] = Field(description="Values the message was filled with; "
                                    "retry_after (seconds) on 429 and 503")


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Point every 4xx/5xx response at ``Error`` and add a ``4XX`` catch-all."""
    for ops in schema.get("paths", {}).values():
        for op in ops.values():
            responses = op.setdefault("responses", {})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = ERROR_CONTENT
                    if code == "422":
                        response["description"] = "Invalid data or a broken domain rule"
            responses.setdefault("4XX", {
                "description": "Refused: 400 malformed, 401 not signed in, 403 not allowed, "
                               "404 not found or not yours, 409 conflict, 413 too large, "
                               "422 invalid, 429 too many requests (Retry-After)",
                "content": ERROR_CONTENT})
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Error"] = ErrorOut.model_json_schema()
    return schema


def install(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
