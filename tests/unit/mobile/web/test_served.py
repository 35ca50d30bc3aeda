"""The web-mode client's root: Flet's files, its bootstrap keeping skwasm on one thread."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mobile.web import served


def test_the_setting_goes_right_after_the_configuration_before_the_loader_reads_it() -> None:
    text = (served.flet_web_dir() / served.BOOTSTRAP).read_text(encoding="utf-8")
    patched = served.patched_bootstrap(text)
    assert patched.count(served.SETTING) == 1
    built = patched.index(served.ANCHOR)
    assert built < patched.index(served.SETTING) < patched.index("_flutter.loader.load(")
    assert patched.startswith(served.RECOVER)  # before anything can trap
    # nothing else changed
    assert patched.removeprefix(served.RECOVER).replace(f"\n{served.SETTING}\n", "", 1) == text


@pytest.mark.parametrize("text", ["_flutter.loader.load({config: {}});",
                                  "var flutterConfig = {a: 1};\nvar flutterConfig = {};"])
def test_a_bootstrap_this_was_not_checked_against_is_refused(text: str) -> None:
    with pytest.raises(RuntimeError, match=r"flutter_bootstrap\.js changed"):
        served.patched_bootstrap(text)


def test_the_root_holds_every_file_of_flets_and_leaves_flets_own_bootstrap_as_it_was(
) -> None:
    source = served.flet_web_dir()
    before = (source / served.BOOTSTRAP).read_bytes()
    root = served.make_web_root()
    try:
        files = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
        assert {p.relative_to(root) for p in root.rglob("*") if p.is_file()} == files
        assert served.SETTING in (root / served.BOOTSTRAP).read_text(encoding="utf-8")
        assert (source / served.BOOTSTRAP).read_bytes() == before  # not written through
        for rel in files - {Path(served.BOOTSTRAP)}:
            assert (root / rel).stat().st_size == (source / rel).stat().st_size
    finally:
        shutil.rmtree(root)
