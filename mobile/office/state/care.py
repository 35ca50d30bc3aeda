"""The care-list page's state (用电关怀): the station's listed accounts (filtered by
category and account), a request to add one (account looked up by number, category,
reason, review date) or to remove one (reason), and the requests with approve / refuse.

The form is checked with the shared rule (``shared.care.check_request``) before it is
sent, and its problems are said in the field they concern, in the user's language; the
server runs the same rule, and its field errors land in the same places. Nobody approves
their own request: the server refuses it (``CARE_OWN_REQUEST``) and its message is shown
on the request's row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.client_care import CareClient
from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.state.common import Now, default_clock
from shared.care import (
    CARE_ROLES,
    REASON_MAX,
    REVIEW_MAX_DAYS,
    CareCategory,
    CareChange,
    check_request,
)
from shared.enums import Role
from shared.errors import DomainError, FieldErrors
from shared.messages import translate
from shared.timeutil import LOCAL_TZ

T = TypeVar("T")
CATEGORIES = tuple(c.value for c in CareCategory)
#: the request lists' filter chips ("" is all of them)
STATUSES = ("pending", "approved", "refused", "")
#: the review date offered for a new entry: half a year ahead
DEFAULT_REVIEW_DAYS = 182


@ft.observable
@dataclass
class CareState:
    octx: OfficeContext = field(compare=False, repr=False)
    role: Role = Role.AGENT
    clock: Now = field(default=default_clock, compare=False, repr=False)
    # -- the list
    entries: list[dict[str, Any]] = field(default_factory=list)
    category_filter: str = ""
    query: str = ""
    loaded: bool = False
    error: str = ""
    # -- the requests
    requests: list[dict[str, Any]] = field(default_factory=list)
    status: str = "pending"
    notes: dict[str, str] = field(default_factory=dict)
    row_errors: dict[str, str] = field(default_factory=dict)
    # -- the form
    change: str = CareChange.ADD.value
    account_no: str = ""
    account: dict[str, Any] | None = None
    category: str = ""
    reason: str = ""
    review_text: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)
    form_error: str = ""
    notice: str = ""
    busy: bool = False

    def __post_init__(self) -> None:
        self.api = CareClient(self.octx.client)
        if not self.review_text:
            self.review_text = self.default_review()

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    @property
    def decides(self) -> bool:
        """Whoever may ask may decide another's request (the server's rule)."""
        return self.role in CARE_ROLES

    def today(self) -> date:
        return self.clock().astimezone(LOCAL_TZ).date()

    def default_review(self) -> str:
        return (self.today() + timedelta(days=DEFAULT_REVIEW_DAYS)).isoformat()

    def latest_review(self) -> date:
        return self.today() + timedelta(days=REVIEW_MAX_DAYS)

    async def _call(self, fn: Callable[..., T], *args: Any) -> tuple[T | None, OfficeError | None]:
        try:
            return await self.octx.call(fn, *args), None
        except OfficeError as exc:
            return None, exc

    # -- loading ---------------------------------------------------------------------------
    async def load(self) -> None:
        entries, err = await self._call(self.api.entries)
        if entries is None:
            self.error = err.message if err else ""
            return
        requests, err = await self._call(self.api.requests, self.status or None)
        self.entries, self.loaded = entries, True
        self.error = err.message if err else ""
        if requests is not None:
            self.requests = requests

    async def set_status(self, status: str) -> None:
        self.status = status
        await self.load()

    # -- the list --------------------------------------------------------------------------
    def shown(self) -> list[dict[str, Any]]:
        """The entries the filters let through (category; account number or name)."""
        q = self.query.strip().lower()
        return [e for e in self.entries
                if (not self.category_filter or e["category"] == self.category_filter)
                and (not q or q in e["account_no"].lower() or q in e["account_name"].lower())]

    def filter_category(self, category: str) -> None:
        self.category_filter = category

    def overdue(self, entry: dict[str, Any]) -> bool:
        """The review date has come: someone should visit and confirm."""
        return date.fromisoformat(str(entry["review_on"])) <= self.today()

    def listed(self, account_id: str) -> bool:
        return any(e["account_id"] == account_id for e in self.entries)

    # -- the form --------------------------------------------------------------------------
    def start_add(self) -> None:
        self.change, self.account_no, self.account = CareChange.ADD.value, "", None
        self.reason = self.category = ""
        self.review_text = self.default_review()
        self.field_errors, self.form_error = {}, ""

    def start_remove(self, entry: dict[str, Any]) -> None:
        """Ask to take a listed account off (the form names it; a reason is needed)."""
        self.change = CareChange.REMOVE.value
        self.account_no = entry["account_no"]
        self.account = {"id": entry["account_id"], "account_no": entry["account_no"],
                        "name": entry["account_name"], "address": ""}
        self.reason = ""
        self.field_errors, self.form_error, self.notice = {}, "", ""

    def set_account_no(self, text: str) -> None:
        self.account_no = text
        if self.account is not None and self.account["account_no"] != text.strip():
            self.account = None

    def _field(self, name: str, other: str) -> str:
        """What to say in the field ``name`` (``other`` for a field the form does not
        word itself)."""
        if name == "reason":
            return t("care_need_reason", self.lang, n=REASON_MAX)
        if name == "category":
            return t("care_need_category", self.lang)
        if name == "review_on":
            try:
                date.fromisoformat(self.review_text.strip())
            except ValueError:
                return t("care_bad_date", self.lang, example=self.default_review())
            return t("care_date_range", self.lang, max=self.latest_review().isoformat())
        return other

    def check(self) -> dict[str, Any] | None:
        """The request's body, or None with the problems said in their fields (the shared
        rule decides; this only says it in words)."""
        self.field_errors, self.form_error = {}, ""
        if self.account is None:
            key = "care_no_account" if self.account_no.strip() else "care_need_account"
            self.field_errors = {"account_no": t(key, self.lang, no=self.account_no.strip())}
        data: dict[str, Any] = {"change": self.change, "reason": self.reason}
        if self.change == CareChange.ADD.value:
            data |= {"category": self.category or None, "review_on": self.review_text.strip()}
        listed = self.account is not None and self.listed(self.account["id"])
        try:
            ok = check_request(data, today=self.today(),
                               listed=listed if self.change == CareChange.ADD.value else True)
        except FieldErrors as exc:
            self.field_errors = {**self.field_errors,
                                 **{f: self._field(f, translate(e.code, self.lang, **e.details))
                                    for f, e in exc.errors.items()}}
            return None
        except DomainError as exc:  # already listed
            self.form_error = translate(exc.code, self.lang, **exc.details)
            return None
        if self.account is None:
            return None
        body: dict[str, Any] = {"account_id": self.account["id"], "change": ok.change.value,
                                "reason": ok.reason}
        if ok.change == CareChange.ADD:
            assert ok.category is not None and ok.review_on is not None
            body |= {"category": ok.category.value, "review_on": ok.review_on.isoformat()}
        return body

    async def look_up(self) -> bool:
        """Find the account typed (by its number exactly)."""
        no = self.account_no.strip()
        self.field_errors = {k: v for k, v in self.field_errors.items() if k != "account_no"}
        if not no:
            self.field_errors = {**self.field_errors,
                                 "account_no": t("care_need_account", self.lang)}
            return False
        found, err = await self._call(self.api.find_account, no)
        if err is not None:
            self.form_error = err.message
            return False
        if found is None:
            self.account = None
            self.field_errors = {**self.field_errors,
                                 "account_no": t("care_no_account", self.lang, no=no)}
            return False
        self.account, self.form_error = found, ""
        return True

    async def submit(self) -> bool:
        self.notice = ""
        if self.account is None and self.account_no.strip() and not await self.look_up():
            return False
        body = self.check()
        if body is None:
            return False
        self.busy = True
        try:
            _, err = await self._call(self.api.request_change, body)
        finally:
            self.busy = False
        if err is not None:
            fields = err.details.get("fields") or {}
            if fields:  # the server's own check: the same fields, the same words
                self.field_errors = {f: self._field(f, err.message) for f in fields}
            else:
                self.form_error = err.message
            return False
        self.notice = t("care_sent", self.lang)
        self.start_add()
        self.status = "pending"
        await self.load()
        return True

    # -- deciding --------------------------------------------------------------------------
    def set_note(self, request_id: str, text: str) -> None:
        self.notes = {**self.notes, request_id: text}

    async def decide(self, request_id: str, approve: bool) -> bool:
        note = self.notes.get(request_id, "").strip() or None
        if not approve and note is None:
            self.row_errors = {**self.row_errors,
                               request_id: t("care_refuse_needs_note", self.lang)}
            return False
        self.busy = True
        try:
            done, err = await self._call(self.api.decide, request_id, approve, note)
        finally:
            self.busy = False
        if done is None:
            self.row_errors = {**self.row_errors, request_id: err.message if err else ""}
            return False
        self.row_errors = {k: v for k, v in self.row_errors.items() if k != request_id}
        key = ("care_refused_ok" if not approve else
               "care_approved_add" if done["change"] == CareChange.ADD.value
               else "care_approved_remove")
        self.notice = t(key, self.lang, no=done["account_no"], name=done["account_name"])
        await self.load()
        return True
