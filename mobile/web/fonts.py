"""The fonts a generated PDF embeds, in the browser: the build ships them beside the app
(``fonts/``, precached by the service worker, so offline too); Python's file system in the
worker starts empty, so they are fetched into it once, on first use."""

from __future__ import annotations

from pathlib import Path

NAMES = ("DejaVuSans.ttf", "DroidSansFallbackFull.ttf")
FOLDER = Path("/tmp/gridone-fonts")


def _get(url: str) -> bytes:
    from js import Uint8Array, XMLHttpRequest  # type: ignore[import-not-found]

    xhr = XMLHttpRequest.new()
    xhr.open("GET", url, False)  # synchronous: allowed in the worker Python runs in
    xhr.responseType = "arraybuffer"
    xhr.send()
    if xhr.status != 200:
        raise OSError(f"{url}: HTTP {xhr.status}")
    return bytes(Uint8Array.new(xhr.response).to_py())


def browser_fonts() -> Path:
    from js import URL, location  # type: ignore[import-not-found]

    FOLDER.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        path = FOLDER / name
        if not path.exists():
            data = _get(str(URL.new(f"fonts/{name}", location.href).href))
            path.with_suffix(".part").write_bytes(data)
            path.with_suffix(".part").replace(path)
    return FOLDER
