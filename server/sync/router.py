"""``/api/v1/sync`` (push, pull) and ``/api/v1/photos`` (resumable, verified upload)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from server.deps import CurrentUser, DatabaseDep, LangDep, SessionDep, SettingsDep
from server.ops.metrics import metrics_of
from server.photos import service as photos
from server.photos.models import Photo, PhotoLink
from server.ratelimit.deps import PULL_BUDGET, PUSH_BUDGET
from server.uow import UnitOfWork
from server.work_orders.models import WorkOrder
from server.work_orders.service import visible_clause
from shared.errors import DomainError, ErrorCode
from shared.messages import translate
from shared.timeutil import utcnow
from sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    PhotoStatus,
    PullResponse,
    PushRequest,
    PushResponse,
    Sha256,
    SyncErrorCode,
)
from sync.server import pull as pulling
from sync.server import push as pushing

router = APIRouter(prefix="/api/v1", tags=["sync"])


def _sync_error(code: SyncErrorCode, status: int, lang: str, headers: dict[str, str] | None
                = None, **details: Any) -> JSONResponse:
    return JSONResponse({"code": code.value, "message": translate(code.value, lang, **details),
                         "details": details}, status_code=status, headers=headers)


_BUDGET_DOC = {"description": "RATE_LIMITED: the device's budget of requests is spent "
                              "(Retry-After)"}


@router.post("/sync/push", response_model=PushResponse, summary="Push queued ops",
             dependencies=[PUSH_BUDGET],
             responses={426: {"description": "SYNC_CLIENT_TOO_OLD"}, 429: _BUDGET_DOC})
def push(request: Request, body: PushRequest, user: CurrentUser, db: DatabaseDep,
         lang: LangDep) -> Any:
    """One result per op, in order: applied, duplicate (decided before), rejected (code,
    message, the server's row) or deferred (retry later). See docs/sync-protocol.md."""
    if body.protocol < MIN_PROTOCOL_VERSION:
        return _sync_error(SyncErrorCode.CLIENT_TOO_OLD, 426, lang,
                           minimum=MIN_PROTOCOL_VERSION)
    now = utcnow()
    results = pushing.push(db, actor=user.actor, request=body, lang=lang, received_at=now)
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


@router.get("/photos/{sha256}", response_model=PhotoStatus, tags=["photos"],
            summary="Does the server hold this photo (and how many bytes of it)?")
def photo_status(sha256: Sha256, user: CurrentUser, session: SessionDep,
                 settings: SettingsDep) -> PhotoStatus:
    return photos.status(session, settings.resolved_photo_dir, sha256)


@router.put("/photos/{sha256}", response_model=PhotoStatus, tags=["photos"],
            summary="Upload the next chunk of a photo (resumable)",
            responses={409: {"description": "SYNC_PHOTO_OFFSET_MISMATCH (details.received)"},
                       413: {"description": "SYNC_PHOTO_TOO_LARGE"},
                       422: {"description": "SYNC_PHOTO_HASH_MISMATCH / SYNC_PHOTO_NOT_IMAGE"}})
async def photo_upload(
    sha256: Sha256, request: Request, user: CurrentUser, db: DatabaseDep,
    settings: SettingsDep, lang: LangDep,
    offset: Annotated[int, Query(ge=0)],
    x_photo_size: Annotated[int, Header(ge=1)],
    x_photo_type: Annotated[str, Header(pattern=r"^image/(jpeg|png|webp)$")] = "image/jpeg",
) -> Any:
    """Body: raw bytes (application/octet-stream) starting at ``offset``. When the last
    byte arrives the server checks the SHA-256 and that the bytes are an image."""
    chunk = await request.body()
    from starlette.concurrency import run_in_threadpool

    def work() -> PhotoStatus:
        with UnitOfWork(db, user.actor) as uow:
            return photos.upload_chunk(uow, settings.resolved_photo_dir, sha256=sha256,
                                       offset=offset, size=x_photo_size,
                                       content_type=x_photo_type, chunk=chunk,
                                       user_id=user.id)
    try:
        return await run_in_threadpool(work)
    except photos.PhotoError as exc:
        return _sync_error(exc.code, exc.status, lang, **exc.details)


@router.get("/photos/{sha256}/content", tags=["photos"], response_class=Response,
            summary="The photo's bytes (if attached to a job you may see, or yours)")
def photo_content(sha256: Sha256, user: CurrentUser, session: SessionDep,
                  settings: SettingsDep) -> Response:
    photo = session.get(Photo, sha256)
    linked = session.execute(select(PhotoLink.id).join(
        WorkOrder, WorkOrder.id == PhotoLink.work_order_id).where(  # type: ignore[arg-type]
        PhotoLink.sha256 == sha256, visible_clause(user.actor))).first()
    if photo is None or (linked is None and photo.uploaded_by != user.id):
        raise DomainError(ErrorCode.NOT_FOUND)
    data, content_type = photos.read(session, settings.resolved_photo_dir, sha256)
    return Response(data, media_type=content_type,
                    headers={"Cache-Control": "private, max-age=31536000, immutable"})
