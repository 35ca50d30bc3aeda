"""The meter-swap form: the same validations as the server, run offline, per field.

The rules are ``shared.meter_rules.swap_problems``; the context is built from what the
phone holds for the job: the job's meter number, that meter's last reading, and the
meter register downloaded for the technician (meters in stock at their station). A new
meter number typed by hand that is not in the register is allowed: the server checks it.

Every change is saved as a draft at once (``DraftStore``): a crash or a restart loses
nothing. The draft is deleted only after the swap's op is safely in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import flet as ft

from mobile.i18n import fmt_time, t, translate
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop, parse_dt
from shared.enums import MeterStatus
from shared.errors import DomainError, FieldErrors
from shared.meter_rules import SwapContext, SwapDraft, centi_to_kwh, swap_problems
from shared.money import yuan_to_fen
from shared.numbers import NumberError, parse_reading

FIELDS = ("old_meter_no", "old_final_kwh", "old_remaining", "new_meter_no", "new_start_kwh",
          "new_card_no", "seal_numbers")
#: Rule field -> form field (the rules speak fen, the form yuan).
_FIELD_OF = {"old_remaining_fen": "old_remaining"}


class DraftStore(Protocol):
    def load(self, key: str) -> dict[str, Any] | None: ...
    def save(self, key: str, data: dict[str, Any]) -> None: ...
    def delete(self, key: str) -> None: ...


@dataclass
class SwapValues:
    old_meter_no: str = ""
    old_final_kwh: str = ""
    old_remaining: str = ""
    new_meter_no: str = ""
    new_start_kwh: str = ""
    new_card_no: str = ""
    seal_numbers: str = ""
    old_face_photo: str = ""
    new_face_photo: str = ""


def _decimal(text: str) -> Decimal | None:
    """A reading as typed: full-width digits are fine (normalised as on the server), at
    most two decimals (``shared.numbers.parse_reading``)."""
    try:
        return parse_reading(text)
    except NumberError:
        return None


def meter_status_text(status: str, lang: str) -> str:
    """A register state in words ("in stock", not ``in_stock``)."""
    key = f"meter_{status}"
    text = t(key, lang)
    return status.replace("_", " ") if text == key else text


def seals_of(text: str) -> tuple[str, ...]:
    parts = text.replace("，", ",").replace(";", ",").replace(" ", ",").split(",")
    return tuple(p.strip() for p in parts if p.strip())


@ft.observable
@dataclass
class SwapFormState:
    backend: Backend
    drafts: DraftStore
    order_id: str
    values: SwapValues = field(default_factory=SwapValues)
    errors: dict[str, str] = field(default_factory=dict)
    show_errors: bool = False
    saved_at: str = ""  # when the draft was last saved (shown)
    submitted: bool = False
    thumbs: dict[str, bytes] = field(default_factory=dict)
    on_change: Callable[[], Any] | None = None
    clock: Now = default_clock
    stock_query: str = ""  # the search over the station's stock
    manual: bool = False  # the new meter's number typed (not found in the stock list)

    # -- the station's stock on the phone ------------------------------------------------
    def stock(self, limit: int = 8) -> list[str]:
        """Meter numbers in stock on this phone containing the search (any case)."""
        q = self.stock_query.strip().upper()
        found = sorted(str(m.get("meter_no")) for m in self.backend.rows("meter")
                       if m.get("status") == MeterStatus.IN_STOCK.value
                       and q in str(m.get("meter_no") or "").upper())
        return found[:limit]

    def search_stock(self, text: str) -> None:
        self.stock_query = text

    def pick_new_meter(self, meter_no: str, lang: str = "zh") -> None:
        self.manual = False
        self.stock_query = ""
        self.set("new_meter_no", meter_no, lang)

    def type_new_meter(self) -> None:
        self.manual = True

    # -- the job and the register ---------------------------------------------------------
    @property
    def draft_key(self) -> str:
        return f"swap-{self.order_id}"

    def job_row(self) -> dict[str, Any]:
        detail = self.backend.job(self.order_id)
        return detail.job.row if detail else {}

    def job_meter(self) -> dict[str, Any] | None:
        row = self.job_row()
        meter_id = row.get("meter_id")
        if meter_id:
            return self.backend.row("meter", meter_id)
        return self._meter_by_no(row.get("meter_no") or "")

    def _meter_by_no(self, meter_no: str) -> dict[str, Any] | None:
        meter_no = meter_no.strip()
        if not meter_no:
            return None
        for m in self.backend.rows("meter"):
            if m.get("meter_no") == meter_no:
                return m
        return None

    def register_count(self) -> int:
        return sum(1 for m in self.backend.rows("meter")
                   if m.get("status") == MeterStatus.IN_STOCK.value)

    def register_size(self, lang: str) -> str:
        n = self.register_count()
        return t("register_size_1" if n == 1 else "register_size", lang, n=n)

    def register_hint(self, lang: str) -> str:
        """What the register says about the new meter number typed so far."""
        no = self.values.new_meter_no.strip()
        if not no:
            return self.register_size(lang)
        m = self._meter_by_no(no)
        if m is None:
            return t("not_in_register", lang)
        return t("in_register", lang, status=meter_status_text(str(m.get("status")), lang))

    def last_reading_text(self, lang: str) -> str:
        m = self.job_meter()
        if not m or m.get("last_reading_centi") is None:
            return ""
        return t("last_reading", lang, kwh=centi_to_kwh(int(m["last_reading_centi"])),
                 time=fmt_time(parse_dt(m.get("last_reading_at")), lang))

    def context(self) -> SwapContext:
        row = self.job_row()
        meter = self.job_meter()
        new = self._meter_by_no(self.values.new_meter_no)
        last = meter.get("last_reading_centi") if meter else None
        return SwapContext(
            job_meter_no=row.get("meter_no") or (meter or {}).get("meter_no") or "",
            last_reading_kwh=centi_to_kwh(int(last)) if last is not None else None,
            last_reading_at=parse_dt(meter.get("last_reading_at")) if meter else None,
            new_meter_status=MeterStatus(new["status"]) if new else None,
            register_complete=new is not None, now=self.clock())

    # -- draft ----------------------------------------------------------------------------
    def load(self, lang: str) -> None:
        """Start from the saved draft, if any."""
        data = self.drafts.load(self.draft_key)
        if data:
            known = {k: str(v) for k, v in data.items() if k in SwapValues.__dataclass_fields__}
            self.values = SwapValues(**known)
            self.show_errors = bool(data.get("_show_errors"))
        for sha in (self.values.old_face_photo, self.values.new_face_photo):
            if sha and sha not in self.thumbs:
                thumb = self.backend.thumbnail(sha)
                if thumb:
                    self.thumbs[sha] = thumb
        if not self.values.old_meter_no:  # the old meter is the job's: filled in
            meter = self.job_meter()
            old = self.job_row().get("meter_no") or (meter or {}).get("meter_no")
            if old:
                self.values = SwapValues(**{**asdict(self.values), "old_meter_no": str(old)})
        if self.values.new_meter_no and self._meter_by_no(self.values.new_meter_no) is None:
            self.manual = True
        if self.show_errors:
            self.validate(lang)

    def _save(self) -> None:
        self.drafts.save(self.draft_key, {**asdict(self.values),
                                          "_show_errors": self.show_errors})
        self.saved_at = fmt_time(self.clock(), "en", with_date=False)

    def set(self, name: str, value: str, lang: str = "zh") -> None:
        if name not in FIELDS:
            raise ValueError(name)
        self.values = SwapValues(**{**asdict(self.values), name: value})
        self._save()
        if self.show_errors:
            self.validate(lang)

    async def set_photo(self, which: str, data: bytes, lang: str = "zh") -> str:
        if which not in ("old_face_photo", "new_face_photo"):
            raise ValueError(which)
        sha = await off_loop(self.backend.store_photo, data)
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb
        self.values = SwapValues(**{**asdict(self.values), which: sha})
        self._save()
        if self.show_errors:
            self.validate(lang)
        return sha

    # -- validation -----------------------------------------------------------------------
    def draft(self) -> tuple[SwapDraft | None, dict[str, str]]:
        """The typed values as a ``SwapDraft``; numbers that do not parse are field
        errors of their own (``not_a_number``)."""
        v = self.values
        bad: dict[str, str] = {}
        final = _decimal(v.old_final_kwh)
        start = _decimal(v.new_start_kwh)
        try:
            remaining = yuan_to_fen(v.old_remaining.strip()) if v.old_remaining.strip() else None
        except ValueError:
            remaining = None
        if final is None:
            bad["old_final_kwh"] = "not_a_number"
        if start is None:
            bad["new_start_kwh"] = "not_a_number"
        if remaining is None:
            bad["old_remaining"] = "not_a_number"
        draft = SwapDraft(
            old_meter_no=v.old_meter_no.strip(), old_final_kwh=final or Decimal(0),
            old_remaining_fen=remaining or 0, new_meter_no=v.new_meter_no.strip(),
            new_start_kwh=start or Decimal(0), new_card_no=v.new_card_no.strip(),
            seal_numbers=seals_of(v.seal_numbers),
            old_face_photo=v.old_face_photo or None, new_face_photo=v.new_face_photo or None,
            recorded_at=self.clock())
        return draft, bad

    def validate(self, lang: str) -> bool:
        draft, bad = self.draft()
        errors = {f: t(code, lang) for f, code in bad.items()}
        assert draft is not None
        for rule_field, err in swap_problems(draft, self.context()).items():
            name = _FIELD_OF.get(rule_field, rule_field)
            if name not in errors:
                errors[name] = translate(err.code, lang, **err.details)
        self.errors = errors
        return not errors

    def submit(self, lang: str) -> bool:
        """Check everything again and queue the swap; the draft goes only once the op is
        safely in the outbox."""
        self.show_errors = True
        if not self.validate(lang):
            self._save()
            return False
        draft, _ = self.draft()
        assert draft is not None
        draft = SwapDraft(**{**asdict(draft),
                             "old_final_kwh": draft.old_final_kwh.quantize(Decimal("0.01")),
                             "new_start_kwh": draft.new_start_kwh.quantize(Decimal("0.01"))})
        try:
            self.backend.record_swap(self.order_id, draft)
        except FieldErrors as exc:
            self.errors = {_FIELD_OF.get(f, f): translate(e.code, lang, **e.details)
                           for f, e in exc.errors.items()}
            self._save()
            return False
        except DomainError as exc:
            self.errors = {"form": translate(exc.code, lang, **exc.details)}
            self._save()
            return False
        self.drafts.delete(self.draft_key)
        self.submitted = True
        if self.on_change is not None:
            self.on_change()
        return True
