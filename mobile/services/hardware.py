"""The phone's camera, photo picker and GPS, behind small async calls.

Each is optional: ``pick_photo`` works everywhere (the browser's file chooser in web
mode); the camera (flet-camera) and GPS (flet-geolocator) are offered when the device has
them, and every caller has a manual fallback (choose a file; confirm arrival by hand).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import flet as ft

from mobile.state.job_detail import GpsFix

log = logging.getLogger(__name__)
GPS_TIMEOUT_S = 12.0


class Hardware:
    def __init__(self) -> None:
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
                out.append(bytes(f.bytes))
            elif f.path:
                out.append(await asyncio.to_thread(_read, f.path))
        return out

    async def gps_fix(self) -> tuple[GpsFix | None, str]:
        """A GPS fix with its accuracy, or (None, why not)."""
        if self._geo is None:
            return None, "GPS not available"
        try:
            pos = await asyncio.wait_for(self._geo.get_current_position(), GPS_TIMEOUT_S)
        except TimeoutError:
            return None, "timeout"
        except Exception as exc:
            return None, str(exc)[:120] or type(exc).__name__
        if pos is None or pos.latitude is None or pos.longitude is None:
            return None, "no position"
        return GpsFix(float(pos.latitude), float(pos.longitude),
                      float(pos.accuracy if pos.accuracy is not None else 9999)), ""


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
