"""``/api/v1/sync``: push and pull (photos: ``server.photos.router``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from server.auth.security import TokenClaims, read_token
from server.deps import (
    AuthUser,
    DeviceRevoked,
    RevokedDevice,
    authenticate,
    oauth2_scheme,
)
from server.devices import service as devices
from server.ops.metrics import metrics_of
from server.ratelimit.service import spend
from server.routing import OrjsonRoute, RawRoute
from server.sync import bulk
from server.sync import pull as pulling
from server.sync import push as pushing
from server.sync.envelope import check_ops
from shared import messages as languages
from shared.errors import DomainError, ErrorCode
from shared.messages import PUSH_TOO_MANY_OPS, fill, translate
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor
from sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_INT32,
    MAX_PULL_LIMIT,
    MAX_PUSH_OPS,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    OpStatus,
    PullResponse,
    PushBody,
    PushRequest,
    PushResponse,
    SyncErrorCode,
)

#: A push body is ~200 KB of JSON: read with orjson (``server.routing``).
router = APIRouter(prefix="/api/v1", tags=["sync"], route_class=OrjsonRoute)
#: Longest a pull waits for a change (a long poll), and how often it looks meanwhile even
#: without a wake-up (a commit by a process that rings no bell here).
MAX_PULL_WAIT_S = 25.0
RELOOK_S = 5.0


def _sync_error(code: SyncErrorCode, status: int, lang: str, headers: dict[str, str] | None
                = None, **details: Any) -> JSONResponse:
    return JSONResponse({"code": code.value, "message": translate(code.value, lang, **details),
                         "details": details}, status_code=status, headers=headers)


_BUDGET_DOC = {"description": "RATE_LIMITED: the device's budget of requests is spent "
                              "(Retry-After)"}
_VERSION_DOCS: dict[int | str, dict[str, Any]] = {
    400: {"description": "SYNC_CLIENT_TOO_NEW: a protocol newer than the server speaks "
                         "(details: minimum, maximum)"},
    426: {"description": "SYNC_CLIENT_TOO_OLD: a protocol older than the server accepts"}}


def negotiate(protocol: int, lang: str) -> JSONResponse | None:
    """Issue 8, item 8: the versions this server speaks are ``MIN_PROTOCOL_VERSION`` ..
    ``PROTOCOL_VERSION``; an older client is told to update (426), a newer one which
    versions the server speaks (400), so it can fall back to one of them or wait."""
    if protocol < MIN_PROTOCOL_VERSION:
        return _sync_error(SyncErrorCode.CLIENT_TOO_OLD, 426, lang,
                           minimum=MIN_PROTOCOL_VERSION, maximum=PROTOCOL_VERSION)
    if protocol > PROTOCOL_VERSION:
        return _sync_error(SyncErrorCode.CLIENT_TOO_NEW, 400, lang,
                           minimum=MIN_PROTOCOL_VERSION, maximum=PROTOCOL_VERSION)
    return None


class PullQuery(BaseModel):
    """A pull's query parameters (what FastAPI would check for declared ``Query``s)."""

    model_config = ConfigDict(extra="ignore")
    cursor: str | None = Field(None, max_length=2000)
    limit: int = Field(DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT)
    protocol: int = Field(PROTOCOL_VERSION, ge=0, le=MAX_INT32)
    wait: float = Field(0.0, ge=0, le=MAX_PULL_WAIT_S,
                        description="Seconds to wait for a change (a long poll)")


#: The device's own id (the one it signed in with), sent by the phone's transport. A token
#: issued to a device carries that device (``dev``): then a budget is that device's,
#: whatever the header says — a client cannot buy a fresh budget with a new header.
DEVICE_ID_MAX = 64
DEVICE_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"
DEVICE_ID_DOC = ("The device's id; sync budgets are counted per user and device (the "
                 "token's device when it names one)")


class PullDevice(BaseModel):
    """The ``X-Device-ID`` header."""

    device: str | None = Field(None, max_length=DEVICE_ID_MAX, pattern=DEVICE_ID_PATTERN,
                               description=DEVICE_ID_DOC)


DEVICE_HEADER = "X-Device-ID"


def _documented(model: type[BaseModel], where: str, name: str | None = None
                ) -> list[dict[str, Any]]:
    """OpenAPI parameters of a model's fields (the route reads them itself)."""
    props = model.model_json_schema()["properties"]
    return [{"name": name or key, "in": where, "required": False, "schema": schema,
             **({"description": schema["description"]} if "description" in schema else {})}
            for key, schema in props.items()]


def pull_params(request: Request) -> tuple[PullQuery, str | None]:
    """The query and the device header checked with two prebuilt models, with FastAPI's
    errors (``loc`` ``query.limit``, ``header.X-Device-ID``): FastAPI solving six declared
    parameters one by one cost ~0.1 ms a request, a fifth of a no-change pull's CPU."""
    errors: list[Any] = []
    query: PullQuery | None = None
    device = None
    try:
        query = PullQuery.model_validate(dict(request.query_params))
    except ValidationError as exc:
        errors += [{**e, "loc": ("query", *e["loc"])} for e in exc.errors()]
    raw = request.headers.get(DEVICE_HEADER)
    if raw is not None:
        try:
            device = PullDevice(device=raw).device
        except ValidationError as exc:
            errors += [{**e, "loc": ("header", DEVICE_HEADER)} for e in exc.errors()]
    if errors or query is None:
        raise RequestValidationError(errors)
    return query, device


