"""The phone's camera, photo picker and GPS, behind small async calls.

Each is optional: ``pick_photo`` works everywhere (the browser's file chooser in web
mode); the camera (flet-camera) and GPS (flet-geolocator) are offered when the device has
them, and every caller has a manual fallback (choose a file; confirm arrival by hand).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import flet as ft

from mobile.state.common import off_loop
from mobile.state.job_detail import GpsFix

log = logging.getLogger(__name__)
GPS_TIMEOUT_S = 12.0


#: Turns a chosen image into what the device keeps (the browser build downscales there,
#: with the browser's codecs: ``mobile.web.images``); elsewhere ``sync.client.photos`` does.
ImagePrep = Callable[[bytes], Awaitable[bytes]]


class Hardware:
    def __init__(self, *, prepare_image: ImagePrep | None = None,
                 fonts: Callable[[], Path] | None = None) -> None:
        self.prepare_image = prepare_image
        #: where the fonts of a generated PDF are (None: the app's own ``mobile/assets``)
        self.fonts = fonts
        self._picker: ft.FilePicker | None = None
        self._geo: Any = None

    def attach(self) -> None:
        """Create the page services (call inside the page's context)."""
        self._picker = ft.FilePicker()
        try:
            import flet_geolocator as fg

            self._geo = fg.Geolocator(configuration=fg.GeolocatorConfiguration(
                accuracy=fg.GeolocatorPositionAccuracy.HIGH))
        except Exception as exc:  # the extension is optional on a device
            log.info("geolocator unavailable: %s", exc)
            self._geo = None

    async def pick_photos(self, *, multiple: bool = False) -> list[bytes]:
        """Photos chosen from the device's files (bytes; on a phone read from the path)."""
        if self._picker is None:
            return []
        files = await self._picker.pick_files(
            file_type=ft.FilePickerFileType.IMAGE, allow_multiple=multiple, with_data=True)
        out: list[bytes] = []
        for f in files or []:
            if f.bytes:
                data = bytes(f.bytes)
            elif f.path:
                data = await off_loop(_read, f.path)
            else:
                continue
            out.append(await self.prepare_image(data) if self.prepare_image else data)
        return out

    async def save_file(self, name: str, data: bytes) -> str | None:
        """Hand a file to the user (web: the browser downloads it; a phone: save dialog)."""
        if self._picker is None:
            return None
        return await self._picker.save_file(file_name=name, src_bytes=data)

    async def gps_fix(self) -> tuple[GpsFix | None, str]:
        """A GPS fix with its accuracy, or (None, why not: a ``gps_reason`` key)."""
        if self._geo is None:
            return None, "off"
        try:
            pos = await asyncio.wait_for(self._geo.get_current_position(), GPS_TIMEOUT_S)
        except TimeoutError:
            return None, "timeout"
        except Exception as exc:
            log.info("no GPS fix: %s", exc)
            return None, gps_reason(str(exc) or type(exc).__name__)
        if pos is None or pos.latitude is None or pos.longitude is None:
            return None, "other"
        return GpsFix(float(pos.latitude), float(pos.longitude),
                      float(pos.accuracy if pos.accuracy is not None else 9999)), ""


def gps_reason(platform_message: str) -> str:
    """A platform's (browser's, Android's) location error as one of our reasons: denied,
    timeout, off, other — shown in the user's language, never the raw English text."""
    text = platform_message.lower()
    if "denied" in text or "permission" in text:
        return "denied"
    if "timeout" in text or "timed out" in text:
        return "timeout"
    if "disabled" in text or "service" in text or "not available" in text:
        return "off"
    return "other"


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
