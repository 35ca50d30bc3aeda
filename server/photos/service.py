"""Photo bytes: resumable chunked upload, verified, and re-encoded before anything is served.

* **Names.** A photo is named by the SHA-256 of the exact bytes the device uploaded; the
  server checks that hash when the last byte arrives.
* **Resumable to the byte.** Each request appends its bytes at ``offset``, which must be
  what the server holds. Of a request cut off on the way (a flaky link), the bytes that
  did arrive are kept too (the router hands them over): the device resumes from
  ``received`` and never sends them again. Appends of one photo are serialised by a lock
  on its partial file, so a late copy of an old request can never write over a newer one.
* **The size is declared once.** The first chunk's ``X-Photo-Size`` is the photo's size
  until the upload completes or is discarded; a chunk declaring another size is refused
  (``SYNC_PHOTO_SIZE_MISMATCH``).
* **Nothing but image data is served.** On completion the image must decode fully (a
  truncated or absurdly large one is ``SYNC_PHOTO_NOT_IMAGE``), and what is kept and
  served is the server's own re-encoding of its pixels, in the same format (PNG stays
  lossless): trailing bytes (a JPEG followed by HTML), comments and metadata (EXIF, GPS)
  are gone. Its hash is ``stored_sha256``; it is served with a fixed content type,
  ``nosniff`` and a sandboxing CSP (``server.photos.router``).
* **Where the bytes live** is a ``BlobStore`` (``server.storage``): a local folder or an
  S3-compatible bucket. The partial upload lives there too, so a resumed upload may land
  on any worker; appends of one photo are serialised by a file lock (one box) and, on
  PostgreSQL, by a lock on the photo's row (several boxes).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import warnings
from collections.abc import Iterator
from pathlib import Path
from tempfile import gettempdir

from PIL import Image, UnidentifiedImageError
from sqlmodel import Session

from server.photos.models import Photo
from server.storage.store import BlobMissing, BlobStore
from server.uow import UnitOfWork
from shared.errors import DomainError, ErrorCode
from shared.timeutil import utcnow
from sync.protocol import PHOTO_CHUNK_MAX, PHOTO_MAX_BYTES, PhotoStatus, SyncErrorCode

_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
#: More pixels than this is no phone photo (the app sends ~2000 px on the long side): a
#: decompression bomb is refused before it is decoded.
MAX_PIXELS = 50_000_000
JPEG_QUALITY = 90


class PhotoError(Exception):
    def __init__(self, code: SyncErrorCode, status: int, **details: object) -> None:
        super().__init__(code.value)
        self.code, self.status, self.details = code, status, details


def final_key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256}.img"


def partial_key(sha256: str) -> str:
    return f"partial/{sha256}.part"


def _lock_dir(store: BlobStore) -> Path:
    root = getattr(store, "root", None)
    return (root / "partial") if isinstance(root, Path) else Path(gettempdir()) / "gridone-locks"


@contextlib.contextmanager
def _locked(store: BlobStore, sha256: str) -> Iterator[None]:
    """The photo's upload lock (a file lock: also across server processes on one box)."""
    lock = _lock_dir(store) / f"{sha256}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def status(session: Session, store: BlobStore, sha256: str, *,
           for_update: bool = False) -> PhotoStatus:
    photo = session.get(Photo, sha256, with_for_update=True if for_update else None)
    if photo is not None and photo.status == "complete":
        return PhotoStatus(sha256=sha256, status="complete", received=photo.size or 0,
                           size=photo.size)
    received = store.size(partial_key(sha256)) or 0
    return PhotoStatus(sha256=sha256, status="partial" if received else "missing",
                       received=received, size=photo.size if photo else None)


