"""Which file of the build a request names, and the headers it is served with.

Pure rules (no I/O beyond resolving the path): content types a browser insists on
(``.mjs`` and ``.wasm`` above all), revalidation on every load (the service worker keeps the
offline copy; the HTTP cache must never hand a new service worker an old file), the
service worker's scope, and a content policy that lets the app run Python and WebAssembly
while allowing no code or connection from anywhere but this server.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

PREFIX = "/app/"
BUILD_COMMAND = "python -m mobile.web.build"

TYPES = {
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
    ".wasm": "application/wasm", ".whl": "application/zip", ".zip": "application/zip",
    ".gz": "application/gzip", ".png": "image/png", ".ico": "image/x-icon",
    ".otf": "font/otf", ".ttf": "font/ttf", ".woff2": "font/woff2",
    ".frag": "application/octet-stream", ".bin": "application/octet-stream",
}
#: Pyodide compiles WebAssembly and runs Python (``eval``); Flutter adds inline styles.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' "
       "'wasm-unsafe-eval' blob:; worker-src 'self' blob:; connect-src 'self'; "
       "img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
       "font-src 'self' data:; manifest-src 'self'; frame-ancestors 'none'; "
       "base-uri 'self'; object-src 'none'")


#: Flutter (no CDN) fetches a Noto font from here for any character the app's fonts lack.
#: The build has none of them, and a missing one is asked for again at every layout: ~18
#: requests a second on the crew's job list, which also held the service worker's update
#: check back by a minute. DejaVu Sans (shipped for the PDFs) stands in for all of them: a
#: real font, loaded once, drawing the symbols it has. ``mobile/web/sw.js`` does the same.
FALLBACK_FONTS = "assets/fonts/"
STAND_IN_FONT = "fonts/DejaVuSans.ttf"


def resolve(root: Path, rel: str) -> Path | None:
    """The file ``rel`` names under ``root`` (for a fallback font the build lacks, the
    stand-in); None when it is not a file there (or tries to leave it)."""
    parts = PurePosixPath(rel or "index.html").parts
    if any(p in ("..", "") or p.startswith(".") or "\\" in p or "\x00" in p for p in parts):
        return None
    found = _file(root, parts)
    if found is None and rel.startswith(FALLBACK_FONTS):
        return _file(root, PurePosixPath(STAND_IN_FONT).parts)
    return found


def _file(root: Path, parts: tuple[str, ...]) -> Path | None:
    base = root.resolve()
    path = (base / Path(*parts)).resolve() if parts else base / "index.html"
    if path.is_dir():
        path = path / "index.html"
    if base not in path.parents or not path.is_file():
        return None
    return path


def content_type(path: Path) -> str:
    return TYPES.get(path.suffix.lower(), "application/octet-stream")


def headers(path: Path) -> dict[str, str]:
    out = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP,
           "Permissions-Policy": "camera=(self), geolocation=(self), microphone=()",
           "X-Content-Type-Options": "nosniff", "Cross-Origin-Resource-Policy": "same-origin"}
    if path.name == "sw.js":
        out["Service-Worker-Allowed"] = PREFIX
    return out
