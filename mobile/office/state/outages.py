"""Planned outage notices at the desk: choose areas, the times (local) and a reason,
publish (the areas' customers are told); the notices not over yet, each cancellable with
a reason (a dialog; the customers are told it). What the page last said is kept as a key
or an error code (``Said``) and worded in the language of the moment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.state.live import ReloadsOnReconnect
from mobile.office.state.said import Said, SaysThings, words
from mobile.state.common import Now, default_clock
from shared.errors import DomainError
from shared.outages import OutageDraft, check_cancel_reason, check_draft
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
class OutagesState(ReloadsOnReconnect, SaysThings):
    octx: OfficeContext = field(compare=False, repr=False)
    areas: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    start_text: str = ""
    end_text: str = ""
    reason: str = ""
    error: Said | None = None
    message: Said | None = None
    loaded: bool = False
    # -- the cancel dialog: which notice, the reason typed, what went wrong
    cancelling: str | None = None
    cancel_reason: str = ""
    cancel_error: Said | None = None
    busy: bool = False
    clock: Now = field(default=default_clock, compare=False, repr=False)

    @property
    def cancel_error_text(self) -> str:
        return words(self.cancel_error, self.lang)

    @property
    def cancelled_notice(self) -> dict[str, Any] | None:
        """The notice the cancel dialog is about."""
        return next((o for o in self.items if o["id"] == self.cancelling), None)

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
            self.error = Said.error(exc)
            return
        self.areas = list(settings.get("areas") or [])
        self.loaded, self.error = True, None

    def toggle(self, area_id: str) -> None:
        self.chosen = ([a for a in self.chosen if a != area_id] if area_id in self.chosen
                       else [*self.chosen, area_id])

    def draft(self) -> dict[str, Any] | None:
        """The notice as the server will check it (the same rule runs here first)."""
        starts, ends = parse_local(self.start_text), parse_local(self.end_text)
        if starts is None or ends is None:
            self.error = Said("outage_time_format")
            return None
        try:
            ok = check_draft(OutageDraft(tuple(self.chosen), starts, ends, self.reason),
                             now=self.clock())
        except DomainError as exc:
            self.error = Said.error(exc)
            return None
        return {"area_ids": list(ok.area_ids), "starts_at": ok.starts_at.isoformat(),
                "ends_at": ok.ends_at.isoformat(), "reason": ok.reason}

    async def publish(self) -> None:
        self.message = None
        body = self.draft()
        if body is None:
            return
        try:
            got = await self.octx.call(self.octx.client.post, "/api/v1/outages", body)
        except OfficeError as exc:
            self.error = Said.error(exc)
            return
        self.message = Said("outage_published", {"n": got["accounts_told"]})
        self.chosen, self.reason, self.error = [], "", None
        await self.load()

    # -- cancelling, with a reason --------------------------------------------------------
    def ask_cancel(self, outage_id: str) -> None:
        """Open the cancel dialog for a notice (nothing is sent yet)."""
        self.cancelling, self.cancel_reason, self.cancel_error = outage_id, "", None

    def edit_cancel_reason(self, value: str) -> None:
        """The reason as typed: a refusal said about an earlier attempt goes away."""
        self.cancel_reason = value
        if self.cancel_error is not None:
            self.cancel_error = None

    def keep(self) -> None:
        """Close the dialog: the notice stays as it is."""
        self.cancelling, self.cancel_reason, self.cancel_error = None, "", None

    async def cancel(self) -> None:
        """Cancel the dialog's notice with the reason typed: checked by the shared rule
        first (the server checks it again); refused, the dialog stays open and says why."""
        outage_id = self.cancelling
        if outage_id is None or self.busy:
            return
        try:
            reason = check_cancel_reason(self.cancel_reason)
        except DomainError as exc:
            self.cancel_error = Said.error(exc)
            return
        self.busy = True
        try:
            await self.octx.call(self.octx.client.post,
                                 f"/api/v1/outages/{outage_id}/cancel", {"reason": reason})
        except OfficeError as exc:
            self.cancel_error = Said.error(exc)
            return
        finally:
            self.busy = False
        notice = self.cancelled_notice
        areas = "、".join(a["name"] for a in notice["areas"]) if notice else ""
        self.keep()
        self.message, self.error = Said("outage_cancel_done", {"areas": areas}), None
        await self.load()
