"""The app as a child process of the launcher, and stopping it for sure.

``app_child`` starts ``python -m mobile`` (web mode). On Linux the child is also told to
receive SIGTERM when the launcher dies (``PR_SET_PDEATHSIG``), so even a launcher killed
with SIGKILL does not leave it holding the app port. ``stop`` asks it to end (SIGTERM),
waits, and kills it if it does not.

``on_stop_signals`` turns SIGTERM and SIGINT into ``SystemExit`` (exit code 128 + the
signal), so the launcher's ``finally`` blocks run: uvicorn, which serves the API in the
foreground, shuts down on the signal and then re-raises it with the handler it found —
this one — instead of the default, which ends the process on the spot.
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # Not on Linux: stop() and the signal handlers remain.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))


def app_child(*, api_url: str, host: str, port: int, data_dir: Path | None
              ) -> subprocess.Popen[bytes]:
    """Start the app in web mode; it serves ``http://{host}:{port}/`` a few seconds later."""
    args = [sys.executable, "-m", "mobile", "--api-url", api_url, "--host", host,
            "--port", str(port), "--fixed-server"]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    preexec: Callable[[], None] | None = _die_with_parent if sys.platform == "linux" else None
    return subprocess.Popen(args, preexec_fn=preexec)


def stop(proc: subprocess.Popen[bytes], *, timeout_s: float = 10.0) -> None:
    """End the child and wait for it: SIGTERM, then SIGKILL after ``timeout_s``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _exit_on(sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + sig)


def on_stop_signals() -> None:
    """SIGTERM and SIGINT end the launcher through ``SystemExit`` (``finally`` runs)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on)
