"""Photo uploads (issue 8, items 21 and 22): the declared size is fixed by the first
chunk, and nothing but image data is ever served — a JPEG followed by HTML is stored as
the server's own re-encoding of its pixels, served with a fixed type, ``nosniff`` and a
sandboxing CSP; a truncated image or one with absurd dimensions is refused."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from tests.conftest import db_snapshot, table_rows

P = "/api/v1/photos"
HTML = b"<html><body><script>alert('gridone')</script></body></html>"


def jpeg(size: tuple[int, int] = (64, 48), comment: bytes | None = None) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, (200, 30, 30))
    img.putpixel((3, 3), (0, 255, 0))
    if comment is None:
        img.save(out, format="JPEG", quality=90)
    else:
        img.save(out, format="JPEG", quality=90, comment=comment)
    return out.getvalue()


def put(api: Any, data: bytes, *, offset: int = 0, size: int | None = None,
        sha: str | None = None, kind: str = "image/jpeg") -> Any:
    sha = sha or hashlib.sha256(data).hexdigest()
    return api.client.put(f"{P}/{sha}", params={"offset": offset}, content=data[offset:],
                          headers={**api.headers, "Content-Type": "application/octet-stream",
                                   "X-Photo-Size": str(size if size is not None else len(data)),
                                   "X-Photo-Type": kind})


def attach(as_user: Any, world: Any, db: Any, sha: str) -> None:
    """A job of acc1 with the photo, so customer1 may look at it."""
    from tests.conftest import svc_act, svc_report

    oid = svc_report(db, world, "customer1", account_id=world.accounts["acc1"].id)
    svc_act(db, world, "customer1", oid, "add_photo", sha256=sha)


# -- item 22: the size is fixed by the first chunk ---------------------------------------
def test_a_later_chunk_cannot_declare_another_size(as_user, db) -> None:
    crew = as_user("crew1")
    data = jpeg((400, 300))
    sha = hashlib.sha256(data).hexdigest()
    first = crew.client.put(f"{P}/{sha}", params={"offset": 0}, content=data[:1000],
                            headers={**crew.headers, "X-Photo-Size": str(len(data)),
                                     "Content-Type": "application/octet-stream"})
    assert (first.status_code, first.json()["received"]) == (200, 1000), first.text
    before = db_snapshot(db)
    for other in (len(data) + 10, len(data) - 10, 1001):
        r = crew.client.put(f"{P}/{sha}", params={"offset": 1000}, content=data[1000:1100],
                            headers={**crew.headers, "X-Photo-Size": str(other),
                                     "Content-Type": "application/octet-stream"})
        assert (r.status_code, r.json()["code"], r.json()["details"]["size"]) == (
            409, "SYNC_PHOTO_SIZE_MISMATCH", len(data)), r.text
        assert str(len(data)) in r.json()["message"]
    assert db_snapshot(db) == before
    assert crew.get(f"{P}/{sha}").json() == {"sha256": sha, "status": "partial",
                                             "received": 1000, "size": len(data)}
    last = crew.client.put(f"{P}/{sha}", params={"offset": 1000}, content=data[1000:],
                           headers={**crew.headers, "X-Photo-Size": str(len(data)),
                                    "Content-Type": "application/octet-stream"})
    assert (last.status_code, last.json()["status"]) == (200, "complete"), last.text


# -- item 21: nothing but image data is served --------------------------------------------
@pytest.mark.parametrize("how", ["html after the image", "html in a comment segment"])
def test_only_the_servers_own_encoding_of_the_pixels_is_served(as_user, world, db,
                                                                how: str) -> None:
    data = jpeg() + HTML if how == "html after the image" else jpeg(comment=HTML)
    sha = hashlib.sha256(data).hexdigest()
    r = put(as_user("customer1"), data)
    assert (r.status_code, r.json()["status"], r.json()["received"]) == (
        200, "complete", len(data)), r.text  # the device's hash names what it uploaded
    attach(as_user, world, db, sha)
    got = as_user("customer1").get(f"{P}/{sha}/content")
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]
    assert b"<html" not in got.content and b"script" not in got.content
    with Image.open(io.BytesIO(got.content)) as img:
        img.load()
        assert (img.format, img.size) == ("JPEG", (64, 48))
    (photo,) = table_rows(db, "photo", sha256=sha)
    assert photo["stored_sha256"] == hashlib.sha256(got.content).hexdigest()
    assert got.headers["etag"] == f'"{photo["stored_sha256"]}"'


def test_a_png_is_served_with_exactly_its_pixels(as_user, world, db) -> None:
    out = io.BytesIO()
    Image.frombytes("RGBA", (30, 20), bytes(range(256)) * 9 + bytes(96)).save(
        out, format="PNG")
    data = out.getvalue() + HTML
    sha = hashlib.sha256(data).hexdigest()
    assert put(as_user("customer1"), data, kind="image/png").json()["status"] == "complete"
    attach(as_user, world, db, sha)
    got = as_user("customer1").get(f"{P}/{sha}/content")
    assert got.headers["content-type"] == "image/png" and HTML not in got.content
    with Image.open(io.BytesIO(got.content)) as served, Image.open(io.BytesIO(data)) as sent:
        assert (served.mode, served.size, served.tobytes()) == (sent.mode, sent.size,
                                                               sent.tobytes())


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` (a decompression bomb's shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("what", ["truncated JPEG", "80 megapixel claim", "html only"])
def test_what_does_not_decode_fully_is_refused_and_discarded(as_user, db, what: str) -> None:
    data = {"truncated JPEG": jpeg((400, 300))[:-600],
            "80 megapixel claim": _png_claiming(10_000, 8_000),
            "html only": HTML * 10}[what]
    sha = hashlib.sha256(data).hexdigest()
    r = put(as_user("crew1"), data)
    assert (r.status_code, r.json()["code"]) == (422, "SYNC_PHOTO_NOT_IMAGE"), r.text
    status = as_user("crew1").get(f"{P}/{sha}").json()
    assert (status["status"], status["received"]) == ("missing", 0)
    assert table_rows(db, "photo", sha256=sha, status="complete") == []
