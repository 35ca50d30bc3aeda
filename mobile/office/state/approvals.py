"""The approvals page's state: record a change of money or counts (it waits for another
person), and the requests list (server-paged, by status) with approve / reject for those
whose role decides. The server refuses one's own request (``APPROVAL_OWN_REQUEST``); its
message is shown on the row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.supervision_common import PAGE_SIZE, PagedState
from shared.enums import Role
from shared.money import yuan_to_fen
from shared.supervision import APPROVER_ROLES, REQUEST_ROLES, ApprovalKind

FORM_KINDS = (ApprovalKind.ADJUSTMENT, ApprovalKind.REFUND, ApprovalKind.PURCHASE_COUNT)
STATUSES = ("pending", "approved", "rejected", "")


@ft.observable
@dataclass
class ApprovalsState(PagedState):
    octx: OfficeContext = field(compare=False, repr=False)
    role: Role = Role.MANAGER
    status: str = "pending"
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    loaded: bool = False
    error: str = ""
    row_errors: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    # -- the new request
    kind: str = ApprovalKind.ADJUSTMENT.value
    account_no: str = ""
    amount: str = ""
    reason: str = ""
    form_error: str = ""
    notice: str = ""
    busy: bool = False


    @property
    def decides(self) -> bool:
        return self.role in APPROVER_ROLES

    def form_kinds(self) -> list[str]:
        return [k.value for k in FORM_KINDS if self.role in REQUEST_ROLES[k]]

    async def load(self) -> None:
        page, err = await self.calls.run(self.calls.api.approvals, status=self.status or None,
                                         limit=PAGE_SIZE, offset=self.offset)
        self.error, self.loaded = err, True
        if page is not None:
            self.rows, self.total = page["items"], page["total"]

    async def set_status(self, status: str) -> None:
        self.status, self.offset = status, 0
        await self.load()


    # -- recording -------------------------------------------------------------------------
    def _body(self, account: dict[str, Any]) -> dict[str, Any] | None:
        body: dict[str, Any] = {"kind": self.kind, "reason": self.reason}
        text = self.amount.strip()
        if self.kind == ApprovalKind.PURCHASE_COUNT:
            if not account.get("meter_id"):
                self.form_error = t("no_meter", self.lang)
                return None
            if not (text.isascii() and text.isdigit()):
                self.form_error = t("bad_count", self.lang)
                return None
            return body | {"meter_id": account["meter_id"], "new_count": int(text)}
        try:
            fen = yuan_to_fen(text)
        except ValueError:
            self.form_error = t("bad_amount", self.lang)
            return None
        return body | {"account_id": account["id"], "amount_fen": fen}

    async def submit(self) -> bool:
        self.form_error = ""
        no = self.account_no.strip()
        found, err = await self.calls.run(self.calls.api.search, no, 5)
        if found is None:
            self.form_error = err
            return False
        account = next((a for a in found["items"] if a["account_no"] == no), None)
        if account is None:
            self.form_error = t("account_not_found", self.lang, no=no)
            return False
        body = self._body(account)
        if body is None:
            return False
        self.busy = True
        try:
            done, err = await self.calls.run(self.calls.api.request_approval, body)
        finally:
            self.busy = False
        if done is None:
            self.form_error = err
            return False
        self.notice = t("request_sent", self.lang)
        self.amount = self.reason = ""
        self.status, self.offset = "pending", 0
        await self.load()
        return True

    # -- deciding --------------------------------------------------------------------------
    async def decide(self, request_id: str, approve: bool) -> bool:
        reason = self.reasons.get(request_id, "").strip() or None
        self.busy = True
        try:
            done, err = await self.calls.run(self.calls.api.decide, request_id, approve, reason)
        finally:
            self.busy = False
        if done is None:
            self.row_errors = {**self.row_errors, request_id: err}
            return False
        self.row_errors = {k: v for k, v in self.row_errors.items() if k != request_id}
        self.notice = t("approved_ok" if approve else "rejected_ok", self.lang)
        await self.load()
        return True

    async def reload(self) -> None:
        await self.load()
