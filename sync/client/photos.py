"""Photos on the device: taken, downscaled, stored by hash, queued for upload.

``prepare`` turns a camera image into what is kept and sent: upright (EXIF orientation
applied), at most ``MAX_SIDE`` (1600) pixels on the long side, re-encoded as WebP in at
most ``MAX_BYTES`` (120 KB) — quality ``QUALITIES[0]``, lower steps only if a busy image
needs them, then a smaller side as a last resort. Re-encoding also drops the camera's
EXIF, GPS included. WebP was chosen by measurement (``bench/photo_bench.py`` on a
synthetic meter face, ``tests/meter_face.py``): at 1600 px WebP q80 is ~32 KB with every
digit of the reading and the meter number still read back, where JPEG needs ~110 KB at
q80 for the same (and ~240 KB at the former 2000 px q85). The SHA-256 of those final
bytes names the photo everywhere: the file under the device's photo folder, the upload
queue, and every op that refers to it. Ops never wait for the bytes; the queue uploads
them on its own (``sync.client.upload``).

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
from typing import TYPE_CHECKING

from shared.timeutil import utcnow
from sync.client.sqlite import Connection
from sync.client.store import Store
from sync.client.timefmt import to_iso

if TYPE_CHECKING:  # Pillow is imported where it is used: the browser build has none
    from PIL import Image

MAX_SIDE = 1600
MAX_BYTES = 120 * 1024
QUALITIES = (80, 70, 60, 50)
#: The smallest long side the fitting loop goes down to (a photo is never refused).
MIN_SIDE = 800
WEBP_METHOD = 4  # encoder effort: 6 is ~1.5x slower for ~3% smaller files
CONTENT_TYPE = "image/webp"
SUFFIX = {"image/webp": ".webp", "image/jpeg": ".jpg", "image/png": ".png"}


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
    content_type: str = CONTENT_TYPE


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


def encode(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, format="WEBP", quality=quality, method=WEBP_METHOD)
    return out.getvalue()


def jpeg_size(raw: bytes) -> tuple[int, int] | None:
    """Width and height from a JPEG's frame header; None when ``raw`` is not a JPEG."""
    if raw[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 9 < len(raw):
        if raw[i] != 0xFF:
            return None
        marker = raw[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(raw[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height = int.from_bytes(raw[i + 5:i + 7], "big")
            width = int.from_bytes(raw[i + 7:i + 9], "big")
            return (width, height) if width and height else None
        i += 2 + length
    return None


def prepare(source: bytes | Path) -> tuple[bytes, int, int]:
    """Downscale and re-encode an image; returns ``(webp bytes, width, height)``.

    Where Pillow cannot run (Python in the browser) the image was downscaled and encoded
    by the browser already (``mobile.web.images``): a JPEG within ``MAX_SIDE`` is kept as
    it is, anything else is refused (``OSError``, as Pillow refuses a non-image)."""
    raw = source.read_bytes() if isinstance(source, Path) else source
    try:
        from PIL import Image, ImageOps
    except ImportError:
        size = jpeg_size(raw)
        if size is None or max(size) > MAX_SIDE:
            raise OSError("not a JPEG within the size limit") from None
        return raw, size[0], size[1]
    with Image.open(io.BytesIO(raw)) as opened:
        img = ImageOps.exif_transpose(opened)
        if img.mode != "RGB":
            img = img.convert("RGB")
        side = min(max(img.size), MAX_SIDE)
        while True:
            if max(img.size) > side:
                img.thumbnail((side, side), Image.Resampling.LANCZOS)
            data = b""
            for quality in QUALITIES:
                if len(data) > 2 * MAX_BYTES and quality != QUALITIES[-1]:
                    continue  # far over: a small step will not do, try the lowest
                data = encode(img, quality)
                if len(data) <= MAX_BYTES:
                    return data, img.size[0], img.size[1]
            if side <= MIN_SIDE:
                return data, img.size[0], img.size[1]
            # bytes grow with the area: shrink the side by the square root of the excess
            shrink = min(0.8, (MAX_BYTES / len(data)) ** 0.5 * 0.95)
            side = max(MIN_SIDE, int(side * shrink))


def path_for(photo_dir: Path, sha256: str, content_type: str | None = None) -> Path:
    """Where a photo's file is (or goes). Without ``content_type``: the file that exists,
    whichever format it was stored in (photos taken before WebP are ``.jpg``)."""
    folder = photo_dir / sha256[:2]
    if content_type is not None:
        return folder / f"{sha256}{SUFFIX.get(content_type, '.img')}"
    for suffix in SUFFIX.values():
        if (folder / f"{sha256}{suffix}").exists():
            return folder / f"{sha256}{suffix}"
    return folder / f"{sha256}{SUFFIX[CONTENT_TYPE]}"


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def content_type_of(data: bytes) -> str:
    """The image type of prepared bytes: WebP (Pillow on the device) or JPEG (encoded by
    the browser where Pillow cannot run)."""
    return "image/jpeg" if data[:2] == b"\xff\xd8" else CONTENT_TYPE


def save(source: bytes | Path, photo_dir: Path) -> PhotoRef:
    """Prepare a photo and store its file by hash (no database write)."""
    data, width, height = prepare(source)
    sha = hashlib.sha256(data).hexdigest()
    kind = content_type_of(data)
    path = path_for(photo_dir, sha, kind)
    if not (path.exists() and path.stat().st_size == len(data)):
        _write_atomically(path, data)
    return PhotoRef(sha, path, len(data), width, height, kind)


def queue(conn: Connection, ref: PhotoRef) -> None:
    """Put a stored photo in the upload queue (once: the same photo again is a no-op)."""
    now = to_iso(utcnow())
    conn.exec_driver_sql(
        "INSERT INTO photo (sha256, path, size, content_type, state, confirmed, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?) ON CONFLICT (sha256) DO NOTHING",
        (ref.sha256, str(ref.path), ref.size, ref.content_type, now, now))


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
