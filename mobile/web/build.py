"""``python -m mobile.web.build [--out dist/app]``: the static, installable device app.

What ``flet publish --no-cdn`` does, made to work without the internet and for an app
that must open with no signal (the four fixes of ``flet-notes.md``):

1. the Flutter client and Pyodide runtime are copied from the installed ``flet-web``
   package (no Python build manifest or Pyodide archive is downloaded); files the app never
   loads (the skwasm renderer, debug symbols, the Pyodide CLI) are left out;
2. ``index.html`` is patched with flet-web's own ``patch_index_html`` and then given a
   Pyodide URL the module worker can resolve, the service-worker registration and the
   build's version;
3. every package the device code imports is bundled: the wheels (pure-Python ones and the
   ``pyemscripten`` wheels of ``pydantic-core``/``msgpack``) are fetched from PyPI with pip
   once (kept under ``.cache/pwa/wheels``). The pure-Python ones, compiled, go into one
   ``packages.zip`` that Python imports from as it is (``zipimport``: nothing is unpacked
   at start, a module is read when first imported); the two with native code are copied
   into ``pyodide/`` and entered in ``pyodide-lock.json`` for Pyodide's ``loadPackage``;
4. Flutter's self-unregistering service worker is not registered; ``sw.js`` (ours)
   precaches the whole build under a cache named after the build's version.

flet-web's page loader and Python worker (``python.js``, ``python-worker.js``) are replaced
by GridOne's: the worker starts as the page loads, beside Flutter's start rather than after
it, fetches everything at once, installs without micropip and restores Pyodide from a
memory snapshot the device made on an earlier start (``snapshot.js``;
``bench/README.md``, issue 11, has the breakdown of a start).

The app's Python (``mobile/`` without the office desk, ``sync/``, ``shared/``) goes into
``app.tar.gz`` with ``gridone_device.py`` as the module the worker runs.

A build is keyed by the hash of everything that goes into it; ``build()`` reuses a finished
build from ``.cache/pwa/builds/<key>`` (tests and ``gridone demo`` call it freely).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata as md
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mobile.web import pycompile

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "pwa"
DEFAULT_OUT = ROOT / "dist" / "app"
BASE_URL = "/app/"
ENTRY_MODULE = "gridone_device"
#: What the device code imports from PyPI (their dependencies follow from the metadata).
#: (Not uuid6: on Python 3.14 ``shared.ids`` takes the standard library's ``uuid7``. Not
#: SQLAlchemy: the device's store is on ``sqlite3`` itself, ``sync.client.sqlite``.)
ROOT_PACKAGES = ("flet", "flet-camera", "flet-charts", "flet-geolocator", "flet-map", "pydantic",
                 "httpx", "fpdf2")
#: Declared dependencies the device code does without in the browser: fpdf2 needs Pillow
#: only for images, and the monthly bill's PDF has none (the browser downscales photos).
NOT_IN_BROWSER = frozenset({"pillow"})
#: Pyodide 314 (the one flet-web 1.0.5 ships) as PEP 508 sees it.
PYODIDE_ENV = {"sys_platform": "emscripten", "platform_system": "Emscripten",
               "platform_machine": "wasm32", "python_version": "3.14",
               "python_full_version": "3.14.2", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "os_name": "posix",
               "platform_release": "", "platform_version": "",
               "implementation_version": "3.14.2", "extra": ""}
WHEEL_PLATFORM = "pyemscripten_2026_0_wasm32"
#: The zip of the pure-Python packages, beside ``index.html``.
PACKAGES_ZIP = "packages.zip"
#: Wheel folders Python never reads (the Flutter sources of flet's extensions).
NOT_IMPORTED = ("flutter/",)
#: Source trees of the device app, and what of them stays off the device.
SOURCES = ("mobile", "sync", "shared")
EXCLUDED = ("mobile/office", "mobile/assets", "mobile/web/build.py", "mobile/web/pycompile.py")
#: Files of flet-web's client the canvaskit build never loads (nor micropip: the worker
#: installs without it).
UNUSED = re.compile(r"(\.symbols|\.map|\.d\.ts)$|^canvaskit/(skwasm|wimp|experimental_)"
                    r"|^main\.dart\.(wasm|mjs)$|^flutter_service_worker\.js$"
                    r"|^pyodide/(python|python\.bat|python\.exe|python_cli_entry\.mjs"
                    r"|package\.json|micropip-.*\.whl|packaging-.*\.whl)$")
ASSETS = ROOT / "mobile" / "assets"
WEB_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Wheel:
    name: str  # canonical
    version: str
    path: Path
    depends: tuple[str, ...]

    @property
    def native(self) -> bool:
        """Holds compiled code (a ``.so`` Pyodide must load): not importable from a zip."""
        return not self.path.name.endswith("-none-any.whl")


# -- packages ---------------------------------------------------------------------------
def _requires(name: str) -> list[str]:
    out = []
    for spec in md.distribution(name).requires or []:
        req = Requirement(spec)
        if req.marker is None or Marker(str(req.marker)).evaluate(PYODIDE_ENV):
            out.append(str(canonicalize_name(req.name)))
    return out


def closure(roots: tuple[str, ...] = ROOT_PACKAGES) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every distribution the roots need in Pyodide: name -> (installed version, depends)."""
    seen: dict[str, tuple[str, tuple[str, ...]]] = {}
    todo = [str(canonicalize_name(r)) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        deps = tuple(sorted(set(_requires(name)) - NOT_IN_BROWSER))
        seen[name] = (md.version(name), deps)
        todo.extend(deps)
    return dict(sorted(seen.items()))


def _wheel_name(path: Path) -> str:
    return str(canonicalize_name(path.name.split("-")[0]))


def fetch_wheels(packages: dict[str, tuple[str, tuple[str, ...]]],
                 cache: Path = CACHE / "wheels") -> list[Wheel]:
    """The wheel of each package at the version installed here, for Pyodide (pip's
    download, kept in ``cache``)."""
    cache.mkdir(parents=True, exist_ok=True)
    have = {(_wheel_name(p), p.name.split("-")[1]): p for p in cache.glob("*.whl")}
    missing = [f"{n}=={v}" for n, (v, _) in packages.items() if (n, v) not in have]
    if missing:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--only-binary=:all:", "--platform", WHEEL_PLATFORM, "--python-version",
               "3.14", "--implementation", "cp", "--abi", "cp314", "-d", str(cache),
               *missing]
        subprocess.run(cmd, check=True)
        have = {(_wheel_name(p), p.name.split("-")[1]): p for p in cache.glob("*.whl")}
    return [Wheel(n, v, have[(n, v)], deps) for n, (v, deps) in packages.items()]


