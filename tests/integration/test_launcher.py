"""``gridone demo`` runs the server and the app together, and SIGTERM stops both: the app
child must not outlive the launcher holding its port (it did: uvicorn re-raised the
signal with the default handler, which ended the launcher before it stopped the app)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_to_the_demo_stops_the_api_and_the_app(tmp_path: Path) -> None:
    api_port, app_port = _free_port(), _free_port()
    gridone = Path(sys.executable).with_name("gridone")
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [str(gridone), "demo", "--accounts", "40", "--days", "1", "--port", str(api_port),
         "--app-port", str(app_port), "--data-dir", str(tmp_path / "demo")],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _listening(app_port) and _listening(api_port), 120, "server and app")
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{app_port}/").status_code == 200
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(30) == 128 + signal.SIGTERM
        assert not _listening(app_port), "the app outlived the demo"
        assert not _listening(api_port)
        with socket.socket() as s:  # a new app can listen there at once (as servers do,
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT)
            s.bind(("127.0.0.1", app_port))
            s.listen()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        log.close()
