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
        installable = httpx.get(f"http://127.0.0.1:{api_port}/app/")  # the offline app
        assert installable.status_code == 200 and "sw.js" in installable.text
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


def test_the_demo_runs_on_postgresql_and_keeps_a_database_that_holds_data(
        tmp_path: Path) -> None:
    """``gridone demo --database-url`` builds the demo in PostgreSQL and serves it; a
    database that already holds tables is refused unless ``--replace`` is given."""
    from sqlalchemy import create_engine, text

    from tests.pg import fresh_database

    gridone = Path(sys.executable).with_name("gridone")
    with fresh_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE precious (id int)"))
        refused = subprocess.run(
            [str(gridone), "demo", "--accounts", "40", "--days", "1", "--app-port", "0",
             "--database-url", url, "--data-dir", str(tmp_path / "demo")],
            capture_output=True, text=True, timeout=120)
        assert refused.returncode == 2
        assert "already holds tables" in refused.stderr and "--replace" in refused.stderr
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM precious")).scalar() == 0

        api_port = _free_port()
        log = (tmp_path / "demo.log").open("wb")
        demo = subprocess.Popen(
            [str(gridone), "demo", "--accounts", "40", "--days", "1", "--app-port", "0",
             "--port", str(api_port), "--database-url", url, "--replace",
             "--data-dir", str(tmp_path / "demo")], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _listening(api_port), 180, "the API")
            ready = httpx.get(f"http://127.0.0.1:{api_port}/api/v1/ready")
            assert ready.status_code == 200, ready.text
            assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health").json()[
                "database"] == "postgresql"
            signed_in = httpx.post(f"http://127.0.0.1:{api_port}/api/v1/auth/token",
                                   data={"username": "crew.s1a", "password": "gridone-demo"})
            with engine.connect() as conn:
                names = {r[0] for r in conn.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
                accounts = conn.execute(text("SELECT count(*) FROM account")).scalar()
            assert "precious" not in names and accounts == 40
            assert signed_in.status_code == 200, signed_in.text
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(30)
            log.close()
            engine.dispose()
