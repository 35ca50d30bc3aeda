"""An inspection job's finding form: what the crew found on site, checked offline by the
same rules the server runs (``shared.monitoring.findings``), per field.

The outcome (meter OK, meter fault, tampering found, wiring or mapping error, nothing
found), the register reading and the load measured with a clamp meter, photos (kept on
the phone and uploaded by the photo queue; the op carries their hashes), a note, and —
for a mapping error — the area the customer is really fed from (one of the station's
areas the phone holds). Every change is saved as a draft at once; the draft goes only
once the finding's op is safely in the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import fmt_time, t, translate
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop
from mobile.state.swap_form import DraftStore
from shared.errors import DomainError, ErrorCode
from shared.monitoring.findings import MAX_PHOTOS, NOTE_REQUIRED, FindingOutcome, validate_finding

OUTCOMES = tuple(o.value for o in FindingOutcome)
TEXT_FIELDS = ("register_kwh", "measured_load_kw", "note")
#: Where a refusal is shown: the rule's field -> the form's input ("form": above the button).
_FIELD_OF = {"outcome": "outcome", "register_kwh": "register_kwh",
             "measured_load_kw": "measured_load_kw", "photos": "photos", "note": "note",
             "correct_area_id": "correct_area_id"}
_CODE_FIELD = {ErrorCode.FINDING_NOTE_REQUIRED: "note",
               ErrorCode.FINDING_PHOTO_REQUIRED: "photos",
               ErrorCode.FINDING_AREA_INVALID: "correct_area_id"}


@dataclass
class FindingValues:
    outcome: str = ""
    register_kwh: str = ""
    measured_load_kw: str = ""
    note: str = ""
    correct_area_id: str = ""
    photos: list[str] = field(default_factory=list)


def outcome_label(outcome: str, lang: str) -> str:
    return t(f"outcome_{outcome}", lang)


@ft.observable
@dataclass
class InspectionFormState:
    backend: Backend
    drafts: DraftStore
    order_id: str
    values: FindingValues = field(default_factory=FindingValues)
    errors: dict[str, str] = field(default_factory=dict)
    show_errors: bool = False
    saved_at: str = ""
    submitted: bool = False
    thumbs: dict[str, bytes] = field(default_factory=dict)
    on_change: Callable[[], Any] | None = None
    clock: Now = default_clock

    @property
    def draft_key(self) -> str:
        return f"finding-{self.order_id}"

    # -- what the phone holds about the job --------------------------------------------
    def job_row(self) -> dict[str, Any]:
        detail = self.backend.job(self.order_id)
        return detail.job.row if detail else {}

    def areas(self) -> list[tuple[str, str]]:
        """(id, "code · name") of the areas the customer may really be on: the job's
        station's, but the one the register names."""
        row = self.job_row()
        account = self.backend.row("account", row["account_id"]) if row.get(
            "account_id") else None
        station = (account or row).get("station_id")
        current = (account or {}).get("area_id") or row.get("area_id")
        out = [(a["id"], f"{a.get('code') or ''} · {a.get('name') or ''}")
               for a in self.backend.rows("transformer_area")
               if a.get("station_id") == station and a["id"] != current]
        return sorted(out, key=lambda x: x[1])

    # -- draft ---------------------------------------------------------------------------
    def load(self, lang: str) -> None:
        data = self.drafts.load(self.draft_key)
        if data:
            self.values = FindingValues(
                outcome=str(data.get("outcome") or ""),
                register_kwh=str(data.get("register_kwh") or ""),
                measured_load_kw=str(data.get("measured_load_kw") or ""),
                note=str(data.get("note") or ""),
                correct_area_id=str(data.get("correct_area_id") or ""),
                photos=[str(p) for p in data.get("photos") or []])
            self.show_errors = bool(data.get("_show_errors"))
        for sha in self.values.photos:
            if sha not in self.thumbs:
                thumb = self.backend.thumbnail(sha)
                if thumb:
                    self.thumbs[sha] = thumb
        if self.show_errors:
            self.validate(lang)

    def _save(self) -> None:
        self.drafts.save(self.draft_key, {**asdict(self.values),
                                          "_show_errors": self.show_errors})
        self.saved_at = fmt_time(self.clock(), "en", with_date=False)

    def _changed(self, lang: str, **changes: Any) -> None:
        self.values = FindingValues(**{**asdict(self.values), **changes})
        self._save()
        if self.show_errors:
            self.validate(lang)

    def set(self, name: str, value: str, lang: str = "zh") -> None:
        if name not in TEXT_FIELDS:
            raise ValueError(name)
        self._changed(lang, **{name: value})

    def set_outcome(self, outcome: str, lang: str = "zh") -> None:
        if outcome not in OUTCOMES:
            raise ValueError(outcome)
        area = self.values.correct_area_id if outcome == "wiring_or_mapping" else ""
        self._changed(lang, outcome=outcome, correct_area_id=area)

    def set_area(self, area_id: str, lang: str = "zh") -> None:
        self._changed(lang, correct_area_id=area_id)

    async def add_photo(self, data: bytes, lang: str = "zh") -> str:
        sha = await off_loop(self.backend.store_photo, data)
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb
        if sha not in self.values.photos:
            self._changed(lang, photos=[*self.values.photos, sha][:MAX_PHOTOS])
        return sha

    def remove_photo(self, sha: str, lang: str = "zh") -> None:
        self._changed(lang, photos=[p for p in self.values.photos if p != sha])

    # -- hints ---------------------------------------------------------------------------
    def note_required(self) -> bool:
        return self.values.outcome in {o.value for o in NOTE_REQUIRED}

    def photo_required(self) -> bool:
        return self.values.outcome == FindingOutcome.TAMPERING.value

    # -- validation ----------------------------------------------------------------------
    def payload(self) -> dict[str, Any]:
        v = self.values
        return {"outcome": v.outcome, "register_kwh": v.register_kwh.strip() or None,
                "measured_load_kw": v.measured_load_kw.strip() or None,
                "photos": list(v.photos), "note": v.note,
                "correct_area_id": v.correct_area_id or None}

    def _error(self, exc: DomainError, lang: str) -> dict[str, str]:
        name = _CODE_FIELD.get(exc.code)
        if name is None and exc.code == ErrorCode.FINDING_FIELD_INVALID:
            name = _FIELD_OF.get(str(exc.details.get("field")))
        if name is None and not self.values.outcome:
            return {"outcome": t("choose_outcome", lang)}
        return {name or "form": translate(exc.code, lang, **exc.details)}

    def validate(self, lang: str) -> bool:
        """The shared check of the finding (the first problem, shown at its input)."""
        if not self.values.outcome:
            self.errors = {"outcome": t("choose_outcome", lang)}
            return False
        try:
            validate_finding(self.payload())
        except DomainError as exc:
            self.errors = self._error(exc, lang)
            return False
        self.errors = {}
        return True

    def submit(self, lang: str) -> bool:
        """Check again and queue the finding (the job shows resolved at once); the draft
        is deleted only once the op is in the outbox."""
        self.show_errors = True
        if not self.validate(lang):
            self._save()
            return False
        try:
            self.backend.record_finding(self.order_id, self.payload())
        except DomainError as exc:
            self.errors = self._error(exc, lang)
            self._save()
            return False
        self.drafts.delete(self.draft_key)
        self.submitted = True
        if self.on_change is not None:
            self.on_change()
        return True