def _top_level(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        names = {n.split("/")[0] for n in zf.namelist() if ".dist-info" not in n.split("/")[0]}
    return sorted(n.removesuffix(".py") for n in names
                  if n.endswith(".py") or "." not in n)


def bundle_wheels(wheels: list[Wheel], dist: Path, staged: Path | None = None) -> None:
    """Put the native wheels beside Pyodide (rebuilt from ``staged/<name>`` when given: with
    their bytecode) and enter them in its lock file, depending only on each other (the
    pure-Python ones are in the zip, on ``sys.path`` before they load)."""
    lock_path = dist / "pyodide" / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text(encoding="utf-8"))
    lock["info"]["version"] = lock["info"].get("version") or "314.0.7"
    native = {w.name for w in wheels if w.native}
    for w in wheels:
        if not w.native:
            continue
        target = dist / "pyodide" / w.path.name
        if staged is not None:
            pycompile.pack_wheel(staged / w.name, target)
        else:
            shutil.copy2(w.path, target)
        lock["packages"][w.name] = {
            "name": w.name, "version": w.version, "file_name": w.path.name,
            "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
            "depends": [d for d in w.depends if d in native], "imports": _top_level(w.path),
            "install_dir": "site", "package_type": "package", "unvendored_tests": False,
        }
    lock_path.write_text(json.dumps(lock), encoding="utf-8")


