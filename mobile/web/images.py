"""Photos downscaled by the browser (Pillow does not run in Pyodide).

``downscale`` decodes the chosen image with ``createImageBitmap`` (which applies the EXIF
orientation), draws it at most ``MAX_SIDE`` pixels on the long side on an
``OffscreenCanvas`` and encodes a JPEG — the same result ``sync.client.photos.prepare``
makes with Pillow on a phone, EXIF (GPS included) dropped with the re-encoding.
"""

from __future__ import annotations

from typing import Any

from sync.client.photos import MAX_SIDE, QUALITIES

#: The browser encodes JPEG (the device path without Pillow accepts JPEG only), at the
#: quality the phone tries first for WebP; it is not held to the phone's byte budget.
JPEG_QUALITY = QUALITIES[0]


def fit(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """The size an image is kept at: its own, or scaled down to ``max_side``."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


async def downscale(data: bytes, max_side: int = MAX_SIDE) -> bytes:
    from js import Blob, Object, OffscreenCanvas, Uint8Array, createImageBitmap  # type: ignore[import-not-found]
    from pyodide.ffi import to_js  # type: ignore[import-not-found]

    options: Any = to_js({"imageOrientation": "from-image"}, dict_converter=Object.fromEntries)
    bitmap = await createImageBitmap(Blob.new(to_js([Uint8Array.new(data)])), options)
    width, height = fit(int(bitmap.width), int(bitmap.height), max_side)
    canvas = OffscreenCanvas.new(width, height)
    canvas.getContext("2d").drawImage(bitmap, 0, 0, width, height)
    bitmap.close()
    blob = await canvas.convertToBlob(to_js(
        {"type": "image/jpeg", "quality": JPEG_QUALITY / 100},
        dict_converter=Object.fromEntries))
    return bytes((await blob.arrayBuffer()).to_bytes())
