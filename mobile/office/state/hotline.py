"""The hotline report (and a counter clerk's walk-in report): find the caller's account
(account number, phone or name through the accounts look-up), then raise the job with its
description, priority and location — through ``POST /api/v1/work-orders``, the same
service as every other report, with channel ``hotline`` (``counter`` for a clerk)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from shared.enums import Role
from shared.ids import new_id

PHONE = re.compile(r"^\+?[0-9 -]{5,20}$")
#: What a counter clerk raises for a walk-in; the hotline takes faults first.
COUNTER_KINDS = ("new_connection", "capacity_change", "account_change", "fault_repair")
HOTLINE_KINDS = ("fault_repair", "meter_swap", "usage_inspection", "care_visit")


@ft.observable
@dataclass
class HotlineState:
    octx: OfficeContext = field(compare=False, repr=False)
    q: str = ""
    results: list[dict[str, Any]] = field(default_factory=list)
    searched: bool = False
    account: dict[str, Any] | None = None
    kind: str = "fault_repair"
    description: str = ""
    priority: str = "normal"
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    busy: bool = False
    created: dict[str, Any] | None = None
    report_id: str = field(default_factory=new_id)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def counter(self) -> bool:
        return self.octx.shell.role == Role.AGENT

    def kinds(self) -> tuple[str, ...]:
        return COUNTER_KINDS if self.counter else HOTLINE_KINDS

    async def search(self) -> None:
        q = self.q.strip()
        if not q:
            self.errors = {"q": t("search_needed", self.lang)}
            return
        self.busy, self.errors = True, {}
        try:
            got = await self.octx.call(self.octx.client.find_accounts, q)
        except OfficeError as exc:
            self.errors = {"q": exc.message}
            return
        finally:
            self.busy = False
        self.results, self.searched = got["items"], True

    def pick(self, account: dict[str, Any]) -> None:
        self.account = account
        self.address = account.get("address") or ""
        self.contact_name = account.get("name") or ""
        self.contact_phone = account.get("phone") or ""
        self.created, self.errors = None, {}

    def check(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.account is None:
            errors["account"] = t("account_needed", self.lang)
        if not self.description.strip():
            errors["description"] = t("description_needed", self.lang)
        elif len(self.description.strip()) > 2000:
            errors["description"] = t("too_long", self.lang, n=2000)
        if self.contact_phone.strip() and not PHONE.match(self.contact_phone.strip()):
            errors["contact_phone"] = t("phone_invalid", self.lang)
        if len(self.address) > 200:
            errors["address"] = t("too_long", self.lang, n=200)
        return errors

    def body(self) -> dict[str, Any]:
        assert self.account is not None
        body: dict[str, Any] = {
            "id": self.report_id, "kind": self.kind, "account_id": self.account["id"],
            "description": self.description.strip(), "priority": self.priority,
            "channel": "counter" if self.counter else "hotline",
            "contact_name": self.contact_name.strip() or None,
            "contact_phone": self.contact_phone.strip() or None,
            "address": self.address.strip() or None}
        if self.account.get("lat") is not None and self.account.get("lon") is not None:
            body["location"] = {"lat": self.account["lat"], "lon": self.account["lon"],
                                "accuracy_m": 50}
        return {k: v for k, v in body.items() if v is not None}

    async def submit(self) -> dict[str, Any] | None:
        self.errors = self.check()
        if self.errors:
            return None
        self.busy = True
        try:
            job = await self.octx.call(self.octx.client.report, self.body())
        except OfficeError as exc:
            self.errors = {"form": exc.message}
            return None
        finally:
            self.busy = False
        self.created = job
        return job

    def new_report(self) -> None:
        """The next call: a fresh form (a new idempotency id)."""
        self.account, self.results, self.q, self.searched = None, [], "", False
        self.description, self.priority, self.kind = "", "normal", self.kinds()[0]
        self.address = self.contact_name = self.contact_phone = ""
        self.created, self.errors, self.report_id = None, {}, new_id()
