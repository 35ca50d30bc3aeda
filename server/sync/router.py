"""``/api/v1/sync``: push and pull (photos: ``server.photos.router``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from server.deps import (
    CurrentUser,
    DatabaseDep,
    LangDep,
    PushingUser,
    RevokedDevice,
    SessionDep,
)
from server.devices import service as devices
from server.ops.metrics import metrics_of
from server.ratelimit.deps import PULL_BUDGET, PUSH_BUDGET
from server.sync import pull as pulling
from server.sync import push as pushing
from shared.errors import DomainError, ErrorCode
from shared.messages import translate
from shared.timeutil import utcnow
from sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    OpStatus,
    PullResponse,
    PushRequest,
    PushResponse,
    SyncErrorCode,
)

router = APIRouter(prefix="/api/v1", tags=["sync"])


def _sync_error(code: SyncErrorCode, status: int, lang: str, headers: dict[str, str] | None
                = None, **details: Any) -> JSONResponse:
    return JSONResponse({"code": code.value, "message": translate(code.value, lang, **details),
                         "details": details}, status_code=status, headers=headers)


_BUDGET_DOC = {"description": "RATE_LIMITED: the device's budget of requests is spent "
                              "(Retry-After)"}


@router.post("/sync/push", response_model=PushResponse, summary="Push queued ops",
             dependencies=[PUSH_BUDGET],
             responses={401: {"description": "AUTH_DEVICE_REVOKED: the ops are held"},
                        426: {"description": "SYNC_CLIENT_TOO_OLD"}, 429: _BUDGET_DOC})
def push(request: Request, body: PushRequest, user: PushingUser, db: DatabaseDep,
         session: SessionDep, lang: LangDep) -> Any:
    """One result per op, in order: applied, duplicate (decided before), rejected (code,
    message, the server's row) or deferred (retry later). See docs/sync-protocol.md."""
    # Issue 8, item 16: a revoked device's ops are kept for the office, never applied.
    if isinstance(user, RevokedDevice) or devices.revoked(session, body.device_id):
        who, device = ((user.user_id, user.device_id) if isinstance(user, RevokedDevice)
                       else (user.id, body.device_id))
        devices.hold(db, user_id=who, device_id=device, ops=body.ops)
        raise DomainError(ErrorCode.AUTH_DEVICE_REVOKED)
    if body.protocol < MIN_PROTOCOL_VERSION:
        return _sync_error(SyncErrorCode.CLIENT_TOO_OLD, 426, lang,
                           minimum=MIN_PROTOCOL_VERSION)
    now = utcnow()
    results = pushing.push(db, actor=user.actor, request=body, lang=lang, received_at=now)
    devices.note_push(db, device_id=body.device_id, app=request.headers.get("user-agent"),
                      ops=len(results),
                      pending=sum(r.status == OpStatus.DEFERRED for r in results))
    metrics_of(request).pushed(results)
    return PushResponse(server_time=utcnow(), results=results)


@router.get("/sync/pull", response_model=PullResponse, summary="Pull changes in my scope",
            dependencies=[PULL_BUDGET],
            responses={426: {"description": "SYNC_CLIENT_TOO_OLD"}, 429: _BUDGET_DOC})
def pull(request: Request, user: CurrentUser, session: SessionDep,
         cursor: Annotated[str | None, Query(max_length=2000)] = None,
         limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
         protocol: Annotated[int, Query(ge=1)] = PROTOCOL_VERSION) -> Any:
    """Rows changed after ``cursor`` (none: a full download, in pages). Apply a page and
    its ``next_cursor`` together; ``reset`` means start over (keep the outbox)."""
    if protocol < MIN_PROTOCOL_VERSION:
        return _sync_error(SyncErrorCode.CLIENT_TOO_OLD, 426, "zh", minimum=MIN_PROTOCOL_VERSION)
    page = pulling.pull(session, actor=user.actor, cursor=cursor, limit=limit,
                        secret=request.app.state.secret_key)
    metrics_of(request).pulled(len(page.changes), reset=page.reset)
    body = {"protocol": PROTOCOL_VERSION, "server_time": utcnow().isoformat(),
            "changes": page.changes, "next_cursor": page.next_cursor,
            "has_more": page.has_more, "reset": page.reset}
    # Built by hand: validating thousands of rows through the response model is slow.
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    media_type="application/json")
