"""The suite's serial groups hold under pytest-xdist: the browser tests (installed-app and
office ones included) on one worker, the fault tests on one, as ``python3 run.py test``
runs the suite (two workers, ``--dist loadgroup``). When they were silently split (pytest
9.2 and xdist's loadgroup), two Chromiums, two API servers and two desk apps shared the two
cores, the run took minutes longer and the browser tests' waits ran out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The suite's own conftest, loaded under another name (the folder here is also ``tests``).
CONFTEST = f"""
import importlib.util, sys
sys.path.insert(0, {str(ROOT)!r})
spec = importlib.util.spec_from_file_location("gridone_suite_conftest",
                                              {str(ROOT / "tests" / "conftest.py")!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
globals().update((name, getattr(suite, name)) for name in dir(suite)
               if name.startswith("pytest_"))  # its hooks
"""

TESTS = """
import json, os, time
import pytest

@pytest.mark.parametrize("i", range(5))
def test_where(i):
    time.sleep(0.1)
    with open(os.environ["WHERE_LOG"], "a") as fh:
        fh.write(json.dumps([__name__, os.environ["PYTEST_XDIST_WORKER"]]) + "\\n")
"""


def test_browser_and_fault_tests_each_run_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    for folder in ("e2e", "e2e/pwa", "e2e/office", "fault", "unit"):
        (tmp_path / "tests" / folder).mkdir(parents=True)
        name = folder.replace("/", "_")
        (tmp_path / "tests" / folder / f"test_{name}.py").write_text(TESTS)
    log = tmp_path / "where.jsonl"
    env = {**os.environ, "WHERE_LOG": str(log)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "--rootdir", str(tmp_path), "tests"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    workers: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        module, worker = json.loads(line)
        workers.setdefault(module.rsplit(".", 1)[-1], set()).add(worker)
    browser = workers["test_e2e"] | workers["test_e2e_office"] | workers["test_e2e_pwa"]
    assert len(browser) == 1, workers
    assert len(workers["test_fault"]) == 1, workers
    # the rest is shared out: both workers took part in the run
    assert set().union(*workers.values()) == {"gw0", "gw1"}, workers
