"""Report a fault: account, description, photos, location."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import t, translate
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop
from mobile.state.job_detail import GpsFix
from shared.errors import DomainError

MAX_PHOTOS = 10


@ft.observable
@dataclass
class FaultReportState:
    backend: Backend
    account_id: str = ""
    description: str = ""
    photos: list[str] = field(default_factory=list)
    thumbs: dict[str, bytes] = field(default_factory=dict)
    location: GpsFix | None = None
    gps_status: str = ""
    gps_why: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    created_id: str = ""
    on_change: Callable[[], Any] | None = None
    clock: Now = default_clock

    def set_description(self, text: str) -> None:
        """Typing clears the "please describe" hint as soon as there is text."""
        self.description = text
        if text.strip() and "description" in self.errors:
            self.errors = {k: v for k, v in self.errors.items() if k != "description"}

    def outage_warning(self, lang: str) -> str:
        """Said before sending when a planned outage covers the account's area now."""
        from mobile.state.outages import covering_outage

        line = covering_outage(self.backend, self.account_id, self.clock())
        return line.warning(lang) if line else ""

    def accounts(self) -> list[tuple[str, str]]:
        """(id, "account no · address") of the customer's accounts."""
        out = []
        for a in sorted(self.backend.rows("account"), key=lambda r: r.get("account_no") or ""):
            out.append((a["id"], f"{a.get('account_no')} · {a.get('address') or ''}"))
        return out

    def start(self) -> None:
        accounts = self.accounts()
        if accounts and not self.account_id:
            self.account_id = accounts[0][0]

    async def add_photo(self, data: bytes) -> str:
        sha = await off_loop(self.backend.store_photo, data)
        if sha not in self.photos and len(self.photos) < MAX_PHOTOS:
            self.photos.append(sha)
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb
        return sha

    def remove_photo(self, sha: str) -> None:
        if sha in self.photos:
            self.photos.remove(sha)

    def set_location(self, fix: GpsFix | None) -> None:
        self.location = fix
        self.gps_status = "fix" if fix else "unavailable"

    def validate(self, lang: str) -> bool:
        errors: dict[str, str] = {}
        if not self.account_id:
            errors["account_id"] = t("required", lang)
        if not self.description.strip():
            errors["description"] = t("description_required", lang)
        self.errors = errors
        return not errors

    def submit(self, lang: str) -> str | None:
        if not self.validate(lang):
            return None
        try:
            self.created_id = self.backend.report(
                account_id=self.account_id, description=self.description.strip()[:2000],
                location=self.location.payload() if self.location else None,
                photo_shas=list(self.photos))
        except DomainError as exc:
            self.errors = {"form": translate(exc.code, lang, **exc.details)}
            return None
        if self.on_change is not None:
            self.on_change()
        return self.created_id
