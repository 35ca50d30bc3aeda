"""The monitoring screens' calls (``/api/v1/monitoring``), on the office client.

Kept apart from ``client.py`` so the screens of different issues never edit one file."""

from __future__ import annotations

from datetime import date
from typing import Any

from mobile.office.client import OfficeClient

BASE = "/api/v1/monitoring"
#: The tables the server exports, by the screen that shows them.
EXPORTS = ("stations", "areas", "meters", "loss", "heatmap", "failing", "anomalies")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class MonitoringApi:
    def __init__(self, client: OfficeClient) -> None:
        self.client = client

    def overview(self, day: date | None = None) -> dict[str, Any]:
        return self.client.get(f"{BASE}/overview", day=_day(day))  # type: ignore[no-any-return]

    def areas(self, day: date | None = None) -> dict[str, Any]:
        return self.client.get(f"{BASE}/areas", day=_day(day))  # type: ignore[no-any-return]

    def area(self, area_id: str, day: date | None = None) -> dict[str, Any]:
        return self.client.get(f"{BASE}/areas/{area_id}",  # type: ignore[no-any-return]
                               day=_day(day))

    def load(self, area_id: str, day: date | None = None) -> dict[str, Any]:
        return self.client.get(f"{BASE}/areas/{area_id}/load",  # type: ignore[no-any-return]
                               day=_day(day))

    def loss(self, area_id: str, first: date | None = None, last: date | None = None
             ) -> dict[str, Any]:
        return self.client.request(  # type: ignore[no-any-return]
            "GET", f"{BASE}/areas/{area_id}/loss",
            params={"from": _day(first), "to": _day(last), "by": "day"})

    def heatmap(self, first: date | None = None, last: date | None = None) -> dict[str, Any]:
        return self.client.request(  # type: ignore[no-any-return]
            "GET", f"{BASE}/collection/heatmap", params={"from": _day(first), "to": _day(last)})

    def failing(self, day: date | None = None) -> dict[str, Any]:
        return self.client.get(f"{BASE}/collection/failing",  # type: ignore[no-any-return]
                               day=_day(day))

    def anomalies(self, *, open_only: bool = False, limit: int = 200) -> dict[str, Any]:
        return self.client.get(f"{BASE}/anomalies",  # type: ignore[no-any-return]
                               open="true" if open_only else None, limit=limit)

    def export(self, table: str, fmt: str, **filters: Any) -> bytes:
        """The table as a file (``csv`` with a BOM, or ``xlsx``), headings in the
        client's language."""
        if table not in EXPORTS or fmt not in ("csv", "xlsx"):
            raise ValueError(f"{table}.{fmt}")
        params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in filters.items()}
        return self.client.download(f"{BASE}/export/{table}", **params, format=fmt)