async def pull(request: Request) -> Response:
    """Rows changed after ``cursor`` (none: a full download, in pages). Apply a page and
    its ``next_cursor`` together; ``reset`` means start over (keep the outbox).

    ``wait`` (seconds, a long poll): when nothing in my scope changed after the cursor,
    answer as soon as something does, or with an empty page after ``wait`` seconds. The
    wait holds no database connection.

    Every page costs one unit of the device's pull budget (``sync_pull_per_minute``).
    A no-change pull is the most frequent request a server gets (every phone, every few
    seconds): the token and the budget are checked without the database, the user's
    check and "anything new?" are two primary-key reads on one connection, and only a page
    to build goes to the thread pool. (Its dependencies are read here, not declared:
    FastAPI's solving of each declared dependency costs more than the rest of a
    no-change pull.)"""
    params, device = pull_params(request)
    cursor, limit, wait = params.cursor, params.limit, params.wait
    lang = languages.negotiate(request.headers.get("accept-language"))
    refused = negotiate(params.protocol, lang)
    if refused is not None:
        return refused
    token = await oauth2_scheme(request)
    if not token:
        raise DomainError(ErrorCode.AUTH_REQUIRED)
    state = request.app.state
    db, settings, secret = state.db, state.settings, state.secret_key
    claims = read_token(token, secret=secret, kind="access")
    if settings.rate_limits:
        state.pull_budgets.spend(kind="sync:pull",
                                 subject=f"{claims.sub}:{claims.device or device or '-'}",
                                 limit=settings.sync_pull_per_minute,
                                 window_s=settings.sync_budget_window_s)
    actor: Actor | None = None

    def unchanged(after: str | None) -> pulling.Page | None:
        """Who asks (the first time) and, on one plain connection, whether anything
        changed after ``after``: the empty page if nothing did."""
        nonlocal actor
        with db.reader.connect() as conn:
            if actor is None:
                actor = authenticate(conn, claims).actor
            if after and pulling.nothing_new(conn, actor=actor, cursor=after, secret=secret):
                return pulling.Page([], after, False, False)
        return None

    def build(after: str | None) -> pulling.Page:
        assert actor is not None  # ``unchanged`` ran first
        with Session(db.reader) as s:
            return pulling.pull(s, actor=actor, cursor=after, limit=limit, secret=secret)

    async def look(after: str | None) -> pulling.Page:
        # On SQLite the no-change check (two primary-key reads; a WAL reader never waits
        # for a writer) runs here, on the event loop: a thread-pool hop would cost more
        # than the check, and 16 phones polling at once would queue for the pool's
        # threads. A page to build, or another database, goes to the thread pool.
        if db.is_sqlite:
            page = unchanged(after)
            return page if page is not None else await run_in_threadpool(build, after)
        return await run_in_threadpool(lambda: unchanged(after) or build(after))

    deadline = time.monotonic() + wait
    while True:
        mark = db.notifier.mark()  # before looking: a commit meanwhile is not missed
        page = await look(cursor)
        left = deadline - time.monotonic()
        if page.changes or page.has_more or page.reset or left <= 0:
            break
        cursor = page.next_cursor  # past what changed elsewhere
        await db.notifier.wait(mark, min(left, RELOOK_S))
        if await request.is_disconnected():
            break
    metrics_of(request).pulled(len(page.changes), reset=page.reset)
    body = {"protocol": PROTOCOL_VERSION, "server_time": utcnow().isoformat(),
            "changes": page.changes, "next_cursor": page.next_cursor,
            "has_more": page.has_more, "reset": page.reset}
    # Built by hand: validating thousands of rows through the response model is slow;
    # orjson writes a page of 1,000 rows several times faster than the json module.
    return Response(orjson.dumps(body), media_type="application/json")


# Registered with ``RawRoute``: the route reads its query, header and token itself, so
# FastAPI has nothing to solve on the most frequent request (documented all the same).
router.add_api_route(
    "/sync/pull", pull, methods=["GET"], route_class_override=RawRoute,
    response_model=PullResponse, summary="Pull changes in my scope",
    openapi_extra={"security": [{"OAuth2PasswordBearer": []}],
                   "parameters": [*_documented(PullQuery, "query"),
                                  *_documented(PullDevice, "header", DEVICE_HEADER)]},
    responses={401: {"description": "AUTH_REQUIRED / AUTH_TOKEN_* / AUTH_SESSION_REVOKED / "
                                    "AUTH_DEVICE_REVOKED"},
               **_VERSION_DOCS, 429: _BUDGET_DOC})


