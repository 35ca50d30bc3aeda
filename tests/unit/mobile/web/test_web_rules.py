"""The pure parts of the browser build: what the server serves, how a browser answer or
failure becomes httpx's, the photo size rules, and which packages go into the build."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image

from mobile.web.build import EXCLUDED, UNUSED, closure, source_files
from mobile.web.images import fit
from server.webapp.files import content_type, headers, resolve
from sync.client.photos import MAX_SIDE, jpeg_size, prepare
from sync.client.transport_fetch import FORBIDDEN, failure, parse_headers


def test_resolve_serves_files_inside_the_build_only(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x")
    (tmp_path / "pyodide").mkdir()
    (tmp_path / "pyodide" / "pyodide.mjs").write_text("y")
    (tmp_path.parent / "secret.txt").write_text("no")
    assert resolve(tmp_path, "") == (tmp_path / "index.html").resolve()
    assert resolve(tmp_path, "pyodide/pyodide.mjs") == (tmp_path / "pyodide/pyodide.mjs").resolve()
    for bad in ("../secret.txt", "pyodide/../../secret.txt", ".hidden", "nope.js",
                "pyodide/../../../etc/passwd", "a\x00b", "pyodide"):
        assert resolve(tmp_path, bad) is None, bad


def test_a_fallback_font_the_build_lacks_is_answered_with_the_stand_in(tmp_path: Path) -> None:
    (tmp_path / "fonts").mkdir()
    (tmp_path / "fonts" / "DejaVuSans.ttf").write_bytes(b"\x00\x01\x00\x00font")
    (tmp_path / "assets" / "fonts").mkdir(parents=True)
    (tmp_path / "assets" / "fonts" / "roboto.woff2").write_bytes(b"wOF2")
    stand_in = (tmp_path / "fonts" / "DejaVuSans.ttf").resolve()
    assert resolve(tmp_path, "assets/fonts/notosanssymbols/v43/rP2up.woff2") == stand_in
    assert resolve(tmp_path, "assets/fonts/roboto.woff2") == (
        tmp_path / "assets/fonts/roboto.woff2").resolve()  # what the build has, as it is
    for bad in ("assets/fonts/../../secret.txt", "assets/other/x.woff2", "fonts/nope.ttf"):
        assert resolve(tmp_path, bad) is None, bad


def test_browsers_get_the_types_and_headers_they_insist_on() -> None:
    assert content_type(Path("pyodide.mjs")).startswith("text/javascript")
    assert content_type(Path("pyodide.asm.wasm")) == "application/wasm"
    assert content_type(Path("app.tar.gz")) == "application/gzip"
    sw = headers(Path("sw.js"))
    assert sw["Service-Worker-Allowed"] == "/app/" and sw["Cache-Control"] == "no-cache"
    page = headers(Path("index.html"))
    assert "Service-Worker-Allowed" not in page
    assert "connect-src 'self'" in page["Content-Security-Policy"]  # no CDN, ever
    assert "camera=(self)" in page["Permissions-Policy"]


def test_xhr_answer_headers_drop_what_describes_the_wire() -> None:
    raw = "content-type: application/json\r\ncontent-encoding: gzip\r\nretry-after: 3\r\n"
    assert parse_headers(raw) == [("content-type", "application/json"), ("retry-after", "3")]
    assert {"user-agent", "content-length", "host"} <= FORBIDDEN


@pytest.mark.parametrize(("name", "kind"), [("TimeoutError", httpx.ReadTimeout),
                                            ("NetworkError", httpx.ConnectError),
                                            ("AbortError", httpx.ConnectError)])
def test_a_failed_request_is_the_httpx_error_transport_maps(name: str, kind: type) -> None:
    err = failure(name, "cut", httpx.Request("GET", "http://x/api/v1/me"))
    assert isinstance(err, kind) and isinstance(err, httpx.TransportError)


def _jpeg(w: int, h: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (w, h), (10, 120, 90)).save(out, format="JPEG")
    return out.getvalue()


def test_jpeg_size_reads_the_frame_header() -> None:
    assert jpeg_size(_jpeg(640, 480)) == (640, 480)
    assert jpeg_size(b"\x89PNG....") is None
    assert jpeg_size(b"") is None


def test_the_browser_keeps_the_size_pillow_would() -> None:
    assert fit(4000, 3000) == (MAX_SIDE, MAX_SIDE * 3 // 4)
    assert fit(1200, 3000) == (MAX_SIDE * 2 // 5, MAX_SIDE)
    assert fit(640, 480) == (640, 480)
    _, w, h = prepare(_jpeg(2400, 1200))  # Pillow's own path, for comparison
    assert (w, h) == fit(2400, 1200)


def test_the_device_build_bundles_its_imports_and_not_the_office() -> None:
    packages = closure()
    for needed in ("flet", "pydantic", "pydantic-core", "httpx", "msgpack",
                   "flet-charts", "flet-map", "fpdf2", "fonttools"):
        assert needed in packages, needed
    assert "uuid6" not in packages  # Python 3.14 in the browser has uuid.uuid7
    assert "sqlalchemy" not in packages  # the device store is on sqlite3 itself
    assert "pillow" not in packages and "fastapi" not in packages
    names = {p.relative_to(Path(__file__).resolve().parents[4]).as_posix()
             for p in source_files()}
    assert "mobile/main.py" in names and "sync/client/transport_fetch.py" in names
    assert "shared/enums.py" in names
    assert not any(n.startswith(EXCLUDED) for n in names)
    assert UNUSED.search("canvaskit/skwasm.wasm") and not UNUSED.search("canvaskit/canvaskit.wasm")


def test_every_package_the_device_code_imports_is_in_the_build() -> None:
    """A module-level import the build does not bundle stops the installed app at start
    ("Error running app"): each third-party import of the device sources must come from a
    distribution the build bundles."""
    import ast
    import sys
    from importlib import metadata

    from packaging.utils import canonicalize_name

    bundled = set(closure())
    providers = metadata.packages_distributions()
    first_party = {"mobile", "sync", "shared", "__future__", "js", "pyodide"}
    missing = []
    for path in source_files():
        if path.suffix != ".py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in first_party:
                    continue
                dists = {str(canonicalize_name(d)) for d in providers.get(top, [])}
                if not dists & bundled:
                    missing.append(f"{path.name}: {top}")
    assert not missing, missing


def test_the_device_app_starts_without_importing_httpx() -> None:
    """httpx and the standard library it pulls in (http.client, email, cookiejar) were
    ~0.25 s of the installed app's start: they are imported by the first sync pass, after
    the first screen, not by the modules the app starts from."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[4]
    code = ("import sys, mobile.main, mobile.web.entry, mobile.web.storage, "
            "mobile.services.platform; "
            "print(sorted(m for m in ('httpx', 'http.client', 'sync.client.transport') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_the_installed_app_asks_for_no_server_url() -> None:
    import asyncio

    from mobile.state.login import LoginState

    fixed = LoginState(backend=None, server_url="", server_fixed=True)  # type: ignore[arg-type]
    assert asyncio.run(fixed.submit("en")) is None
    assert fixed.error == "Enter your user name and password."
    typed = LoginState(backend=None, server_url="")  # type: ignore[arg-type]
    asyncio.run(typed.submit("zh"))
    assert typed.error == "请填写服务器地址、用户名和密码。"


def test_device_code_starts_no_threads_outside_off_loop() -> None:
    """Python in the browser has one thread: the device app's blocking calls go through
    ``mobile.state.common.off_loop`` (which runs them inline there)."""
    root = Path(__file__).resolve().parents[4]
    offenders = [p.relative_to(root).as_posix() for p in source_files()
                 if p.suffix == ".py" and p.name != "common.py"
                 and "asyncio.to_thread" in p.read_text(encoding="utf-8")]
    assert offenders == []
