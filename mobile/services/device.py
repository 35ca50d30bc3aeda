"""Where this device keeps its data, and which device it is.

On a phone (``flet build``) and under ``flet run`` the app's data folder is
``FLET_APP_STORAGE_DATA``. In web mode one app process serves many browsers: each
browser keeps its own random device key in ``SharedPreferences`` (the browser's
localStorage) and gets its own folder, so two tabs signed in as two users behave as two
phones, each with its own local database, outbox and photo queue.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

DEVICE_KEY_PREF = "gridone.device_key"
SERVER_URL_PREF = "gridone.server_url"
LANG_PREF = "gridone.lang"
_KEY_RE = re.compile(r"^[a-z0-9]{16,64}\Z")


def data_root(explicit: str | Path | None = None) -> Path:
    """The app's data folder: given, else the packaged app's, else ``./data/mobile``."""
    if explicit:
        return Path(explicit)
    packaged = os.getenv("FLET_APP_STORAGE_DATA")
    if packaged:
        return Path(packaged)
    return Path("data") / "mobile"


def new_device_key() -> str:
    return secrets.token_hex(12)


def valid_device_key(value: object) -> bool:
    return isinstance(value, str) and bool(_KEY_RE.match(value))


def device_dir(root: Path, device_key: str) -> Path:
    if not valid_device_key(device_key):
        raise ValueError("bad device key")
    path = root / "devices" / device_key
    path.mkdir(parents=True, exist_ok=True)
    return path


async def device_key(prefs: object) -> str:
    """This browser's (or phone's) device key, made and kept on first use."""
    key = await prefs.get(DEVICE_KEY_PREF)  # type: ignore[attr-defined]
    if not valid_device_key(key):
        key = new_device_key()
        await prefs.set(DEVICE_KEY_PREF, key)  # type: ignore[attr-defined]
    return str(key)
