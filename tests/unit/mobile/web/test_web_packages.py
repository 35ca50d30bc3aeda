"""How the browser build ships its packages: the pure-Python ones in one zip Python imports
from as it is (compiled modules in zipimport's layout), the native ones for Pyodide's
loadPackage."""

from __future__ import annotations

import importlib
import sys
import zipfile
from pathlib import Path

import pytest

from mobile.web.build import Wheel, pack_packages


def test_only_wheels_with_native_code_are_left_to_pyodide() -> None:
    def wheel(name: str) -> Wheel:
        return Wheel(name.split("-")[0], name.split("-")[1], Path(name), ())

    assert wheel("pydantic_core-2.50.5-cp314-cp314-pyemscripten_2026_0_wasm32.whl").native
    assert wheel("msgpack-1.2.4-cp314-cp314-pyemscripten_2026_0_wasm32.whl").native
    assert not wheel("flet-1.0.5-py3-none-any.whl").native
    assert not wheel("six-1.17.0-py2.py3-none-any.whl").native


def test_the_packages_zip_imports_as_it_is_and_leaves_out_what_python_never_reads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    files = {a / "gridpkg_demo" / "__init__.py": "from gridpkg_demo.part import VALUE\n",
             a / "gridpkg_demo" / "part.py": "VALUE = 42\n",
             a / "gridpkg_demo" / "__pycache__" / "part.cpython-314.pyc": "",
             a / "gridpkg_demo-1.0.dist-info" / "METADATA":
                 "Metadata-Version: 2.1\nName: gridpkg-demo\nVersion: 1.0\n",
             a / "flutter" / "gridpkg_demo" / "lib" / "demo.dart": "// Dart\n",
             b / "gridpkg_single.py": "NAME = 'single'\n"}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    target = tmp_path / "packages.zip"

    pack_packages([a, b], target)

    names = set(zipfile.ZipFile(target).namelist())
    assert {"gridpkg_demo/__init__.py", "gridpkg_demo/part.py", "gridpkg_single.py",
            "gridpkg_demo-1.0.dist-info/METADATA"} == names
    monkeypatch.syspath_prepend(str(target))
    try:
        assert importlib.import_module("gridpkg_demo").VALUE == 42
        assert importlib.import_module("gridpkg_single").NAME == "single"
        from importlib.metadata import version

        assert version("gridpkg-demo") == "1.0"
    finally:
        for name in ("gridpkg_demo", "gridpkg_demo.part", "gridpkg_single"):
            sys.modules.pop(name, None)
