"""The administrator's page: the stall rules (data: thresholds, escalation delays, on or
off) and the server scheduler's jobs (last run, next run, errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import t


@ft.observable
@dataclass
class AdminState:
    octx: OfficeContext = field(compare=False, repr=False)
    rules: list[dict[str, Any]] = field(default_factory=list)
    drafts: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    scheduler: dict[str, Any] | None = None
    scheduler_error: str = ""
    run_result: str = ""
    error: str = ""

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    async def load(self) -> None:
        try:
            self.rules = await self.octx.call(self.octx.client.stall_rules)
        except OfficeError as exc:
            self.error = exc.message
        try:
            self.scheduler = await self.octx.call(self.octx.client.scheduler)
            self.scheduler_error = ""
        except OfficeError as exc:
            self.scheduler = None
            self.scheduler_error = (t("scheduler_missing", self.lang) if exc.status == 404
                                    else exc.message)

    def edit(self, rule_id: str, name: str, value: str) -> None:
        self.drafts = {**self.drafts, rule_id: {**self.drafts.get(rule_id, {}), name: value}}

    async def save(self, rule: dict[str, Any]) -> bool:
        draft = self.drafts.get(rule["id"], {})
        body: dict[str, Any] = {"expected_version": rule["version"]}
        try:
            for name in ("threshold", "escalate_after_min"):
                if draft.get(name, "").strip():
                    body[name] = int(draft[name])
        except ValueError:
            self.errors = {**self.errors, rule["id"]: t("whole_number", self.lang)}
            return False
        try:
            await self.octx.call(self.octx.client.update_stall_rule, rule["id"], body)
        except OfficeError as exc:
            self.errors = {**self.errors, rule["id"]: exc.message}
            return False
        self.errors = {k: v for k, v in self.errors.items() if k != rule["id"]}
        self.drafts = {k: v for k, v in self.drafts.items() if k != rule["id"]}
        await self.load()
        return True

    async def toggle(self, rule: dict[str, Any]) -> None:
        try:
            await self.octx.call(self.octx.client.update_stall_rule, rule["id"],
                                 {"active": not rule["active"],
                                  "expected_version": rule["version"]})
        except OfficeError as exc:
            self.errors = {**self.errors, rule["id"]: exc.message}
            return
        await self.load()

    async def run_now(self) -> None:
        try:
            got = await self.octx.call(self.octx.client.run_stall_check)
        except OfficeError as exc:
            self.run_result = exc.message
            return
        self.run_result = t("stall_run_result", self.lang, **got)
        await self.load()
