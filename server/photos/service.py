"""Photo bytes: resumable chunked upload, verified by SHA-256 and image type on completion."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from server.photos.models import Photo
from server.uow import UnitOfWork
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from sync.protocol import PHOTO_CHUNK_MAX, PHOTO_MAX_BYTES, PhotoStatus, SyncErrorCode

_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


class PhotoError(Exception):
    def __init__(self, code: SyncErrorCode, status: int, **details: object) -> None:
        super().__init__(code.value)
        self.code, self.status, self.details = code, status, details


def final_path(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / f"{sha256}.img"


def partial_path(root: Path, sha256: str) -> Path:
    return root / "partial" / f"{sha256}.part"


def status(session: Session, root: Path, sha256: str) -> PhotoStatus:
    photo = session.get(Photo, sha256)
    if photo is not None and photo.status == "complete":
        return PhotoStatus(sha256=sha256, status="complete", received=photo.size or 0,
                           size=photo.size)
    part = partial_path(root, sha256)
    received = part.stat().st_size if part.exists() else 0
    return PhotoStatus(sha256=sha256, status="partial" if received else "missing",
                       received=received, size=photo.size if photo else None)


def upload_chunk(uow: UnitOfWork, root: Path, *, sha256: str, offset: int, size: int,
                 content_type: str, chunk: bytes, user_id: str) -> PhotoStatus:
    """Append ``chunk`` at ``offset``; on the last byte verify hash and image, then keep it."""
    if size < 1 or size > PHOTO_MAX_BYTES:
        raise PhotoError(SyncErrorCode.PHOTO_TOO_LARGE, 413, limit=PHOTO_MAX_BYTES)
    if len(chunk) > PHOTO_CHUNK_MAX or offset + len(chunk) > size:
        raise PhotoError(SyncErrorCode.PHOTO_TOO_LARGE, 413, limit=PHOTO_CHUNK_MAX)
    session = uow.session
    current = status(session, root, sha256)
    if current.status == "complete":
        return current
    if offset != current.received:
        raise PhotoError(SyncErrorCode.PHOTO_OFFSET_MISMATCH, 409, received=current.received)
    part = partial_path(root, sha256)
    part.parent.mkdir(parents=True, exist_ok=True)
    with part.open("ab") as fh:
        fh.write(chunk)
        fh.flush()
    received = offset + len(chunk)
    photo = session.get(Photo, sha256) or Photo(sha256=sha256, uploaded_by=user_id)
    photo.size, photo.received, photo.content_type = size, received, content_type
    if received < size:
        session.add(photo)
        uow.commit()
        return PhotoStatus(sha256=sha256, status="partial", received=received, size=size)
    data = part.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise PhotoError(SyncErrorCode.PHOTO_HASH_MISMATCH, 422)
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format or ""
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        part.unlink(missing_ok=True)
        raise PhotoError(SyncErrorCode.PHOTO_NOT_IMAGE, 422) from exc
    if fmt not in _FORMATS:
        part.unlink(missing_ok=True)
        raise PhotoError(SyncErrorCode.PHOTO_NOT_IMAGE, 422)
    dest = final_path(root, sha256)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part.replace(dest)
    photo.status, photo.content_type = "complete", _FORMATS[fmt]
    photo.width, photo.height, photo.completed_at = width, height, utcnow()
    session.add(photo)
    uow.audit(action="photo.complete", entity="photo", entity_id=sha256,
              after={"size": size, "type": photo.content_type})
    uow.commit()
    return PhotoStatus(sha256=sha256, status="complete", received=size, size=size)


def read(session: Session, root: Path, sha256: str) -> tuple[bytes, str]:
    photo = session.get(Photo, sha256)
    if photo is None or photo.status != "complete":
        raise DomainError(ErrorCode.NOT_FOUND)
    return final_path(root, sha256).read_bytes(), photo.content_type or "image/jpeg"
