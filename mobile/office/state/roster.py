"""The crew roster: the station's field users, who is on duty and why (the rule is shown),
open jobs, last known position; a manager marks people on or off duty for today."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import ago
from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.live import Change
from mobile.state.common import Now, default_clock, parse_dt
from shared.enums import Role

ROLES = ("crew", "meter_tech", "agent")


@dataclass(frozen=True)
class CrewLine:
    id: str
    name: str
    role: str
    phone: str
    on_duty: bool
    duty: str  # why
    jobs: str
    position: str


def crew_line(c: dict[str, Any], now: Any, lang: str) -> CrewLine:
    source = {"manager": "duty_by_manager", "signed_in": "duty_by_sign_in",
              "none": "duty_none"}[c["duty_source"]]
    jobs = ", ".join(f"{j['code']} {label(j['status'], lang)}" for j in c["open_jobs"])
    pos = c.get("last_position")
    where = (t("position_at", lang, lat=f"{pos['lat']:.4f}", lon=f"{pos['lon']:.4f}",
               when=ago(parse_dt(pos["at"]), now, lang)) if pos else t("no_position", lang))
    return CrewLine(id=c["id"], name=c["display_name"], role=label(c["role"], lang),
                    phone=c.get("phone") or "", on_duty=c["on_duty"], duty=t(source, lang),
                    jobs=f"{c['open_count']}: {jobs}" if jobs else "0", position=where)


@ft.observable
@dataclass
class RosterState:
    octx: OfficeContext = field(compare=False, repr=False)
    role: str | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    rule: str = ""
    error: str = ""
    loaded: bool = False
    clock: Now = field(default=default_clock, compare=False, repr=False)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def can_mark(self) -> bool:
        return self.octx.shell.role in (Role.MANAGER, Role.ADMIN)

    async def load(self) -> None:
        try:
            got = await self.octx.call(self.octx.client.roster, role=self.role)
        except OfficeError as exc:
            self.error = exc.message
            return
        self.items, self.rule, self.error, self.loaded = got["items"], got["duty_rule"], "", True

    async def set_role(self, role: str | None) -> None:
        self.role = role or None
        await self.load()

    async def set_duty(self, user_id: str, on: bool) -> None:
        try:
            await self.octx.call(self.octx.client.set_duty, user_id, on)
        except OfficeError as exc:
            self.error = exc.message
            return
        await self.load()

    async def on_changes(self, change: Change) -> None:
        await self.load()  # a crew's job or duty moved: the roster is one request

    def lines(self) -> list[CrewLine]:
        now = self.clock()
        return [crew_line(c, now, self.lang) for c in self.items]
