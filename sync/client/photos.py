"""Photos on the device: taken, downscaled, stored by hash, queued for upload.

``prepare`` turns a camera image into what is kept and sent: upright (EXIF orientation
applied), at most ``MAX_SIDE`` pixels on the long side, re-encoded as JPEG (which also
drops the camera's EXIF, GPS included). The SHA-256 of those final bytes names the photo
everywhere: the file under the device's photo folder, the upload queue, and every op that
refers to it. Ops never wait for the bytes; the queue uploads them on its own
(``sync.client.upload``).

Queue states: ``queued`` → ``uploading`` (some bytes confirmed) → ``done``; or
``failed`` when the local file is gone or damaged, or the server keeps refusing it.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image, ImageOps
from sqlalchemy import Connection

from shared.timeutil import utcnow
from sync.client.store import Store
from sync.client.timefmt import to_iso

MAX_SIDE = 2000
JPEG_QUALITY = 85
CONTENT_TYPE = "image/jpeg"


class PhotoState(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class PhotoRef:
    sha256: str
    path: Path
    size: int
    width: int
    height: int


@dataclass(frozen=True)
class QueuedPhoto:
    sha256: str
    path: Path
    size: int
    content_type: str
    state: PhotoState
    confirmed: int
    attempts: int
    last_error: str | None


def prepare(source: bytes | Path) -> tuple[bytes, int, int]:
    """Downscale and re-encode an image; returns ``(jpeg bytes, width, height)``."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    with Image.open(io.BytesIO(raw)) as opened:
        img = ImageOps.exif_transpose(opened)
        if img.mode != "RGB":
            img = img.convert("RGB")
        if max(img.size) > MAX_SIDE:
            img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        return out.getvalue(), img.size[0], img.size[1]


def path_for(photo_dir: Path, sha256: str) -> Path:
    return photo_dir / sha256[:2] / f"{sha256}.jpg"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save(source: bytes | Path, photo_dir: Path) -> PhotoRef:
    """Prepare a photo and store its file by hash (no database write)."""
    data, width, height = prepare(source)
    sha = hashlib.sha256(data).hexdigest()
    path = path_for(photo_dir, sha)
    if not (path.exists() and path.stat().st_size == len(data)):
        _write_atomically(path, data)
    return PhotoRef(sha, path, len(data), width, height)


def queue(conn: Connection, ref: PhotoRef) -> None:
    """Put a stored photo in the upload queue (once: the same photo again is a no-op)."""
    now = to_iso(utcnow())
    conn.exec_driver_sql(
        "INSERT INTO photo (sha256, path, size, content_type, state, confirmed, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (ref.sha256, str(ref.path), ref.size, CONTENT_TYPE, now, now))


def read_verified(photo: QueuedPhoto) -> bytes | None:
    """The photo's bytes if the local file is still exactly the photo, else None."""
    try:
        data = photo.path.read_bytes()
    except OSError:
        return None
    if len(data) != photo.size or hashlib.sha256(data).hexdigest() != photo.sha256:
        return None
    return data


# -- the queue ------------------------------------------------------------------------
def waiting(conn: Connection) -> list[QueuedPhoto]:
    return [QueuedPhoto(r.sha256, Path(r.path), r.size, r.content_type, PhotoState(r.state),
                        r.confirmed, r.attempts, r.last_error)
            for r in conn.exec_driver_sql(
                "SELECT sha256, path, size, content_type, state, confirmed, attempts, last_error"
                " FROM photo WHERE state IN ('queued', 'uploading') ORDER BY created_at")]


def progress(conn: Connection, sha256: str, confirmed: int) -> None:
    conn.exec_driver_sql(
        "UPDATE photo SET confirmed = ?, state = 'uploading', updated_at = ? WHERE sha256 = ?",
        (confirmed, to_iso(utcnow()), sha256))


def done(conn: Connection, sha256: str) -> None:
    now = to_iso(utcnow())
    conn.exec_driver_sql(
        "UPDATE photo SET state = 'done', confirmed = size, last_error = NULL, updated_at = ?,"
        " done_at = ? WHERE sha256 = ?", (now, now, sha256))


def failed(conn: Connection, sha256: str, code: str) -> None:
    conn.exec_driver_sql(
        "UPDATE photo SET state = 'failed', last_error = ?, updated_at = ? WHERE sha256 = ?",
        (code, to_iso(utcnow()), sha256))


def restarted(conn: Connection, sha256: str, code: str) -> None:
    """The server discarded a finished upload: start again from byte 0."""
    conn.exec_driver_sql(
        "UPDATE photo SET confirmed = 0, attempts = attempts + 1, last_error = ?,"
        " updated_at = ? WHERE sha256 = ?", (code, to_iso(utcnow()), sha256))


def note_error(conn: Connection, sha256: str, code: str) -> None:
    conn.exec_driver_sql("UPDATE photo SET last_error = ?, updated_at = ? WHERE sha256 = ?",
                         (code, to_iso(utcnow()), sha256))


def retry_failed(conn: Connection, sha256: str) -> None:
    conn.exec_driver_sql(
        "UPDATE photo SET state = 'queued', confirmed = 0, attempts = 0, last_error = NULL"
        " WHERE sha256 = ? AND state = 'failed'", (sha256,))


def totals(conn: Connection) -> tuple[int, int, int]:
    """``(photos waiting, photos failed, bytes left to upload)``."""
    r = conn.exec_driver_sql(
        "SELECT coalesce(sum(state IN ('queued', 'uploading')), 0),"
        " coalesce(sum(state = 'failed'), 0),"
        " coalesce(sum(CASE WHEN state IN ('queued', 'uploading') THEN size - confirmed"
        " ELSE 0 END), 0) FROM photo").one()
    return int(r[0]), int(r[1]), int(r[2])


def add_photo(store: Store, source: bytes | Path, photo_dir: Path) -> PhotoRef:
    """Take a photo into the device: prepare, store by hash, queue for upload. Refer to it
    from ops by ``ref.sha256`` right away (to queue it in the same transaction as an op,
    use ``save`` and pass ``lambda conn: queue(conn, ref)`` as the op's local effect)."""
    ref = save(source, photo_dir)
    with store.write() as conn:
        queue(conn, ref)
    return ref
