"""The station overview's state: one answer of grouped counts and the crews' load."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.context import OfficeContext
from mobile.office.state.supervision_common import Calls


@ft.observable
@dataclass
class OverviewState:
    octx: OfficeContext = field(compare=False, repr=False)
    data: dict[str, Any] | None = None
    station_id: str | None = None
    error: str = ""

    def __post_init__(self) -> None:
        self.calls = Calls(self.octx)

    async def load(self) -> None:
        data, err = await self.calls.run(self.calls.api.overview, station_id=self.station_id)
        self.error = err
        if data is not None:
            self.data = data

    async def set_station(self, station_id: str | None) -> None:
        self.station_id = station_id
        await self.load()

    def crews(self) -> list[dict[str, Any]]:
        """Most loaded first."""
        crews = (self.data or {}).get("crews", [])
        return sorted(crews, key=lambda c: (-c["open_count"], c["display_name"]))