def pack_packages(trees: list[Path], target: Path) -> None:
    """The pure-Python packages' unpacked (and compiled) wheels as one zip for ``sys.path``."""
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for tree in trees:
            for path in sorted(tree.rglob("*")):
                rel = path.relative_to(tree).as_posix()
                if (path.is_file() and rel not in seen and "__pycache__/" not in rel
                        and not rel.startswith(NOT_IMPORTED)):
                    seen.add(rel)
                    zf.write(path, rel)


# -- the app's own code -----------------------------------------------------------------
def source_files() -> list[Path]:
    files = []
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if (path.is_file() and "__pycache__" not in rel and not rel.endswith(".pyc")
                    and not any(rel == e or rel.startswith(e + "/") for e in EXCLUDED)):
                files.append(path)
    return files


def _tar_add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def stage_app(stage: Path, version: str) -> Path:
    """The app's files as the browser unpacks them (the module it runs, its sources, the
    version)."""
    files = {path.relative_to(ROOT).as_posix(): path.read_bytes() for path in source_files()}
    files[f"{ENTRY_MODULE}.py"] = b"from mobile.web.entry import run\n\nrun()\n"
    files["gridone_build.json"] = json.dumps({"version": version}).encode()
    for rel, data in files.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_bytes(data)
    return stage


def pack_app(dist: Path, stage: Path) -> None:
    with tarfile.open(dist / "app.tar.gz", "w:gz", format=tarfile.GNU_FORMAT) as tar:
        for path in sorted(stage.rglob("*")):
            if path.is_file():
                _tar_add_bytes(tar, path.relative_to(stage).as_posix(), path.read_bytes())


# -- the site -------------------------------------------------------------------------
def _copy_client(dist: Path, wheels: list[Wheel]) -> None:
    from flet_web import get_package_web_dir

    web = Path(get_package_web_dir())
    for path in sorted(web.rglob("*")):
        rel = path.relative_to(web).as_posix()
        if path.is_file() and not UNUSED.search(rel):
            target = dist / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    shutil.copytree(ASSETS, dist, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("README.md"))
    # GridOne's loader and worker in place of flet-web's
    shutil.copy2(WEB_DIR / "python.js", dist / "python.js")
    for name in ("snapshot.js", "snapshot-worker.js"):
        shutil.copy2(WEB_DIR / name, dist / name)
    worker = (WEB_DIR / "python-worker.js").read_text(encoding="utf-8")
    worker = (worker.replace("__PACKAGES_ZIP__", json.dumps(PACKAGES_ZIP))
              .replace("__NATIVE__", json.dumps([w.name for w in wheels if w.native])))
    (dist / "python-worker.js").write_text(worker, encoding="utf-8")


def _patch_pages(dist: Path, version: str) -> None:
    from flet.controls.types import RouteUrlStrategy, WebRenderer
    from flet_web import patch_font_manifest_json, patch_index_html

    index = dist / "index.html"
    patch_index_html(index_path=str(index), base_href=BASE_URL, app_name="GridOne",
                     pyodide=True, pyodide_script_path=f"{ENTRY_MODULE}.py",
                     pyodide_version="314.0.7", app_package_url="app.tar.gz",
                     web_renderer=WebRenderer.CANVAS_KIT,
                     route_url_strategy=RouteUrlStrategy.HASH, no_cdn=True)
    html = index.read_text(encoding="utf-8")
    # the module worker resolves a bare relative URL against its own, not the page's
    html = html.replace('flet.pyodideUrl="pyodide/pyodide.mjs";',
                        'flet.pyodideUrl=new URL("pyodide/pyodide.mjs", document.baseURI).href;')
    boot = (WEB_DIR / "boot.js").read_text(encoding="utf-8")
    html = html.replace('<script src="python.js"></script>',
                        f'<script>var GRIDONE_BUILD = "{version}";\n{boot}</script>\n'
                        '  <script src="python.js"></script>')
    index.write_text(html, encoding="utf-8")
    bootstrap = dist / "flutter_bootstrap.js"
    text = bootstrap.read_text(encoding="utf-8")
    text, n = re.subn(r"serviceWorkerSettings:\s*\{[^}]*\},", "", text)
    if n != 1:
        raise RuntimeError("flutter_bootstrap.js changed: serviceWorkerSettings not found")
    bootstrap.write_text(text, encoding="utf-8")
    patch_font_manifest_json(manifest_path=str(dist / "assets" / "FontManifest.json"))


