"""Builds of the device app shared through the cache: several test workers (or a demo beside
them) ask for the same build at once, and a server may already be serving it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

# A process asking for the build, with ``make`` replaced by a slow one that counts its calls
# and keeps a file open in the build as a server reading it would.
ASK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from mobile.web import build as b

    cache, calls = Path(sys.argv[1]), Path(sys.argv[2])

    def make(dist, *, label=""):
        with calls.open("a") as fh:
            fh.write("x")
        dist.mkdir(parents=True)
        (dist / "pyodide").mkdir()
        time.sleep(1.0)
        (dist / "pyodide" / "pyodide-lock.json").write_text('{"packages": {}}')
        (dist / "build.json").write_text('{"version": "v"}')
        return "v"

    b.make = make
    b.build_key = lambda label="": "k"
    done = b.build(cache=cache)
    print(done, (done / "pyodide" / "pyodide-lock.json").read_text())
""")


def test_two_processes_asking_for_one_build_make_it_once_and_both_get_it(
        tmp_path: Path) -> None:
    cache, calls = tmp_path / "builds", tmp_path / "calls"
    procs = [subprocess.Popen([sys.executable, "-c", ASK, str(cache), str(calls)], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert calls.read_text() == "x"
    assert {out.strip() for out, _ in outs} == {f'{cache / "k"} {{"packages": {{}}}}'}
    assert sorted(p.name for p in cache.iterdir()) == ["k", "k.lock"]


def test_a_finished_build_being_served_is_not_replaced(tmp_path: Path) -> None:
    cache, calls = tmp_path / "builds", tmp_path / "calls"
    done = cache / "k"
    (done / "pyodide").mkdir(parents=True)
    (done / "pyodide" / "pyodide-lock.json").write_text('{"packages": {"served": {}}}')
    (done / "build.json").write_text('{"version": "v"}')
    out = subprocess.run([sys.executable, "-c", ASK, str(cache), str(calls)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip().endswith('{"packages": {"served": {}}}')
    assert not calls.exists()


def test_a_half_made_build_left_by_a_builder_that_died_is_made_again(tmp_path: Path) -> None:
    cache, calls = tmp_path / "builds", tmp_path / "calls"
    (cache / "k" / "pyodide").mkdir(parents=True)   # no build.json: never finished
    subprocess.run([sys.executable, "-c", ASK, str(cache), str(calls)], cwd=ROOT,
                   capture_output=True, text=True, timeout=60, check=True)
    assert calls.read_text() == "x"
    assert (cache / "k" / "build.json").exists()
