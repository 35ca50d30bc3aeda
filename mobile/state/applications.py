"""Business applications on the phone: the customer's list, the application form (with
document photos), an application's progress (every step with its date and holder), and
the technician's installation form. Plain observable state; the views are functions of
it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import flet as ft

from mobile.i18n import fmt_time, t, translate
from mobile.services.backend import Backend
from mobile.state.common import off_loop, parse_dt
from mobile.state.job_detail import GpsFix
from shared.applications.kinds import ApplicationKind, spec_of
from shared.applications.notices import DOC_LABELS, KIND_LABELS, STATUS_LABELS, STEP_LABELS, pick
from shared.applications.rules import check_submission
from shared.enums import Role
from shared.errors import DomainError, FieldErrors
from shared.messages import ROLE_LABELS
from shared.money import fen_to_yuan
from shared.timeutil import utcnow
from sync.client.applications import AppView

#: What a customer may apply for from the phone, in the order offered.
KINDS = tuple(ApplicationKind)


def kind_label(kind: str, lang: str) -> str:
    return pick(KIND_LABELS, kind, lang)


def doc_label(doc: str, lang: str) -> str:
    return pick(DOC_LABELS, doc, lang)


@dataclass(frozen=True)
class AppCard:
    id: str
    title: str
    status: str
    status_key: str
    step: str
    holder: str
    due: str
    overdue: bool
    pending: bool
    rejected: str


@dataclass(frozen=True)
class StepLine:
    step: str
    state: str  # done | active | returned | rejected | cancelled
    holder: str
    started: str
    due: str
    ended: str
    note: str


def _holder(entry: dict[str, Any], lang: str) -> str:
    if entry.get("ended_by_name") and entry.get("ended_at"):
        return str(entry["ended_by_name"])
    if entry.get("holder_name"):
        return str(entry["holder_name"])
    roles = entry.get("holder_roles") or []
    return " / ".join(pick({r: ROLE_LABELS[Role(r)] for r in roles}, r, lang)
                      for r in roles[:2]) or "—"


def card_of(view: AppView, lang: str, now: datetime) -> AppCard:
    row = view.row
    steps = row.get("steps") or []
    last = steps[-1] if steps else {}
    due = parse_dt(last.get("due_at"))
    active = row.get("status") == "open" and not last.get("ended_at")
    reason = "; ".join(m or c for c, m in view.rejected)
    return AppCard(
        id=view.id, title=f"{kind_label(row['kind'], lang)} · "
                          f"{row.get('code') or t('app_not_sent', lang)}",
        status=pick(STATUS_LABELS, row["status"], lang), status_key=row["status"],
        step=pick(STEP_LABELS, row["step"], lang), holder=_holder(last, lang),
        due=fmt_time(due, lang) if due and active else "",
        overdue=bool(active and due and due < now), pending=view.pending > 0 or view.local,
        rejected=reason)


@ft.observable
@dataclass
class AppsState:
    backend: Backend
    lang: str = "zh"
    clock: Callable[[], datetime] = utcnow
    cards: list[AppCard] = field(default_factory=list)

    def reload(self) -> None:
        now = self.clock()
        self.cards = [card_of(v, self.lang, now) for v in self.backend.my_applications()]


@ft.observable
@dataclass
class ApplyState:
    """The application form: autosaved in memory while the screen is open."""

    backend: Backend
    kind: str = ApplicationKind.NEW_RESIDENTIAL.value
    applicant_name: str = ""
    contact_phone: str = ""
    address: str = ""
    id_card_no: str = ""
    capacity_kw: str = ""
    station_id: str = ""
    account_id: str = ""
    note: str = ""
    documents: dict[str, str] = field(default_factory=dict)
    thumbs: dict[str, bytes] = field(default_factory=dict)
    location: GpsFix | None = None
    errors: dict[str, str] = field(default_factory=dict)
    created_id: str = ""
    on_change: Callable[[], Any] | None = None

    def stations(self) -> list[tuple[str, str]]:
        return [(s["id"], s.get("name") or s.get("code") or "")
                for s in sorted(self.backend.rows("station"), key=lambda r: r.get("code") or "")]

    def accounts(self) -> list[tuple[str, str]]:
        return [(a["id"], f"{a.get('account_no')} · {a.get('address') or ''}")
                for a in sorted(self.backend.rows("account"),
                                key=lambda r: r.get("account_no") or "")]

    def kinds(self) -> list[str]:
        """What this customer can apply for: changes need an account of theirs."""
        has_account = bool(self.accounts())
        return [k.value for k in KINDS if has_account or spec_of(k).new_account]

    def start(self) -> None:
        stations = self.stations()
        if stations and not self.station_id:
            self.station_id = stations[0][0]
        accounts = self.accounts()
        if accounts and not self.account_id:
            self.account_id = accounts[0][0]

    @property
    def spec(self) -> Any:
        return spec_of(self.kind)

    def required_docs(self) -> list[str]:
        return [d.value for d in self.spec.documents]

    def set_kind(self, kind: str) -> None:
        self.kind = ApplicationKind(kind).value
        self.documents = {d: s for d, s in self.documents.items() if d in self.required_docs()}
        self.errors = {}

    async def add_document(self, doc: str, data: bytes) -> str:
        sha = await off_loop(self.backend.store_photo, data)
        self.documents[doc] = sha
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb
        self.errors.pop(f"doc_{doc}", None)
        return sha

    def set_location(self, fix: GpsFix | None) -> None:
        self.location = fix

    def data(self) -> dict[str, Any]:
        capacity: Any = None
        if self.spec.capacity:
            text = self.capacity_kw.strip()
            capacity = int(text) if text.isdigit() else (text or None)
        return {"kind": self.kind, "applicant_name": self.applicant_name,
                "contact_phone": self.contact_phone.strip(), "address": self.address,
                "id_card_no": self.id_card_no, "capacity_kw": capacity,
                "station_id": self.station_id if self.spec.new_account else None,
                "account_id": None if self.spec.new_account else (self.account_id or None),
                "location": self.location.payload() if self.location else None,
                "documents": dict(self.documents), "note": self.note or None}

    def submit(self, lang: str) -> str | None:
        """Checked by the shared rules here (offline), then queued with its photos. A
        missing photo and the fields' problems are all shown at once."""
        missing = [d for d in self.required_docs() if d not in self.documents]
        errors = {f"doc_{d}": t("doc_missing", lang, doc=doc_label(d, lang)) for d in missing}
        data = self.data()
        try:
            if missing:  # check the fields too, as if the photos were there
                check_submission({**data, "documents": {
                    **self.documents, **dict.fromkeys(missing, "0" * 64)}})
            else:
                self.created_id = self.backend.apply(data)
        except FieldErrors as exc:
            errors.update({name: translate(err.code, lang, **err.details)
                           for name, err in exc.errors.items()})
        except DomainError as exc:
            errors["form"] = translate(exc.code, lang, **exc.details)
        self.errors = errors
        if errors:
            return None
        if self.on_change is not None:
            self.on_change()
        return self.created_id


