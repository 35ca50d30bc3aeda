"""Photos on the device: downscaled, content-addressed, queued once, verified."""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from sync.client import photos
from sync.client.store import Store
from tests.meter_face import contrast, meter_face, read_digits


def jpeg(width: int, height: int, *, exif_rotate: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    if exif_rotate:
        exif = Image.Exif()
        exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
        img.save(out, format="JPEG", exif=exif)
    else:
        img.save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    yield s
    s.close()


def test_a_large_photo_is_downscaled_to_1600_px_on_its_long_side_as_webp() -> None:
    data, w, h = photos.prepare(jpeg(4000, 3000))
    assert (w, h) == (1600, 1200)
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "WEBP" and img.size == (1600, 1200)


def test_small_photos_keep_their_size_and_exif_orientation_is_applied() -> None:
    _, w, h = photos.prepare(jpeg(300, 200))
    assert (w, h) == (300, 200)
    _, w, h = photos.prepare(jpeg(300, 200, exif_rotate=True))
    assert (w, h) == (200, 300)


def test_png_input_becomes_webp() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (50, 40), (0, 0, 0, 0)).save(out, format="PNG")
    data, _, _ = photos.prepare(out.getvalue())
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def test_a_meter_face_costs_at_most_120_kb_and_its_digits_stay_legible() -> None:
    """Issue 9: a crew's meter photo at ~1600 px within 120 KB, the reading and the meter
    number still readable (tests/meter_face.py reads each digit back by template), and
    the print keeps its contrast."""
    face, cells = meter_face(seed=3, size=(2400, 1800))
    camera = io.BytesIO()
    face.save(camera, format="JPEG", quality=95)  # what the camera hands over
    data, w, h = photos.prepare(camera.getvalue())
    assert len(data) <= photos.MAX_BYTES
    assert max(w, h) == photos.MAX_SIDE
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        read = read_digits(img, cells, original=face.size)
        assert [c or "?" for c in read] == [c.char for c in cells]
        reference = face.resize(img.size, Image.Resampling.LANCZOS)  # scaled, not encoded
        for kind in ("lcd", "print"):
            kept = contrast(img, cells, kind, original=face.size)
            assert kept >= 0.95 * contrast(reference, cells, kind, original=face.size)


def test_a_busy_photo_still_fits_by_lower_quality_then_a_smaller_side() -> None:
    rnd = random.Random(5)
    noise = Image.frombytes("RGB", (1800, 1350), rnd.randbytes(1800 * 1350 * 3))
    raw = io.BytesIO()
    noise.save(raw, format="PNG")
    data, w, _ = photos.prepare(raw.getvalue())
    assert len(data) <= photos.MAX_BYTES or w == photos.MIN_SIDE
    assert w < photos.MAX_SIDE  # pure noise cannot fit at full size


def test_a_photo_is_stored_by_the_hash_of_its_final_bytes_and_queued_once(
        store: Store, tmp_path: Path) -> None:
    ref = photos.add_photo(store, jpeg(2500, 1000), tmp_path / "photos")
    data = ref.path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == ref.sha256
    assert ref.path == tmp_path / "photos" / ref.sha256[:2] / f"{ref.sha256}.webp"
    assert photos.path_for(tmp_path / "photos", ref.sha256) == ref.path
    again = photos.add_photo(store, jpeg(2500, 1000), tmp_path / "photos")
    assert again.sha256 == ref.sha256
    with store.read() as conn:
        (queued,) = photos.waiting(conn)
        assert (queued.sha256, queued.size, queued.state) == (ref.sha256, len(data), "queued")
        assert photos.totals(conn) == (1, 0, len(data))
        photos.progress(conn, ref.sha256, 1000)
        assert photos.totals(conn) == (1, 0, len(data) - 1000)


def test_damaged_or_missing_files_fail_verification(store: Store, tmp_path: Path) -> None:
    ref = photos.add_photo(store, jpeg(100, 100), tmp_path / "photos")
    with store.read() as conn:
        (queued,) = photos.waiting(conn)
    assert photos.read_verified(queued) == ref.path.read_bytes()
    raw = bytearray(ref.path.read_bytes())
    raw[-10] ^= 0xFF
    ref.path.write_bytes(bytes(raw))
    assert photos.read_verified(queued) is None
    ref.path.unlink()
    assert photos.read_verified(queued) is None


def test_failed_photos_count_and_can_be_retried(store: Store, tmp_path: Path) -> None:
    ref = photos.add_photo(store, jpeg(100, 100), tmp_path / "photos")
    with store.write() as conn:
        photos.failed(conn, ref.sha256, "SYNC_PHOTO_LOCAL_MISSING")
        assert photos.totals(conn)[:2] == (0, 1)
        photos.retry_failed(conn, ref.sha256)
        assert photos.totals(conn)[:2] == (1, 0)
