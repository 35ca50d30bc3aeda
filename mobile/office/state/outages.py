"""Planned outage notices at the desk: choose areas, the times (local) and a reason,
publish (the areas' customers are told); the notices not over yet, cancellable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.state.common import Now, default_clock
from shared.errors import DomainError
from shared.messages import translate
from shared.outages import OutageDraft, check_draft
from shared.timeutil import LOCAL_TZ

FORMAT = "%Y-%m-%d %H:%M"


def local_text(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime(FORMAT)


def parse_local(text: str) -> datetime | None:
    try:
        return datetime.strptime(text.strip(), FORMAT).replace(tzinfo=LOCAL_TZ)
    except ValueError:
        return None


@ft.observable
@dataclass
class OutagesState:
    octx: OfficeContext = field(compare=False, repr=False)
    areas: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    start_text: str = ""
    end_text: str = ""
    reason: str = ""
    error: str = ""
    message: str = ""
    loaded: bool = False
    clock: Now = field(default=default_clock, compare=False, repr=False)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    def defaults(self) -> None:
        tomorrow = (self.clock().astimezone(LOCAL_TZ) + timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0)
        self.start_text = self.start_text or local_text(tomorrow)
        self.end_text = self.end_text or local_text(tomorrow.replace(hour=17))

    async def load(self) -> None:
        self.defaults()
        try:
            settings = await self.octx.call(self.octx.client.desk_settings)
            self.items = await self.octx.call(self.octx.client.get, "/api/v1/outages")
        except OfficeError as exc:
            self.error = exc.message
            return
        self.areas = list(settings.get("areas") or [])
        self.loaded, self.error = True, ""

    def toggle(self, area_id: str) -> None:
        self.chosen = ([a for a in self.chosen if a != area_id] if area_id in self.chosen
                       else [*self.chosen, area_id])

    def draft(self) -> dict[str, Any] | None:
        """The notice as the server will check it (the same rule runs here first)."""
        starts, ends = parse_local(self.start_text), parse_local(self.end_text)
        if starts is None or ends is None:
            self.error = t("outage_time_format", self.lang)
            return None
        try:
            ok = check_draft(OutageDraft(tuple(self.chosen), starts, ends, self.reason),
                             now=self.clock())
        except DomainError as exc:
            self.error = translate(exc.code, self.lang, **exc.details)
            return None
        return {"area_ids": list(ok.area_ids), "starts_at": ok.starts_at.isoformat(),
                "ends_at": ok.ends_at.isoformat(), "reason": ok.reason}

    async def publish(self) -> None:
        self.message = ""
        body = self.draft()
        if body is None:
            return
        try:
            got = await self.octx.call(self.octx.client.post, "/api/v1/outages", body)
        except OfficeError as exc:
            self.error = exc.message
            return
        self.message = t("outage_published", self.lang, n=got["accounts_told"])
        self.chosen, self.reason, self.error = [], "", ""
        await self.load()

    async def cancel(self, outage_id: str) -> None:
        try:
            await self.octx.call(self.octx.client.post, f"/api/v1/outages/{outage_id}/cancel",
                                 {})
        except OfficeError as exc:
            self.error = exc.message
            return
        await self.load()