def _write_service_worker(dist: Path, version: str) -> None:
    files = sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*") if p.is_file())
    precache = ["./", *files]
    sw = (WEB_DIR / "sw.js").read_text(encoding="utf-8")
    sw = sw.replace("__VERSION__", version).replace("__PRECACHE__", json.dumps(precache))
    (dist / "sw.js").write_text(sw, encoding="utf-8")
    (dist / "build.json").write_text(json.dumps({"version": version, "files": len(files)}),
                                     encoding="utf-8")


def built_version(dist: Path) -> str | None:
    try:
        return str(json.loads((dist / "build.json").read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def ensure(out: Path = DEFAULT_OUT) -> Path:
    """``out`` holding the build of the current sources (rebuilt only when stale)."""
    if built_version(out) != build_key():
        build(out)
    return out


def build_key(label: str = "") -> str:
    """The hash of everything a build is made from."""
    h = hashlib.sha256()
    for path in [*source_files(), *sorted(WEB_DIR.glob("*.js")), Path(__file__),
                 Path(pycompile.__file__),
                 *sorted(p for p in ASSETS.rglob("*") if p.is_file())]:
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    h.update(json.dumps(closure()).encode())
    h.update(md.version("flet-web").encode())
    h.update(label.encode())
    return h.hexdigest()[:16]


def make(dist: Path, *, label: str = "") -> str:
    """Build into ``dist`` (emptied first); returns the build's version."""
    key = build_key(label)
    version = f"{key}-{label}" if label else key
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    wheels = fetch_wheels(closure())
    _copy_client(dist, wheels)
    with tempfile.TemporaryDirectory(prefix="gridone-pwa-") as tmp:
        app = stage_app(Path(tmp) / "app", version)
        trees = {w.name: pycompile.unpack_wheel(w.path, Path(tmp) / "wheels" / w.name)
                 for w in wheels}
        pure = [trees[w.name] for w in wheels if not w.native]
        compiled = pycompile.compile_trees([app, *trees.values()], dist / "pyodide",
                                           legacy=frozenset(pure))
        if not compiled:
            print("no bytecode made (Node.js missing?): the app compiles at each start")
        bundle_wheels(wheels, dist, staged=Path(tmp) / "wheels" if compiled else None)
        pack_packages(pure, dist / PACKAGES_ZIP)
        pack_app(dist, app)
    _patch_pages(dist, version)
    _write_service_worker(dist, version)
    return version


def build(out: Path | None = None, *, label: str = "", cache: Path = CACHE / "builds"
          ) -> Path:
    """A finished build for the current sources: reused from ``cache`` when one exists,
    copied to ``out`` when given. Returns where it is."""
    key = build_key(label)
    done = cache / key
    cache.mkdir(parents=True, exist_ok=True)
    # One builder per key at a time (several test workers or a demo beside them): the others
    # wait and take its build. A finished build is never replaced, since a server may be
    # serving it; only a half-made one (no ``build.json``: a builder that died) is.
    with FileLock(cache / f"{key}.lock"):
        if not (done / "build.json").exists():
            tmp = cache / f"{key}.tmp{os.getpid()}"
            make(tmp, label=label)
            if done.exists():
                shutil.rmtree(done)
            tmp.rename(done)
    if out is None:
        return done
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(done, out)
    return out


def size(dist: Path) -> int:
    return sum(p.stat().st_size for p in dist.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mobile.web.build",
                                     description="Build the installable device app.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--label", default="", help="a name added to the build's version")
    args = parser.parse_args(argv)
    started = time.monotonic()
    out = build(args.out, label=args.label)
    print(f"built {out} (version {built_version(out)}, {size(out) / 1e6:.1f} MB) "
          f"in {time.monotonic() - started:.1f} s; served by the GridOne server at {BASE_URL}")


if __name__ == "__main__":
    main()
