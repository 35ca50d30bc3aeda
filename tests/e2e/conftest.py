"""The browser tests' world: the GridOne API (uvicorn, fresh SQLite, the small known world
of ``tests.factories``) and the app in web mode with ``no_cdn``, each a subprocess on a
free loopback port, and Debian's Chromium driven by Playwright.

The API process can be stopped and started again (same database) to take the "phone"
offline: in web mode the app's Python process is the device, so offline means it cannot
reach the API. Chromium is required: if it is missing the tests fail, never skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.phone import watch_log
from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream"]
VIEWPORT = {"width": 430, "height": 900}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float = 60.0, proc: subprocess.Popen[bytes] | None = None
              ) -> None:
    deadline = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s: {last}")


class Proc:
    """A child process with its output in a log file; stopped by its own PID."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.log = log
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 (the child owns it)
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     env=self.env, start_new_session=True)
        out.close()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class ApiServer:
    def __init__(self, data_dir: Path, port: int, log: Path) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc = Proc([sys.executable, "-m", "tests.e2e.serve_api", str(data_dir),
                          str(port)], log)

    def start(self) -> None:
        self.proc.start()
        wait_http(f"{self.url}/api/v1/health", proc=self.proc.proc)

    def stop(self) -> None:
        self.proc.stop()

    def ensure_up(self) -> None:
        if self.proc.proc is None or self.proc.proc.poll() is not None:
            self.start()

    def client(self, username: str, lang: str = "en") -> httpx.Client:
        """An API client signed in as ``username`` (for set-up and checks)."""
        r = httpx.post(f"{self.url}/api/v1/auth/token",
                       data={"username": username, "password": PASSWORD}, timeout=10)
        r.raise_for_status()
        return httpx.Client(base_url=self.url, timeout=10, headers={
            "Authorization": f"Bearer {r.json()['access_token']}", "Accept-Language": lang})


def chromium_path() -> str:
    path = os.environ.get("GRIDONE_CHROMIUM", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium is required for the browser tests and was not found at {path} "
                    "(install Debian's `chromium` package, or set GRIDONE_CHROMIUM). "
                    "These tests are never skipped.", pytrace=False)
    return path


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def api(e2e_dir: Path) -> Iterator[ApiServer]:
    """One API for the whole run (tests use their own jobs and phones); a test that
    stops it starts it again before it ends."""
    server = ApiServer(e2e_dir / "api", free_port(), e2e_dir / "api.log")
    watch_log(e2e_dir / "api.log")
    server.start()
    yield server
    server.stop()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(e2e_dir / "api.log", ARTIFACTS / "api.log")


@pytest.fixture(autouse=True)
def _api_back_up(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that failed while the API was down leaves it up for the next one."""
    yield
    if "api" in request.fixturenames:
        request.getfixturevalue("api").ensure_up()


@pytest.fixture(scope="session")
def app_url(api: ApiServer, e2e_dir: Path) -> Iterator[str]:
    port = free_port()
    proc = Proc([sys.executable, "-m", "mobile", "--api-url", api.url, "--port", str(port),
                 "--data-dir", str(e2e_dir / "devices"), "--offline-retry-s", "2",
                 "--online-interval-s", "4", "--fixed-server"], e2e_dir / "app.log")
    watch_log(e2e_dir / "app.log")
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", proc=proc.proc)
        yield url
    finally:
        proc.stop()
        log = e2e_dir / "app.log"
        if log.exists():
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(log, ARTIFACTS / "app.log")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API keeps an asyncio loop running in this thread
    while it is open, which would break later tests that call ``asyncio.run``."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
