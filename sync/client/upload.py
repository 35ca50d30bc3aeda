"""Uploading queued photos: ask the server what it holds, send the rest in chunks.

Each chunk's confirmation is committed, so an upload resumes from what the server holds
after any interruption (at most one chunk is sent again). The server verifies the hash
and the image type when the last byte arrives; if it refuses, the upload starts again
from zero once the local bytes are checked again, and after ``MAX_RESTARTS`` (or when
the local file is gone or damaged, or the bytes are not an image) the photo is marked
failed and shown.

On a flaky link the chunk shrinks: a request cut off on the way halves the chunk size
(down to ``MIN_CHUNK``) for what follows, and each chunk that gets through doubles it
again (up to the maximum, and no bigger than about ``CHUNK_TARGET_S`` of the link's
measured speed). Between chunks the uploader gives way when an op was made
(``give_way``): the engine pushes it first. The server keeps the bytes of a cut
request that did arrive, so the next try resumes from what it holds either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync.client import photos
from sync.client.errors import AuthRequired, ClientTooOld, PermanentError, TransientError
from sync.client.photos import QueuedPhoto
from sync.client.store import Store
from sync.protocol import PHOTO_CHUNK_MAX, SyncErrorCode

if TYPE_CHECKING:  # made by the device, imported with httpx only when used
    from sync.client.transport import Transport

MAX_RESTARTS = 2
MIN_CHUNK = 64 * 1024
#: A chunk should take about this long on the link measured so far.
CHUNK_TARGET_S = 2.0
MAX_OFFSET_FIXES = 5
LOCAL_BAD = "SYNC_PHOTO_LOCAL_MISSING"


@dataclass
class UploadReport:
    completed: int = 0
    failed: int = 0
    bytes_sent: int = 0
    chunks: int = 0
    #: stopped between chunks because an op was made: ops go first
    gave_way: bool = False

    def add(self, other: UploadReport) -> None:
        self.completed += other.completed
        self.failed += other.failed
        self.bytes_sent += other.bytes_sent
        self.chunks += other.chunks
        self.gave_way = other.gave_way


class PhotoUploader:
    def __init__(self, store: Store, transport: Transport, *,
                 chunk_size: int = PHOTO_CHUNK_MAX) -> None:
        self.store = store
        self.transport = transport
        self.max_chunk = min(chunk_size, PHOTO_CHUNK_MAX)
        self.chunk_size = self.max_chunk  # smaller after cuts, back up after successes

    def run(self, give_way: Callable[[], bool] = lambda: False) -> UploadReport:
        """Upload the queue; stop between chunks (``gave_way``) when ``give_way()``."""
        report = UploadReport()
        with self.store.read() as conn:
            queue = photos.waiting(conn)
        for photo in queue:
            if give_way():
                report.gave_way = True
                return report
            self.upload(photo, report, give_way)
            if report.gave_way:
                return report
        return report

    def upload(self, photo: QueuedPhoto, report: UploadReport,
               give_way: Callable[[], bool] = lambda: False) -> None:
        status = self.transport.photo_status(photo.sha256)
        if status.status == "complete":
            self._done(photo, report)
            return
        data = photos.read_verified(photo)
        if data is None:
            self._fail(photo, LOCAL_BAD, report)
            return
        offset = status.received if 0 <= status.received <= photo.size else 0
        restarts, fixes = photo.attempts, 0
        while True:
            if offset and give_way():
                report.gave_way = True
                return
            chunk = data[offset:offset + self.chunk_size]
            began = time.monotonic()
            try:
                status = self.transport.photo_put(photo.sha256, offset=offset, chunk=chunk,
                                                   size=photo.size,
                                                   content_type=photo.content_type)
            except (AuthRequired, ClientTooOld):
                raise
            except TransientError:  # cut off (or the server's trouble): smaller next time
                self.chunk_size = max(MIN_CHUNK, min(self.chunk_size, len(chunk)) // 2)
                raise
            except PermanentError as exc:
                if exc.code == SyncErrorCode.PHOTO_OFFSET_MISMATCH and fixes < MAX_OFFSET_FIXES:
                    fixes += 1
                    offset = int(exc.details.get("received", 0))
                    continue
                if exc.code == SyncErrorCode.PHOTO_HASH_MISMATCH:  # damaged on the way
                    restarts += 1
                    if restarts <= MAX_RESTARTS and photos.read_verified(photo) is not None:
                        with self.store.write() as conn:
                            photos.restarted(conn, photo.sha256, exc.code)
                        offset = 0
                        continue
                    self._fail(photo, exc.code, report)
                    return
                if exc.code in (SyncErrorCode.PHOTO_NOT_IMAGE, SyncErrorCode.PHOTO_TOO_LARGE,
                                SyncErrorCode.PHOTO_SIZE_MISMATCH):
                    self._fail(photo, exc.code, report)
                    return
                with self.store.write() as conn:  # e.g. not known yet: try next time
                    photos.note_error(conn, photo.sha256, exc.code)
                return
            report.chunks += 1
            report.bytes_sent += len(chunk)
            self._adapt(len(chunk), time.monotonic() - began)
            if status.status == "complete":
                self._done(photo, report)
                return
            if not offset < status.received <= photo.size:  # no progress: do not spin
                fixes += 1
                if fixes > MAX_OFFSET_FIXES:
                    with self.store.write() as conn:
                        photos.note_error(conn, photo.sha256, "SYNC_PHOTO_NO_PROGRESS")
                    return
                offset = min(max(status.received, 0), photo.size - 1)
                continue
            offset = status.received
            with self.store.write() as conn:
                photos.progress(conn, photo.sha256, offset)

    def _adapt(self, sent: int, elapsed_s: float) -> None:
        """Double the chunk after a chunk got through, but keep one chunk's time on this
        link near ``CHUNK_TARGET_S`` (an op made meanwhile waits at most about that)."""
        size = self.chunk_size * 2
        if elapsed_s > 0:
            size = min(size, int(sent / elapsed_s * CHUNK_TARGET_S))
        self.chunk_size = max(MIN_CHUNK, min(self.max_chunk, size))

    def _done(self, photo: QueuedPhoto, report: UploadReport) -> None:
        with self.store.write() as conn:
            photos.done(conn, photo.sha256)
        report.completed += 1

    def _fail(self, photo: QueuedPhoto, code: str, report: UploadReport) -> None:
        with self.store.write() as conn:
            photos.failed(conn, photo.sha256, code)
        report.failed += 1
