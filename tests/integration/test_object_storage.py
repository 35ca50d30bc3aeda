"""Photos in S3-compatible object storage (issue 14): the same resumable, hash-verified,
re-encoded upload as on the local folder, the bytes in a bucket of a real S3 server
(moto's, started here on loopback and spoken to over HTTP by boto3), served only to those
who may see them; readiness says when the bucket is unreachable; backup and restore carry
the bucket's photos.

Both stores also pass one contract, so the server behaves the same on either."""

from __future__ import annotations

import hashlib
import io
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from server.config import Settings
from server.ops.backup import backup, restore
from server.photos.service import final_key
from server.storage.store import BlobMissing, BlobStore, LocalStore, S3Store, make_blob_store
from tests.conftest import PEPPER, SECRET, db_snapshot

P = "/api/v1/photos"
BUCKET = "gridone-photos"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_settings(data_dir: Path, db_path: Path, endpoint: str, bucket: str) -> Settings:
    return Settings(env="test", data_dir=data_dir, database_url=f"sqlite:///{db_path}",
                    secret_key=SECRET, lookup_pepper=PEPPER, storage="s3", s3_bucket=bucket,
                    s3_endpoint_url=endpoint, s3_access_key_id="testing-key",
                    s3_secret_access_key="testing-secret", s3_prefix="county-7/photos/")


def new_bucket(endpoint: str, name: str) -> Any:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="testing-key",
                          aws_secret_access_key="testing-secret")
    client.create_bucket(Bucket=name)
    return client


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> tuple[Any, str]:
    name = f"{BUCKET}-{abs(hash(request.node.name)) % 10**8}"
    return new_bucket(s3_endpoint, name), name


@pytest.fixture
def settings(tmp_path: Path, db_path: Path, s3_endpoint: str,
             bucket: tuple[Any, str]) -> Settings:
    """The app under test (tests/conftest.py builds it) keeps its photos in the bucket."""
    return s3_settings(tmp_path, db_path, s3_endpoint, bucket[1])


def jpeg(size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    img = Image.effect_noise(size, 60).convert("RGB")
    img.save(out, format="JPEG", quality=92)
    return out.getvalue()


def put(api: Any, data: bytes, offset: int, end: int) -> Any:
    sha = hashlib.sha256(data).hexdigest()
    return api.client.put(f"{P}/{sha}", params={"offset": offset}, content=data[offset:end],
                          headers={**api.headers, "Content-Type": "application/octet-stream",
                                   "X-Photo-Size": str(len(data))})


def objects(client: Any, name: str) -> dict[str, bytes]:
    listed = client.list_objects_v2(Bucket=name).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=name, Key=o["Key"])["Body"].read()
            for o in listed}


def test_a_resumable_upload_lands_in_the_bucket_and_is_served_to_its_owner_only(
        as_user, bucket, tmp_path: Path) -> None:
    client, name = bucket
    crew, other = as_user("crew1"), as_user("crew2")
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    third = len(data) // 3

    first = put(crew, data, 0, third)
    assert (first.status_code, first.json()["status"], first.json()["received"]) == (
        200, "partial", third), first.text
    # the half-uploaded photo is in the bucket, not on this machine's disk
    assert objects(client, name) == {f"county-7/photos/partial/{sha}.part": data[:third]}
    assert not (tmp_path / "photos").exists()
    # a resend of an old chunk is told where to go on, and changes nothing
    again = put(crew, data, 0, third)
    assert (again.status_code, again.json()["code"], again.json()["details"]["received"]) == (
        409, "SYNC_PHOTO_OFFSET_MISMATCH", third)
    assert crew.get(f"{P}/{sha}").json()["received"] == third

    last = put(crew, data, third, len(data))
    assert (last.status_code, last.json()["status"]) == (200, "complete"), last.text
    stored = objects(client, name)
    assert list(stored) == [f"county-7/photos/{final_key(sha)}"]  # the partial is gone
    with Image.open(io.BytesIO(stored[f"county-7/photos/{final_key(sha)}"])) as img:
        assert (img.format, img.size) == ("JPEG", (640, 480))

    served = crew.client.get(f"{P}/{sha}/content", headers=crew.headers)
    assert served.status_code == 200
    assert served.content == stored[f"county-7/photos/{final_key(sha)}"]
    assert served.headers["x-content-type-options"] == "nosniff"
    # another crew has no job with this photo: it does not exist for them
    refused = other.client.get(f"{P}/{sha}/content", headers=other.headers)
    assert (refused.status_code, refused.json()["code"]) == (404, "NOT_FOUND")


