"""Blob stores: the bytes of photos and documents, by key.

A key is a relative, slash-separated path (``ab/abcdef….img``, ``partial/abcdef….part``).
Two stores say the same thing in two places:

* ``LocalStore`` keeps each key as a file under a folder (the demo and a small station);
  writes go through a temporary file and a rename, so a reader never sees half a photo.
* ``S3Store`` keeps each key as an object in a bucket of any S3-compatible service
  (AWS S3, MinIO, Ceph …) through boto3, under an optional prefix. Objects are written
  whole; an append (a resumable upload's next chunk) rewrites the partial object, which
  is bounded by the photo size limit.

Nothing here decides who may read a blob: the routers check that and then stream it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from server.config import Settings


class BlobMissing(KeyError):
    """No blob under this key."""


class BlobStore(Protocol):
    kind: str

    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes: ...
    def size(self, key: str) -> int | None: ...
    def append(self, key: str, data: bytes) -> int: ...
    def delete(self, key: str) -> None: ...
    def keys(self, prefix: str = "") -> Iterator[str]: ...
    def check(self) -> str: ...
    def describe(self) -> str: ...


def _safe(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class LocalStore:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(key) from None

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def append(self, key: str, data: bytes) -> int:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab") as fh:
            fh.write(data)
            fh.flush()
            return fh.tell()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        if not self.root.exists():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def check(self) -> str:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".ready-{os.getpid()}"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            return f"not writable: {exc.strerror or type(exc).__name__}"
        return "ok"

    def describe(self) -> str:
        return f"folder {self.root}"


class S3Store:
    kind = "s3"

    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + _safe(key)

    def _missing(self, exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise BlobMissing(key) from None
            raise
        return bytes(answer["Body"].read())

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    def append(self, key: str, data: bytes) -> int:
        try:
            current = self.get(key)
        except BlobMissing:
            current = b""
        whole = current + data
        self.put(key, whole)
        return len(whole)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def keys(self, prefix: str = "") -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix)
        for page in pages:
            for item in page.get("Contents", []):
                yield str(item["Key"])[len(self.prefix):]

    def check(self) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            return f"bucket {self.bucket} unreachable: {type(exc).__name__}"
        return "ok"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def make_blob_store(settings: Settings) -> BlobStore:
    """The store the settings ask for (no connection is opened here)."""
    if settings.storage == "local":
        return LocalStore(settings.resolved_photo_dir)
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=settings.s3_secret_access_key,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3},
                      s3={"addressing_style": "path"}))
    return S3Store(client, settings.s3_bucket or "", settings.s3_prefix)
