"""The composition root of the app in the browser (the module ``gridone_device`` runs).

The same ``mobile.main.make_main`` as on a phone, with the browser's platform: the data
folder is IndexedDB-backed (``mobile.web.storage``), written back after every local commit;
HTTP goes through the worker's XMLHttpRequest (``sync.client.transport_fetch``); photos
are downscaled by the browser (``mobile.web.images``); the server is the one the app was
served by (no "Server URL" field).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any


def build_version(path: Path = Path("gridone_build.json")) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return ""


def run() -> None:
    # pydantic looks for plugins in every installed package's metadata when it builds its
    # first model (a scan of the packages' zip at each start); the device has none
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    import flet as ft
    from js import location  # type: ignore[import-not-found]

    from mobile.main import make_main
    from mobile.services.platform import Platform
    from mobile.web.fonts import browser_fonts
    from mobile.web.images import downscale
    from mobile.web.storage import DATA, BrowserStorage
    from shared.heap import settle

    def fetch_transport(*args: Any, **kw: Any) -> Any:
        # imported when the engine is first made, after the first screen: httpx and the
        # standard library it pulls in are ~0.25 s of the start
        from sync.client.transport_fetch import fetch_transport as make

        return make(*args, **kw)

    logging.basicConfig(level=logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    storage = BrowserStorage(DATA)
    platform = Platform(transport=fetch_transport, prepare_image=downscale,
                        server_fixed=True, open_storage=storage.open, stored=storage.changed,
                        version=build_version(), fonts=browser_fonts)
    # the imports above out of the collector's sight: no full collection of them during
    # the device's first big download (no collection now: it would delay the first screen)
    settle(collect=False)
    ft.run(make_main(api_url=str(location.origin), data_root=DATA, platform=platform))
