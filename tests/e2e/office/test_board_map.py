"""The job map with a tile server that cannot be reached: the markers still show on a plain
background, the screen says the tiles are unavailable, and nothing errors (no page error,
no error in the app's log). Its own API process: the tile server is a server setting."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ApiServer, Proc, free_port, wait_http
from tests.e2e.office.board_kit import Office, python_errors
from tests.factories import PASSWORD


@pytest.fixture(scope="module")
def tiles_down(e2e_dir: Path) -> Iterator[tuple[ApiServer, str, Path]]:
    """An API whose map tile server is a closed loopback port, and an app on it."""
    closed = free_port()  # nothing listens there: every tile fails to connect
    env = {**os.environ, "GRIDONE_MAP_TILE_URL": f"http://127.0.0.1:{closed}/{{z}}/{{x}}/{{y}}.png"}
    api = ApiServer(e2e_dir / "map-api", free_port(), e2e_dir / "map-api.log")
    api.proc = Proc([sys.executable, "-m", "tests.e2e.serve_api", str(api.data_dir),
                     str(api.port)], api.proc.log, env=env)
    api.start()
    port = free_port()
    log = e2e_dir / "map-app.log"
    app = Proc([sys.executable, "-m", "mobile", "--api-url", api.url, "--port", str(port),
                "--data-dir", str(e2e_dir / "map-devices")], log)
    app.start()
    try:
        wait_http(f"http://127.0.0.1:{port}/", proc=app.proc)
        yield api, f"http://127.0.0.1:{port}", log
    finally:
        app.stop()
        api.stop()


def test_markers_show_and_nothing_errors_when_tiles_are_unreachable(
        tiles_down: tuple[ApiServer, str, Path], browser: Any) -> None:
    api, url, log = tiles_down
    with api.client("dispatcher1") as c:
        acc = next(a for a in c.get("/api/v1/accounts").json()["items"]
                   if a["name"] == "Customer acc1")
        r = c.post("/api/v1/work-orders", json={"kind": "fault_repair", "account_id": acc["id"],
                                                "description": "pole down on the map"})
        assert r.status_code == 201, r.text
        settings = c.get("/api/v1/dispatch/settings").json()
        assert settings["map_tile_url"].startswith("http://127.0.0.1:")
    office = Office(browser, url, "board-map")
    try:
        office.open()
        office.sign_in_office("dispatcher1", PASSWORD)
        office.rail("Job map")
        office.see(re.compile(r"[1-9]\d* jobs?\b"))
        office.see("The map tile server cannot be reached", timeout=20_000)
        office.see(re.compile(r"[1-9]\d* jobs?\b"))  # the markers are still there
        office.shot("map-tiles-unreachable")
        assert office.errors == [], office.errors  # no uncaught error in the page
        # the browser logs the refused tile requests themselves, and its software GL driver
        # its performance notes (the renderer draws on the page's thread); nothing else
        others = [m for m in office.console if "Failed to load resource" not in m
                  and "ERR_NAME_NOT_RESOLVED" not in m
                  and not re.search(r"GL Driver Message \(OpenGL, Performance,", m)]
        assert others == [], others
        assert python_errors(log) == []
    finally:
        office.close()
