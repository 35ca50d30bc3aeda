"""Photo encoder benchmark (not part of the test run): ``.venv/bin/python
bench/photo_bench.py [--seeds 3]``.

The measurement behind ``sync.client.photos``' choice of encoder: synthetic 12-megapixel
meter-face photos (``tests/meter_face.py``: a wall, the meter case, a seven-segment
reading and the meter number in small print, sensor grain) downscaled to a long side and
encoded as JPEG or WebP at several qualities. Per line: bytes (mean over the seeds),
milliseconds to encode, whether every digit of the reading and the meter number was read
back (template matching), and the contrast kept in the small print versus the same
downscale without encoding. Ends with the line of what the device does now
(``photos.prepare``)::

    device_photo_kb=… device_photo_side=… device_digits_read=…/… jpeg85_2000_kb=…
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.client import photos
from tests.meter_face import contrast, meter_face, read_digits


def _encode(img: Image.Image, fmt: str, quality: int) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        img.save(out, format="JPEG", quality=quality, optimize=True)
    else:
        img.save(out, format="WEBP", quality=quality, method=photos.WEBP_METHOD)
    return out.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    faces = [meter_face(seed) for seed in range(1, args.seeds + 1)]
    print(f"{'side':>5} {'codec':>5} {'q':>3} {'KB':>6} {'ms':>6} digits  print-contrast")
    jpeg85_2000: list[int] = []
    for side in (2000, 1600):
        scaled = []
        for face, cells in faces:
            img = face.copy()
            img.thumbnail((side, side), Image.Resampling.LANCZOS)
            scaled.append((img, cells, contrast(img, cells, "print")))
        for fmt in ("JPEG", "WEBP"):
            for q in (50, 60, 70, 80, 85, 90):
                sizes, times, ok, kept = [], [], 0, []
                for img, cells, ref in scaled:
                    began = time.perf_counter()
                    data = _encode(img, fmt, q)
                    times.append((time.perf_counter() - began) * 1000)
                    sizes.append(len(data))
                    with Image.open(io.BytesIO(data)) as dec:
                        dec.load()
                        ok += read_digits(dec, cells) == [c.char for c in cells]
                        kept.append(contrast(dec, cells, "print") / ref)
                if (fmt, q, side) == ("JPEG", 85, 2000):
                    jpeg85_2000 = sizes
                print(f"{side:>5} {fmt:>5} {q:>3} {statistics.mean(sizes) / 1024:>6.1f} "
                      f"{statistics.mean(times):>6.0f} {ok}/{len(scaled)}     "
                      f"{min(kept):.3f}")
    sizes, read, total, sides = [], 0, 0, []
    for face, cells in faces:
        camera = io.BytesIO()
        face.save(camera, format="JPEG", quality=95)
        data, w, h = photos.prepare(camera.getvalue())
        sizes.append(len(data))
        sides.append(max(w, h))
        with Image.open(io.BytesIO(data)) as dec:
            dec.load()
            got = read_digits(dec, cells)
        read += sum(g == c.char for g, c in zip(got, cells, strict=True))
        total += len(cells)
    print(f"device_photo_kb={statistics.mean(sizes) / 1024:.1f} "
          f"device_photo_side={max(sides)} device_digits_read={read}/{total} "
          f"jpeg85_2000_kb={statistics.mean(jpeg85_2000) / 1024:.1f}")


if __name__ == "__main__":
    main()
