"""Bytecode for the browser, made at build time by the browser's own Python.

Without it, every start of the installed app compiles each module it imports (flet,
pydantic, SQLAlchemy, httpx and the app: a large share of the time to a usable screen).
Pyodide's own packages ship compiled for that reason. The compiler must be the Python that
runs them (3.14 in Pyodide 314; the build machine's may be another), so ``compile_trees``
runs ``compileall`` inside flet-web's Pyodide under Node.js, on the staged folders
(mounted with NODEFS). The ``.pyc`` files use unchecked hashes: valid whatever the
unpacked files' times, as a release never changes its sources. Without Node.js the build
still works, and the app compiles at start as before.

Trees imported from a zip file (``zipimport``) need the legacy layout, ``module.pyc`` beside
``module.py``: zipimport never looks into ``__pycache__``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

SCRIPT = r"""
import { loadPyodide } from "%(module)s";
const py = await loadPyodide({ indexURL: "%(index)s/" });
const dirs = JSON.parse(process.argv[2]);
const legacy = JSON.parse(process.argv[3]);
dirs.forEach((d, i) => {
  py.FS.mkdirTree("/c" + i);
  py.FS.mount(py.FS.filesystems.NODEFS, { root: d }, "/c" + i);
});
py.globals.set("n", dirs.length);
py.globals.set("legacy", py.toPy(legacy));
py.runPython(`
import compileall, py_compile
for i in range(n):
    compileall.compile_dir(f"/c{i}", quiet=2, workers=1, legacy=legacy[i],
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
`);
console.log("compiled", dirs.length);
"""


def compile_trees(dirs: list[Path], pyodide_dir: Path, *, legacy: frozenset[Path] = frozenset(),
                  timeout_s: float = 900) -> bool:
    """Compile every ``.py`` under ``dirs`` to ``__pycache__``, or beside it for the dirs in
    ``legacy`` (True when done)."""
    node = shutil.which("node")
    if node is None or not dirs:
        return False
    script = dirs[0].parent / "pycompile.mjs"
    script.write_text(SCRIPT % {"module": (pyodide_dir / "pyodide.mjs").as_posix(),
                                "index": pyodide_dir.as_posix()}, encoding="utf-8")
    done = subprocess.run([node, str(script), json.dumps([str(d) for d in dirs]),
                           json.dumps([d in legacy for d in dirs])],
                          capture_output=True, text=True, timeout=timeout_s, check=False)
    script.unlink()
    return done.returncode == 0 and "compiled" in done.stdout


def unpack_wheel(wheel: Path, into: Path) -> Path:
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(into)
    return into


def pack_wheel(tree: Path, wheel: Path) -> None:
    """Zip ``tree`` as the wheel file ``wheel`` (the compiled bytecode included)."""
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(tree.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tree).as_posix())