@dataclass(frozen=True)
class PushCaller:
    """Who pushes, as far as the request alone says (no database): the access token's
    claims and the device header."""

    claims: TokenClaims
    device: str | None


async def push_caller(request: Request) -> PushCaller:
    """The token (``AUTH_REQUIRED``, ``AUTH_TOKEN_*``) and the ``X-Device-ID`` header,
    checked on the event loop before the body's validation is reported: an anonymous
    push hears 401 whatever its body. What needs the database (the push budget, the
    user's check) is done by the route itself, in its one thread-pool call: each plain
    ``def`` dependency was a hop of its own, five a push (a one-op push fell from 13.1 M to
    10.7 M instructions: ``bench/profile_push.py --per-request 1 --instructions``)."""
    device = None
    raw = request.headers.get(DEVICE_HEADER)
    if raw is not None:
        try:
            device = PullDevice(device=raw).device
        except ValidationError as exc:
            raise RequestValidationError(
                [{**e, "loc": ("header", DEVICE_HEADER)} for e in exc.errors()]) from None
    token = await oauth2_scheme(request)
    if not token:
        raise DomainError(ErrorCode.AUTH_REQUIRED)
    claims = read_token(token, secret=request.app.state.secret_key, kind="access")
    return PushCaller(claims, device)


@router.post("/sync/push", response_model=PushResponse, summary="Push queued ops",
             response_model_exclude_none=True,
             openapi_extra={"security": [{"OAuth2PasswordBearer": []}],
                            "parameters": _documented(PullDevice, "header", DEVICE_HEADER)},
             responses={401: {"description": "AUTH_REQUIRED / AUTH_TOKEN_* / "
                                             "AUTH_SESSION_REVOKED / AUTH_DEVICE_REVOKED: "
                                             "a revoked device's ops are held"},
                        413: {"description": f"PAYLOAD_TOO_LARGE: more than {MAX_PUSH_OPS} "
                                             "ops, or a body over MAX_PUSH_BYTES"},
                        **_VERSION_DOCS, 429: _BUDGET_DOC})
def push(request: Request, body: PushBody,
         caller: Annotated[PushCaller, Depends(push_caller)]) -> Any:
    """One result per op, in order: applied, duplicate (decided before), rejected (code,
    message, the server's row) or deferred (retry later). Each op's envelope is checked
    on its own: a bad one is rejected ``SYNC_OP_INVALID`` and the others go on. See
    docs/sync-protocol.md.

    Every push costs one unit of the device's push budget (``sync_push_per_minute``)."""
    state = request.app.state
    db, settings = state.db, state.settings
    lang = languages.negotiate(request.headers.get("accept-language"))
    claims = caller.claims
    if settings.rate_limits:
        spend(db, kind="sync:push", subject=f"{claims.sub}:{claims.device or caller.device or '-'}",
              limit=settings.sync_push_per_minute, window_s=settings.sync_budget_window_s)
    with Session(db.reader, expire_on_commit=False) as session:
        try:
            user: AuthUser | RevokedDevice = authenticate(session.connection(), claims)
        except DeviceRevoked as exc:
            user = RevokedDevice(exc.user_id, exc.device_id)
        if len(body.ops) > MAX_PUSH_OPS:  # issue 8, item 6: split the batch
            details = {"limit": MAX_PUSH_OPS, "ops": len(body.ops)}
            return JSONResponse({"code": ErrorCode.PAYLOAD_TOO_LARGE.value,
                                 "message": fill(PUSH_TOO_MANY_OPS, lang, **details),
                                 "details": details}, status_code=413)
        checked = check_ops(body.ops)
        # Issue 8, item 16: a revoked device's ops are kept for the office, never applied.
        revoked = isinstance(user, RevokedDevice) or devices.revoked(session, body.device_id)
    if revoked:
        who, device = ((user.user_id, user.device_id) if isinstance(user, RevokedDevice)
                       else (user.id, body.device_id))
        devices.hold(db, user_id=who, device_id=device, ops=checked.envelopes)
        raise DomainError(ErrorCode.AUTH_DEVICE_REVOKED)
    assert isinstance(user, AuthUser)
    refused = negotiate(body.protocol, lang)
    if refused is not None:
        return refused
    now = utcnow()
    invalid = pushing.refuse_invalid(db, actor=user.actor, device_id=body.device_id,
                                     ops=checked.invalid, lang=lang, received_at=now
                                     ) if checked.invalid else []
    valid = PushRequest.model_construct(protocol=body.protocol, device_id=body.device_id,
                                        sent_at=body.sent_at, ops=checked.envelopes)
    decide = bulk.push if settings.sync_push_path == "bulk" else pushing.push
    results = checked.merge(decide(db, actor=user.actor, request=valid, lang=lang,
                                   received_at=now, pepper=state.lookup_pepper),
                            invalid)
    devices.note_push(db, device_id=body.device_id, app=request.headers.get("user-agent"),
                      ops=len(results),
                      pending=sum(r.status == OpStatus.DEFERRED for r in results))
    metrics_of(request).pushed(results)
    return PushResponse(server_time=utcnow(), results=results)