@ft.observable
@dataclass
class AppDetailState:
    backend: Backend
    app_id: str
    view: AppView | None = None
    rating: int = 0
    redo: dict[str, str] = field(default_factory=dict)  # new document photos (returned)
    thumbs: dict[str, bytes] = field(default_factory=dict)
    error: str = ""

    def reload(self) -> None:
        self.view = self.backend.application(self.app_id)

    @property
    def row(self) -> dict[str, Any]:
        return self.view.row if self.view else {}

    def steps(self, lang: str) -> list[StepLine]:
        out = []
        for e in self.row.get("steps") or []:
            outcome = e.get("outcome")
            state = outcome if outcome and outcome != "done" else (
                "done" if e.get("ended_at") else "active")
            out.append(StepLine(
                step=pick(STEP_LABELS, e["step"], lang), state=state,
                holder=_holder(e, lang),
                started=fmt_time(parse_dt(e.get("started_at")), lang),
                due=fmt_time(parse_dt(e.get("due_at")), lang) if e.get("due_at") else "",
                ended=fmt_time(parse_dt(e.get("ended_at")), lang) if e.get("ended_at") else "",
                note=str(e.get("note") or "")))
        return out

    def new_account_text(self, lang: str) -> list[str]:
        row = self.row
        if row.get("status") != "completed" or not row.get("account_id"):
            return []
        account = self.backend.row("account", row["account_id"])
        lines = [t("app_new_account", lang, no=(account or {}).get("account_no")
                   or row.get("account_no") or "—")]
        if account is not None and spec_of(row["kind"]).new_account:
            lines.append(t("app_opening", lang, yuan=fen_to_yuan(int(
                account.get("balance_fen") or 0))))
        return lines

    async def add_redo(self, doc: str, data: bytes) -> None:
        sha = await off_loop(self.backend.store_photo, data)
        self.redo[doc] = sha
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb

    def send_again(self, lang: str) -> bool:
        try:
            self.backend.resubmit_application(self.app_id, dict(self.redo))
        except DomainError as exc:
            self.error = translate(exc.code, lang, **exc.details)
            return False
        self.redo, self.error = {}, ""
        self.reload()
        return True

    def rate(self, n: int, lang: str) -> bool:
        try:
            self.backend.rate_application(self.app_id, n)
        except DomainError as exc:
            self.error = translate(exc.code, lang, **exc.details)
            return False
        self.rating, self.error = n, ""
        self.reload()
        return True


@ft.observable
@dataclass
class InstallState:
    """The technician's installation of a new connection's meter (an offline op)."""

    backend: Backend
    order_id: str
    meter_no: str = ""
    start_kwh: str = "0"
    card_no: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def stock(self) -> list[str]:
        return sorted(m["meter_no"] for m in self.backend.rows("meter")
                      if m.get("status") == "in_stock")

    def submit(self, lang: str) -> bool:
        try:
            self.backend.install_meter(self.order_id, meter_no=self.meter_no,
                                       start_kwh=self.start_kwh, card_no=self.card_no)
        except FieldErrors as exc:
            self.errors = {n: translate(e.code, lang, **e.details) for n, e in exc.errors.items()}
            return False
        except DomainError as exc:
            self.errors = {"form": translate(exc.code, lang, **exc.details)}
            return False
        self.errors = {}
        return True
