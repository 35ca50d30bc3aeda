"""A few seconds of ``bench/load_county.py`` (issue 14): the harness drives a real
``gridone serve`` on SQLite with every kind of device (the crews' phones with their
long polls open), and every endpoint of the mix answers without an error. The measured run
is by hand (see docs/deploy.md)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load_county import main


def test_the_load_harness_runs_a_small_county(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    (result,) = main(["--smoke", "--json", str(out)])
    assert json.loads(out.read_text())[0]["backend"] == "sqlite"
    assert [s["devices"] for s in result["steps"]] == [5, 10]
    last = result["steps"][-1]
    assert set(last["endpoints"]) >= {"GET /sync/pull", "GET /billing/accounts/{id}/balance",
                                      "GET /work-orders (board)", "POST /sync/push"}
    for step in result["steps"]:
        for name, endpoint in step["endpoints"].items():
            assert endpoint["errors"] == 0, (name, endpoint)
            assert 0 < endpoint["p50_ms"] <= endpoint["p95_ms"] <= endpoint["p99_ms"]
        assert step["requests"] > 0 and step["cpu"]["api"] > 0
    # the crews' phones hold long polls, and a crew's push reaches its own long poll
    woken = [s["long_polls"] for s in result["steps"]]
    assert sum(w["deliveries"] for w in woken) > 0, woken
    assert all(w["errors"] == 0 for w in woken), woken