def upload_chunk(uow: UnitOfWork, store: BlobStore, *, sha256: str, offset: int, size: int,
                 content_type: str, chunk: bytes, user_id: str,
                 interrupted: bool = False) -> PhotoStatus:
    """Append ``chunk`` at ``offset``; on the last byte verify, re-encode and keep it.

    ``interrupted``: the request was cut off and ``chunk`` is what arrived of it; it is
    kept if it still fits where it was meant to go (nothing is raised: nobody listens)."""
    if size < 1 or size > PHOTO_MAX_BYTES:
        raise PhotoError(SyncErrorCode.PHOTO_TOO_LARGE, 413, limit=PHOTO_MAX_BYTES)
    if len(chunk) > PHOTO_CHUNK_MAX:
        raise PhotoError(SyncErrorCode.PHOTO_TOO_LARGE, 413, limit=PHOTO_CHUNK_MAX)
    session = uow.session
    with _locked(store, sha256):
        current = status(session, store, sha256, for_update=True)
        if current.status == "complete":
            return current
        if current.received and current.size is not None and size != current.size:
            raise PhotoError(SyncErrorCode.PHOTO_SIZE_MISMATCH, 409, size=current.size,
                             received=current.received)
        if offset + len(chunk) > size:
            raise PhotoError(SyncErrorCode.PHOTO_TOO_LARGE, 413, limit=PHOTO_CHUNK_MAX)
        if offset != current.received:
            if interrupted:
                return current
            raise PhotoError(SyncErrorCode.PHOTO_OFFSET_MISMATCH, 409,
                             received=current.received)
        part = partial_key(sha256)
        received = store.append(part, chunk)
        photo = session.get(Photo, sha256) or Photo(sha256=sha256, uploaded_by=user_id)
        photo.size, photo.received, photo.content_type = size, received, content_type
        if received < size:
            session.add(photo)
            uow.commit()
            return PhotoStatus(sha256=sha256, status="partial", received=received, size=size)
        try:
            _complete(uow, store, photo, store.get(part))
        except PhotoError:
            store.delete(part)  # the upload is discarded: it starts again
            photo.received, photo.size = 0, None
            session.add(photo)
            uow.commit()
            raise
        store.delete(part)
    return PhotoStatus(sha256=sha256, status="complete", received=size, size=size)


def reencode(data: bytes) -> tuple[bytes, str, int, int]:
    """The image's pixels encoded afresh in its own format: ``(bytes, content type,
    width, height)``. Raises ``PhotoError`` (not an image, truncated, too many pixels)."""
    not_image = PhotoError(SyncErrorCode.PHOTO_NOT_IMAGE, 422)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                fmt = img.format or ""
                if fmt not in _FORMATS or img.width * img.height > MAX_PIXELS:
                    raise not_image
                img.load()  # every byte of the image decodes (a truncated one fails)
                # pixels only: no comment, EXIF (GPS), XMP or ICC segment goes along
                img.info = {k: v for k, v in img.info.items() if k == "transparency"}
                pixels: Image.Image = img
                if img.mode not in ("RGB", "L") and fmt == "JPEG":
                    pixels = img.convert("RGB")
                out = io.BytesIO()
                if fmt == "JPEG":
                    pixels.save(out, format="JPEG", quality=JPEG_QUALITY)
                elif fmt == "PNG":
                    pixels.save(out, format="PNG")
                else:
                    pixels.save(out, format="WEBP", quality=JPEG_QUALITY)
                return out.getvalue(), _FORMATS[fmt], pixels.width, pixels.height
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise not_image from exc


def _complete(uow: UnitOfWork, store: BlobStore, photo: Photo, data: bytes) -> None:
    if hashlib.sha256(data).hexdigest() != photo.sha256:
        raise PhotoError(SyncErrorCode.PHOTO_HASH_MISMATCH, 422)
    stored, content_type, width, height = reencode(data)
    store.put(final_key(photo.sha256), stored)
    photo.status, photo.content_type = "complete", content_type
    photo.width, photo.height, photo.completed_at = width, height, utcnow()
    photo.stored_sha256 = hashlib.sha256(stored).hexdigest()
    uow.session.add(photo)
    uow.audit(action="photo.complete", entity="photo", entity_id=photo.sha256,
              after={"size": photo.size, "type": content_type,
                     "stored_sha256": photo.stored_sha256, "stored_size": len(stored)})
    uow.commit()


def read(session: Session, store: BlobStore, sha256: str) -> tuple[bytes, str]:
    photo = session.get(Photo, sha256)
    if photo is None or photo.status != "complete":
        raise DomainError(ErrorCode.NOT_FOUND)
    try:
        data = store.get(final_key(sha256))
    except BlobMissing:
        raise DomainError(ErrorCode.NOT_FOUND) from None
    return data, photo.content_type or "image/jpeg"


THUMB_SIDE = 320


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """A small JPEG of a stored photo (the stored bytes are the server's own re-encoding)."""
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((side, side))
        out = io.BytesIO()
        img.convert("RGB").save(out, format="JPEG", quality=80)
    return out.getvalue()
