#!/usr/bin/env python3
"""GridOne launcher: the only two commands a new machine needs.

    python3 run.py demo [ARGS...]   set up if needed, then run `.venv/bin/gridone demo ARGS...`
    python3 run.py test [ARGS...]   set up if needed, make sure PostgreSQL (and Chromium) are
                                    there, then run `.venv/bin/python -m pytest ARGS...`

Setup creates `.venv` next to this file and installs the project with `pip install -e ".[dev]"`.
It re-installs only when pyproject.toml changes (its sha256 is kept in `.venv/.gridone-stamp`).
Set GRIDONE_SKIP_SETUP=1 to use the existing `.venv` as it is.  Standard library only.
"""

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

if sys.version_info < (3, 11):  # noqa: UP036 (this file must run on any python3)
    sys.exit(f"GridOne needs Python 3.11 or newer; this is Python {sys.version.split()[0]}.")

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
VENV_PY = VENV / "bin" / "python"
STAMP = VENV / ".gridone-stamp"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
USAGE = """usage: python3 run.py COMMAND [ARGS...]

commands:
  demo   set up (first run only), build a fresh demo database, start the server
  test   set up (first run only), make sure PostgreSQL and Chromium are there, run pytest
         (extra ARGS go to pytest, e.g. `python3 run.py test tests/unit -x`)"""

_T0 = time.monotonic()
_apt_updated = False


def say(tag: str, msg: str) -> None:
    print(f"[{tag}] {msg} ({time.monotonic() - _T0:.1f} s)", flush=True)


def run_quiet(cmd: list[str], env: dict[str, str] | None = None, report: bool = True) -> bool:
    """Run cmd with its output captured; if it fails (and report), show the output's tail."""
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    except OSError as exc:
        print(f"    {cmd[0]}: {exc}", file=sys.stderr)
        return False
    if proc.returncode != 0 and report:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-15:]
        print(f"    `{' '.join(cmd)}` failed (exit {proc.returncode}):", file=sys.stderr)
        for line in tail:
            print(f"    | {line}", file=sys.stderr)
    return proc.returncode == 0


# --------------------------------------------------------------------------- setup


def setup() -> None:
    if os.environ.get("GRIDONE_SKIP_SETUP") == "1":
        if not VENV_PY.exists():
            sys.exit(f"GRIDONE_SKIP_SETUP=1 but {VENV_PY} does not exist; unset it to set up.")
        return
    if not VENV_PY.exists():
        if VENV.exists():
            shutil.rmtree(VENV)  # a broken or half-made venv: start over
        say("setup", "creating virtual environment…")
        if not run_quiet([sys.executable, "-m", "venv", str(VENV)]):
            shutil.rmtree(VENV, ignore_errors=True)
            sys.exit(
                "[setup] could not create the virtual environment. On Debian/Ubuntu install "
                f"the venv module first: apt-get install python3.{sys.version_info[1]}-venv"
            )
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    pip = [str(VENV_PY), "-m", "pip", "--disable-pip-version-check"]
    say("setup", "upgrading pip…")
    run_quiet([*pip, "install", "--quiet", "--upgrade", "pip"])  # an old pip still works
    say("setup", "installing GridOne and its dependencies (1–3 min on a first run)…")
    if subprocess.run([*pip, "install", "--quiet", "-e", ".[dev]"], cwd=ROOT).returncode != 0:
        sys.exit(
            "[setup] `pip install -e .[dev]` failed (see pip's messages above). Check the "
            "network connection to PyPI and pyproject.toml, then run this command again."
        )
    STAMP.write_text(digest + "\n")
    say("setup", "done")


# --------------------------------------------------------------------------- system packages


def can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(*packages: str) -> bool:
    global _apt_updated
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        say("apt", "apt-get update…")
        _apt_updated = run_quiet(["apt-get", "update", "-q"], env=env)
    say("apt", f"apt-get install -y {' '.join(packages)}…")
    return run_quiet(["apt-get", "install", "-y", "-q", *packages], env=env)


def ensure_chromium() -> None:
    if not Path(CHROMIUM).exists() and can_apt():
        apt_install("chromium")
    if not Path(CHROMIUM).exists():
        print(
            f"[chromium] WARNING: {CHROMIUM} is missing and could not be installed "
            "(needs root and apt-get); the browser tests will fail.",
            flush=True,
        )
    os.environ["GRIDONE_CHROMIUM"] = CHROMIUM


