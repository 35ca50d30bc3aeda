"""What differs where the app's Python runs: a phone or the web-mode server process, or the
browser itself (``mobile.web.entry``). ``mobile.main.make_main`` takes one ``Platform``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mobile.services.engine_backend import http_transport
from mobile.services.hardware import ImagePrep

if TYPE_CHECKING:
    from sync.client.transport import TransportFactory


async def _nothing_to_open() -> None:
    return None


def _nothing_to_do() -> None:
    return None


def _app_fonts() -> Path:
    from mobile.services.bill_pdf import FONTS

    return FONTS


@dataclass(frozen=True)
class Platform:
    #: how the sync engine reaches the server (httpx here; XMLHttpRequest in the browser)
    transport: TransportFactory = http_transport
    #: turns a chosen image into the JPEG kept (None: ``sync.client.photos`` does, with Pillow)
    prepare_image: ImagePrep | None = None
    #: the app syncs with the server it was served by: no "Server URL" to type
    server_fixed: bool = False
    #: make the data folder available (the browser loads it from IndexedDB), once
    open_storage: Callable[[], Awaitable[None]] = _nothing_to_open
    #: a local transaction committed (the browser writes it back to IndexedDB)
    stored: Callable[[], object] = _nothing_to_do
    #: the installed build's version, shown in Settings ("" when not a build)
    version: str = ""
    #: the folder holding the fonts a PDF embeds (the browser fetches them from the build)
    fonts: Callable[[], Path] = _app_fonts
