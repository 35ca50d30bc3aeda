"""``/api/v1/photos``: resumable, verified photo upload and the photo bytes.

An upload request cut off on the way (a phone losing its link) is an expected event: the
bytes that did arrive are kept (the device resumes after them), the disconnect is
counted and noted at INFO, and no error is logged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlmodel import col
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from server.deps import BlobsDep, CurrentUser, DatabaseDep, LangDep, SessionDep
from server.errors import note_client_disconnect
from server.photos import service as photos
from server.photos.models import Photo, PhotoLink
from server.uow import UnitOfWork
from server.work_orders.models import WorkOrder
from server.work_orders.service import visible_clause
from shared.errors import DomainError, ErrorCode
from shared.messages import translate
from sync.protocol import PHOTO_CHUNK_MAX, PhotoStatus, Sha256

router = APIRouter(prefix="/api/v1/photos", tags=["photos"])


def _photo_error(exc: photos.PhotoError, lang: str) -> JSONResponse:
    return JSONResponse({"code": exc.code.value,
                         "message": translate(exc.code.value, lang, **exc.details),
                         "details": exc.details}, status_code=exc.status)


@router.get("/{sha256}", response_model=PhotoStatus,
            summary="Does the server hold this photo (and how many bytes of it)?")
def photo_status(sha256: Sha256, user: CurrentUser, session: SessionDep,
                 blobs: BlobsDep) -> PhotoStatus:
    return photos.status(session, blobs, sha256)


@router.put("/{sha256}", response_model=PhotoStatus,
            summary="Upload the next chunk of a photo (resumable)",
            responses={409: {"description": "SYNC_PHOTO_OFFSET_MISMATCH (details.received), "
                                            "SYNC_PHOTO_SIZE_MISMATCH (details.size)"},
                       413: {"description": "SYNC_PHOTO_TOO_LARGE"},
                       422: {"description": "SYNC_PHOTO_HASH_MISMATCH / SYNC_PHOTO_NOT_IMAGE"}})
async def photo_upload(
    sha256: Sha256, request: Request, user: CurrentUser, db: DatabaseDep,
    blobs: BlobsDep, lang: LangDep,
    offset: Annotated[int, Query(ge=0)],
    x_photo_size: Annotated[int, Header(ge=1)],
    x_photo_type: Annotated[str, Header(pattern=r"^image/(jpeg|png|webp)$")] = "image/jpeg",
) -> Any:
    """Body: raw bytes (application/octet-stream) starting at ``offset``. When the last
    byte arrives the server checks the SHA-256 and that the bytes are an image. If the
    request is cut off, the bytes that arrived are kept: ask the status and go on."""
    body = bytearray()
    interrupted = False
    try:
        async for piece in request.stream():
            body += piece
            if len(body) > PHOTO_CHUNK_MAX:
                break  # refused below, whatever else comes
    except ClientDisconnect:
        interrupted = True
        note_client_disconnect(request, f"photo upload, {len(body)} bytes arrived")

    def work() -> PhotoStatus:
        with UnitOfWork(db, user.actor) as uow:
            return photos.upload_chunk(uow, blobs, sha256=sha256,
                                       offset=offset, size=x_photo_size,
                                       content_type=x_photo_type, chunk=bytes(body),
                                       user_id=user.id, interrupted=interrupted)
    try:
        result = await run_in_threadpool(work)
    except photos.PhotoError as exc:
        return _photo_error(exc, lang)
    if interrupted:
        return Response(status_code=400)  # nobody is there to read it
    return result


@router.get("/{sha256}/content", response_class=Response,
            summary="The photo's bytes (if attached to a job you may see, or yours)")
def photo_content(sha256: Sha256, user: CurrentUser, session: SessionDep,
                  blobs: BlobsDep,
                  size: Annotated[str, Query(pattern="^(full|thumb)$")] = "full") -> Response:
    """``size=thumb``: a JPEG of at most ``THUMB_SIDE`` px (phones show other phones'
    photos of a job as thumbnails and fetch the full photo only when it is opened)."""
    photo = session.get(Photo, sha256)
    linked = session.execute(select(col(PhotoLink.id)).join(
        WorkOrder, col(WorkOrder.id) == col(PhotoLink.work_order_id)).where(
        col(PhotoLink.sha256) == sha256, visible_clause(user.actor))).first()
    if photo is None or (linked is None and photo.uploaded_by != user.id):
        raise DomainError(ErrorCode.NOT_FOUND)
    data, content_type = photos.read(session, blobs, sha256)
    if size == "thumb":
        data, content_type = photos.thumbnail(data), "image/jpeg"
    # The server's own re-encoding of the image (see server.photos.service): never
    # sniffed as anything else, never run as a document.
    return Response(data, media_type=content_type, headers={
        "Cache-Control": "private, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Content-Disposition": f'inline; filename="{sha256}"',
        "ETag": f'"{photo.stored_sha256 or sha256}{"-thumb" if size == "thumb" else ""}"'})
