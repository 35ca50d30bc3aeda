"""The review queue's state: resolved jobs waiting for a manager (server-paged), the one
picked, and approve / return with a reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.supervision_common import PAGE_SIZE, PagedState


@ft.observable
@dataclass
class ReviewState(PagedState):
    octx: OfficeContext = field(compare=False, repr=False)
    rows: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    loaded: bool = False
    error: str = ""
    picked: str | None = None
    reason: str = ""
    notice: str = ""
    busy: bool = False
    rule_kind: str = "*"
    rule_percent: str = ""


    @property
    def job(self) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["id"] == self.picked), None)

    def rule_text(self) -> str:
        if not self.rules or all(r["percent"] >= 100 for r in self.rules):
            return t("review_rule_all", self.lang)
        parts = [t("rule_pct", self.lang, percent=r["percent"],
                   kind=t("rule_rest", self.lang) if r["kind"] == "*"
                   else label(r["kind"], self.lang)) for r in self.rules]
        return t("review_rule", self.lang, rules="; ".join(parts))

    async def load(self) -> None:
        page, err = await self.calls.run(self.calls.api.reviews, limit=PAGE_SIZE,
                                         offset=self.offset)
        self.error, self.loaded = err, True
        if page is not None:
            self.rows, self.total, self.rules = page["items"], page["total"], page["rules"]
            if self.picked and self.job is None:
                self.picked = None


    def pick(self, order_id: str) -> None:
        self.picked, self.reason, self.error = order_id, "", ""

    async def decide(self, outcome: str) -> bool:
        job = self.job
        if job is None:
            return False
        self.busy = True
        try:
            reason = self.reason.strip() or None
            done, err = await self.calls.run(self.calls.api.review, job["id"], outcome, reason)
        finally:
            self.busy = False
        if done is None:
            self.error = err
            return False
        who = job.get("assignee_name") or "—"
        self.notice = (t("reviewed_ok", self.lang, code=job["code"]) if outcome == "approved"
                       else t("returned_ok", self.lang, code=job["code"], who=who,
                              reason=reason or ""))
        self.picked, self.reason = None, ""
        await self.load()
        return True

    async def save_rule(self) -> bool:
        """Set the share of ``rule_kind`` (``*``: the other kinds) to review."""
        text = self.rule_percent.strip()
        if not (text.isascii() and text.isdigit() and int(text) <= 100):
            self.error = t("percent_0_100", self.lang)
            return False
        done, err = await self.calls.run(self.calls.api.set_review_rule, self.rule_kind,
                                         int(text))
        self.error = err
        if done is None:
            return False
        self.rule_percent = ""
        await self.load()
        return True

    async def reload(self) -> None:
        await self.load()
