"""The map of open jobs and crews: markers from ``/api/v1/dispatch/map``, on the tiles of the
configured tile server (a setting of the server), or on a plain background when none is
set or none can be reached — the markers still show and nothing errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.state.live import Change

#: Where the map looks when there is nothing to show (the county seat of the demo data).
DEFAULT_CENTER = (28.66, 112.88)


@ft.observable
@dataclass
class MapState:
    octx: OfficeContext = field(compare=False, repr=False)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    crews: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    error: str = ""
    loaded: bool = False
    #: the tile server failed to answer (the map goes on without tiles)
    tiles_failed: bool = False
    picked: dict[str, Any] | None = None

    @property
    def tile_url(self) -> str | None:
        return self.octx.shell.settings.get("map_tile_url") or None

    async def load(self) -> None:
        try:
            got = await self.octx.call(self.octx.client.map_data)
        except OfficeError as exc:
            self.error = exc.message
            return
        self.jobs, self.crews = got["jobs"], got["crews"]
        self.truncated, self.error, self.loaded = got["truncated"], "", True

    async def on_changes(self, change: Change) -> None:
        await self.load()

    def tiles_unavailable(self) -> None:
        """The tile layer reported a failed tile: say so once, keep the markers."""
        if not self.tiles_failed:
            self.tiles_failed = True

    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        points = [(j["lat"], j["lon"]) for j in self.jobs] + [
            (c["lat"], c["lon"]) for c in self.crews]
        if not points:
            return None
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        pad = 0.01
        return (min(lats) - pad, min(lons) - pad), (max(lats) + pad, max(lons) + pad)

    def center(self) -> tuple[float, float]:
        b = self.bounds()
        if b is None:
            return DEFAULT_CENTER
        return (b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2