def test_bytes_that_do_not_match_the_hash_leave_nothing_in_the_bucket(as_user, bucket,
                                                                      db) -> None:
    client, name = bucket
    crew = as_user("crew1")
    data = jpeg((100, 80))
    wrong = hashlib.sha256(b"something else").hexdigest()
    before = db_snapshot(db, exclude=("photo",))
    r = crew.client.put(f"{P}/{wrong}", params={"offset": 0}, content=data,
                        headers={**crew.headers, "Content-Type": "application/octet-stream",
                                 "X-Photo-Size": str(len(data))})
    assert (r.status_code, r.json()["code"]) == (422, "SYNC_PHOTO_HASH_MISMATCH"), r.text
    assert objects(client, name) == {}
    assert crew.get(f"{P}/{wrong}").json()["status"] == "missing"
    assert db_snapshot(db, exclude=("photo",)) == before


def test_readiness_reports_an_unreachable_bucket(as_user, client, bucket) -> None:
    s3, name = bucket
    ok = client.get("/api/v1/ready")
    assert (ok.status_code, ok.json()["checks"]["photos"]) == (200, "ok"), ok.text
    s3.delete_bucket(Bucket=name)
    down = client.get("/api/v1/ready")
    assert down.status_code == 503
    assert down.json()["code"] == "NOT_READY"
    assert name in down.json()["details"]["checks"]["photos"]


def test_backup_and_restore_carry_the_buckets_photos(as_user, bucket, s3_endpoint: str,
                                                     tmp_path: Path, db_path: Path) -> None:
    client, name = bucket
    crew = as_user("crew1")
    data = jpeg((120, 90))
    sha = hashlib.sha256(data).hexdigest()
    assert put(crew, data, 0, len(data)).json()["status"] == "complete"
    half = jpeg((90, 60))
    assert put(crew, half, 0, 100).json()["status"] == "partial"
    stored = objects(client, name)[f"county-7/photos/{final_key(sha)}"]

    settings = s3_settings(tmp_path, db_path, s3_endpoint, name)
    manifest = backup(settings, tmp_path / "backup")
    assert manifest.database == "sqlite"

    # the county moves to a new, empty bucket and a new database file
    new_bucket(s3_endpoint, f"{name}-new")
    target = s3_settings(tmp_path / "restored", tmp_path / "restored.db", s3_endpoint,
                         f"{name}-new")
    restore(target, tmp_path / "backup")
    # the finished photo is there, byte for byte; a half upload is not carried over
    assert objects(client, f"{name}-new") == {f"county-7/photos/{final_key(sha)}": stored}


# -- one contract for both stores ----------------------------------------------------------
@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalStore(tmp_path / "blobs")
    client, name = request.getfixturevalue("bucket")
    return S3Store(client, name, "pre/")


def test_both_stores_keep_append_list_and_delete_alike(store: BlobStore) -> None:
    assert store.check() == "ok"
    assert store.size("ab/x.img") is None
    with pytest.raises(BlobMissing):
        store.get("ab/x.img")
    store.put("ab/x.img", b"first")
    store.put("ab/x.img", b"second")  # a put replaces
    assert (store.get("ab/x.img"), store.size("ab/x.img")) == (b"second", 6)
    assert store.append("partial/y.part", b"12") == 2
    assert store.append("partial/y.part", b"345") == 5
    assert store.get("partial/y.part") == b"12345"
    assert sorted(store.keys()) == ["ab/x.img", "partial/y.part"]
    assert list(store.keys("partial/")) == ["partial/y.part"]
    store.delete("partial/y.part")
    store.delete("partial/y.part")  # deleting what is gone is fine
    assert list(store.keys()) == ["ab/x.img"]


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", ""])
def test_a_key_cannot_leave_the_store(store: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.put(key, b"x")


def test_s3_storage_needs_a_bucket_and_reads_its_settings(s3_endpoint: str,
                                                          tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GRIDONE_S3_BUCKET"):
        Settings(env="test", data_dir=tmp_path, storage="s3")
    made = make_blob_store(s3_settings(tmp_path, tmp_path / "x.db", s3_endpoint, "nowhere"))
    assert made.describe() == "s3://nowhere/county-7/photos/"
    assert "nowhere" in made.check()  # no such bucket: said, not raised
    assert isinstance(make_blob_store(Settings(env="test", data_dir=tmp_path)), LocalStore)