# --------------------------------------------------------------------------- PostgreSQL


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def wait_port(host: str, port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(host, port):
            return True
        time.sleep(0.5)
    return port_open(host, port)


def pg_versions() -> list[str]:
    etc = Path("/etc/postgresql")
    return sorted(p.name for p in etc.iterdir() if (p / "main").is_dir()) if etc.is_dir() else []


def start_clusters(action: str = "start") -> bool:
    """Run `pg_ctlcluster VERSION main ACTION` for every cluster; True if any succeeded."""
    ok = False
    for version in pg_versions():
        say("postgres", f"pg_ctlcluster {version} main {action}")
        cmd = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
        ok = run_quiet(cmd) or ok
    return ok


def as_postgres(cmd: str, report: bool = True) -> bool:
    return run_quiet(["su", "postgres", "-c", cmd], report=report)


def prepare_fresh_server(user: str, db: str) -> None:
    """After installing PostgreSQL: trust auth on 127.0.0.1 for `user`, and database `db`."""
    probe = f"psql -h 127.0.0.1 -U {user} -d postgres -w -tAc 'select 1' >/dev/null 2>&1"
    if not run_quiet(["sh", "-c", probe], report=False):
        for version in pg_versions():
            hba = Path(f"/etc/postgresql/{version}/main/pg_hba.conf")
            say("postgres", f"allowing trust auth from 127.0.0.1 in {hba}")
            hba.write_text("host all all 127.0.0.1/32 trust\n" + hba.read_text())
        start_clusters("reload")
        time.sleep(1)
    exists = f"psql -tAc \"select 1 from pg_database where datname='{db}'\" | grep -q 1"
    if not as_postgres(exists, report=False):
        say("postgres", f"creating database {db}")
        as_postgres(f"createdb {db}")


def ensure_postgres(url: str) -> None:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    user, db = parts.username or "postgres", parts.path.lstrip("/") or "test"
    if port_open(host, port):
        return
    say("postgres", f"nothing listens on {host}:{port}; trying to start PostgreSQL…")
    if host in LOCAL_HOSTS:
        if shutil.which("pg_ctlcluster") and pg_versions():
            if start_clusters() and wait_port(host, port):
                return
        elif can_apt() and apt_install("postgresql"):
            start_clusters()  # the package may have started it already
            if wait_port(host, port):
                prepare_fresh_server(user, db)
                return
    print(
        f"[postgres] ERROR: PostgreSQL is not reachable at {host}:{port}.\n"
        f"The tests need a PostgreSQL server there with a database `{db}` that user `{user}`\n"
        "can reach without a password (trust auth), e.g. on Debian/Ubuntu as root:\n"
        "    apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect "
        "$(ls /etc/postgresql) main start\n"
        "    su postgres -c 'createdb test'\n"
        "or point GRIDONE_TEST_PG_URL at another server "
        f"(now: {url}).",
        file=sys.stderr,
    )
    sys.exit(3)


# --------------------------------------------------------------------------- main


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("demo", "test"):
        print(USAGE, file=sys.stderr)
        sys.exit(2)
    command, args = argv[0], argv[1:]
    os.chdir(ROOT)
    setup()
    if command == "demo":
        gridone = VENV / "bin" / "gridone"
        if not gridone.exists():
            sys.exit(f"{gridone} is missing: the install did not provide the gridone command.")
        os.execv(gridone, [str(gridone), "demo", *args])
    url = os.environ.get("GRIDONE_TEST_PG_URL") or DEFAULT_PG_URL
    ensure_postgres(url)
    os.environ["GRIDONE_TEST_PG_URL"] = url
    ensure_chromium()
    sys.stdout.flush()
    os.execv(VENV_PY, [str(VENV_PY), "-m", "pytest", *workers(args), *args])


def workers(args: list[str]) -> list[str]:
    """The whole suite runs on as many pytest-xdist workers as the machine has cores (at
    most ``GRIDONE_TEST_WORKERS``, default 2; 1 = one process): the browser tests on one of
    them, the fault tests on one, the rest shared (``tests/conftest.py``). A run of chosen
    tests (a path among the arguments) or one that sets ``-n`` itself stays as asked."""
    chosen = any(not a.startswith("-") and Path(a.split("::")[0]).exists() for a in args)
    if chosen or any(a.startswith(("-n", "--numprocesses")) for a in args):
        return []
    wanted = int(os.environ.get("GRIDONE_TEST_WORKERS", "2"))
    n = max(1, min(wanted, os.cpu_count() or 1))
    # the whole suite also names its 25 slowest tests: the run's time is watched (< 25 min)
    return (["-n", str(n), "--dist", "loadgroup"] if n > 1 else []) + ["--durations=25"]


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:
        sys.exit(130)
