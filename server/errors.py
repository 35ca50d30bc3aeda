"""API errors: every failure is ``{"code", "message", "details"}`` with a fitting HTTP status.

The message is in the language the client asked for (``Accept-Language``), Chinese by
default. Domain code raises ``shared.errors.DomainError``; this module only maps it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from shared.errors import DomainError, ErrorCode
from shared.messages import negotiate, translate

log = logging.getLogger("gridone.errors")
E = ErrorCode

_STATUS: dict[ErrorCode, int] = {
    E.MALFORMED_JSON: 400,
    E.AUTH_REQUIRED: 401, E.AUTH_INVALID_CREDENTIALS: 401, E.AUTH_TOKEN_EXPIRED: 401,
    E.AUTH_TOKEN_INVALID: 401, E.AUTH_REFRESH_REUSED: 401, E.AUTH_USER_DISABLED: 401,
    E.AUTH_DEVICE_REVOKED: 401, E.AUTH_SESSION_REVOKED: 401,
    E.FORBIDDEN: 403, E.WO_ROLE_NOT_ALLOWED: 403, E.WO_NOT_ASSIGNEE: 403,
    E.WO_NOT_OWNER: 403, E.WO_KIND_NOT_REPORTABLE: 403,
    E.NOT_FOUND: 404, E.ACCOUNT_NOT_FOUND: 404, E.METER_NOT_FOUND: 404,
    E.USER_NOT_FOUND: 404, E.WORK_ORDER_NOT_FOUND: 404, E.STATION_NOT_FOUND: 404,
    E.METHOD_NOT_ALLOWED: 405,
    E.WO_TRANSITION_NOT_ALLOWED: 409, E.VERSION_CONFLICT: 409, E.IDEMPOTENCY_CONFLICT: 409,
    E.SWAP_ALREADY_RECORDED: 409, E.SWAP_WRONG_STATUS: 409,
    E.PAYLOAD_TOO_LARGE: 413,
    E.AUTH_RATE_LIMITED: 429, E.RATE_LIMITED: 429,
    E.INTERNAL_ERROR: 500,
    E.NOT_READY: 503,
    E.WEBAPP_NOT_BUILT: 404,
}

# Billing (issue 5): look-ups are 404, clashes with what is recorded 409; a callback or
# acknowledgement whose signature is wrong or too old is a bad request (400): it carries no
# user credentials to refresh, so 401 would mislead.
_STATUS.update({
    E.PAYMENT_ORDER_NOT_FOUND: 404, E.METER_COMMAND_NOT_FOUND: 404,
    E.NOTIFICATION_NOT_FOUND: 404, E.DISCREPANCY_NOT_FOUND: 404, E.DEVICE_NOT_FOUND: 404,
    E.DISCREPANCY_CLOSED: 409,
    E.CASH_RECEIPT_REUSED: 409, E.PAYMENT_ORDER_CLOSED: 409, E.PAYMENT_CALLBACK_MISMATCH: 409,
    E.PURCHASE_COUNT_STALE: 409, E.TARIFF_VERSION_EXISTS: 409,
    E.METER_COMMAND_NOT_ALLOWED: 409,
    E.PAYMENT_CALLBACK_SIGNATURE_INVALID: 400, E.METER_ACK_SIGNATURE_INVALID: 400,
    E.PAYMENT_CALLBACK_STALE: 400,
})
# Grid monitoring (issue 12).
_STATUS.update({E.AREA_NOT_FOUND: 404, E.ANOMALY_NOT_FOUND: 404,
                E.FINDING_ALREADY_RECORDED: 409, E.FINDING_WRONG_KIND: 409})


# Business applications and the care list (issue 13)
_STATUS.update({E.APP_NOT_FOUND: 404, E.CARE_NOT_FOUND: 404, E.APP_ROLE_NOT_ALLOWED: 403,
                E.CARE_OWN_REQUEST: 403, E.APP_TRANSITION_NOT_ALLOWED: 409,
                E.APP_ALREADY_RATED: 409, E.APP_ALREADY_INSTALLED: 409,
                E.APP_DOCUMENTS_NOT_RECEIVED: 409, E.CARE_REQUEST_CLOSED: 409,
                E.CARE_ALREADY_LISTED: 409, E.CARE_NOT_LISTED: 409,
                E.CARE_REQUEST_PENDING: 409, E.APP_CLOSE_IN_ARREARS: 409,
                E.ACCOUNT_CLOSED: 409})

# Dispatch desk (issue 10)
_STATUS.update({E.STALL_RULE_NOT_FOUND: 404})
# Supervision (issue 10 part 2): one's own request is a permission refusal (403).
_STATUS.update({E.APPROVAL_NOT_FOUND: 404, E.APPROVAL_OWN_REQUEST: 403,
                E.APPROVAL_CLOSED: 409, E.APPROVAL_DUPLICATE: 409, E.REVIEW_NOT_PENDING: 409})
# Planned outages and cash hand-over (issue 15)
_STATUS.update({E.OUTAGE_NOT_FOUND: 404, E.HANDOVER_NOT_FOUND: 404,
                E.HANDOVER_CONFIRMED: 409})


def http_status(code: ErrorCode) -> int:
    """HTTP status for an error code; rule violations not listed are 422."""
    return _STATUS.get(code, 422)


def error_body(code: ErrorCode, lang: str, details: dict[str, Any] | None = None
               ) -> dict[str, Any]:
    details = details or {}
    return {"code": code.value, "message": translate(code, lang, **details), "details": details}


def error_response(request: Request, code: ErrorCode, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    lang = negotiate(request.headers.get("accept-language"))
    if "retry_after" in (details or {}):  # 429 and 503: when to come back
        headers = {"Retry-After": str((details or {})["retry_after"]), **(headers or {})}
    if code in (E.AUTH_REQUIRED, E.AUTH_TOKEN_EXPIRED, E.AUTH_TOKEN_INVALID,
                E.AUTH_SESSION_REVOKED, E.AUTH_DEVICE_REVOKED):
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(error_body(code, lang, details), status_code=http_status(code),
                        headers=headers)


def _summary(errors: list[dict[str, Any]]) -> str:
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{loc or 'body'}: {err.get('msg', '')}")
    return "; ".join(parts)


#: ``app.state.counters`` name of clients gone before their request was read whole.
CLIENT_DISCONNECTS = "http.client_disconnect"


def note_client_disconnect(request: Request, where: str) -> None:
    """A client went away before its request was read whole (a phone losing its link
    mid-upload): expected, so counted and noted at INFO, never an error with a trace."""
    counters = getattr(request.app.state, "counters", None)
    total = counters.add(CLIENT_DISCONNECTS) if counters is not None else 0
    log.info("client disconnected during %s %s (%s; %d so far)", request.method,
             request.url.path, where, total)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, exc: ClientDisconnect) -> Response:
        note_client_disconnect(request, "reading the body")
        return Response(status_code=400)  # nobody is there to read it

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return error_response(request, exc.code, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(request, E.MALFORMED_JSON)
        fields = [{"loc": [str(p) for p in e.get("loc", ())], "type": e.get("type"),
                   "msg": e.get("msg")} for e in errors]
        return error_response(request, E.VALIDATION_ERROR,
                              {"summary": _summary(errors), "fields": fields})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # 400: FastAPI could not parse the body (bad UTF-8, nesting too deep, a number
        # too long to convert) -- as malformed as a JSON syntax error.
        code = {400: E.MALFORMED_JSON, 404: E.NOT_FOUND, 405: E.METHOD_NOT_ALLOWED,
                401: E.AUTH_REQUIRED, 403: E.FORBIDDEN,
                413: E.PAYLOAD_TOO_LARGE}.get(exc.status_code, E.VALIDATION_ERROR)
        details = {"summary": str(exc.detail)} if code == E.VALIDATION_ERROR else None
        return error_response(request, code, details)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, E.INTERNAL_ERROR)
