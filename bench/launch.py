"""Start ``gridone`` commands as the operator would: a seeded database (SQLite file or a
fresh PostgreSQL database) and ``gridone serve --workers N`` on a free loopback port.
Used by ``bench/load_county.py`` and by the tests of the production shape."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-" + secrets.token_urlsafe(40)  # the servers here sign tokens with this
PEPPER = secrets.token_urlsafe(40)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(url: str, data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``gridone`` command on ``url`` (settings as GRIDONE_ names)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDONE_", "PROMETHEUS_"))}
    env.update(GRIDONE_DATABASE_URL=url, GRIDONE_DATA_DIR=str(data_dir),
               GRIDONE_SECRET_KEY=SECRET, GRIDONE_LOOKUP_PEPPER=PEPPER)
    env.update({f"GRIDONE_{k.upper()}": v for k, v in settings.items()})
    return env


def gridone(args: list[str], env: dict[str, str], timeout: float = 600
            ) -> subprocess.CompletedProcess[str]:
    """Run a ``gridone`` command to its end; raise with its output if it failed."""
    result = subprocess.run([sys.executable, "-m", "server.cli", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"gridone {' '.join(args)} exited {result.returncode}:\n"
                           f"{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def postgres_database(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the server of ``base_url``, dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(base_url)
    name = f"gridone_b_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    """``gridone serve --workers N`` in its own session, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> None:
        """Returns once every worker has started its application: ``/ready`` answers as
        soon as the first one is up, and a request sent before the others are would
        always land on that one."""
        self.log.touch()
        begin = self.log.stat().st_size
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--port", str(self.port),
                 "--workers", str(self.workers)],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gridone serve exited {self.proc.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")
            try:
                if (httpx.get(f"{self.url}/api/v1/ready", timeout=2).status_code == 200
                        and self._all_started(begin)):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gridone serve did not get ready in {timeout} s")

    def _all_started(self, begin: int) -> bool:
        """Every worker has logged the end of its startup since ``begin`` (uvicorn says
        so at INFO; with a quieter log level there is nothing to wait for)."""
        if self.env.get("GRIDONE_LOG_LEVEL", "info").lower() not in ("info", "debug"):
            return True
        with open(self.log, "rb") as f:
            f.seek(begin)
            return f.read().count(b"Application startup complete") >= self.workers

    def pids(self) -> list[int]:
        """The server's processes (the supervisor and its workers)."""
        import psutil

        if self.proc is None or self.proc.poll() is not None:
            return []
        parent = psutil.Process(self.proc.pid)
        return [parent.pid, *(c.pid for c in parent.children(recursive=True))]

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM to the supervisor (it stops its workers); SIGKILL to the session if
        that does not end it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
