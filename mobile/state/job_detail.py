"""One job: what it is, its timeline and photos, and the actions the user may take now.

The buttons are the actions the shared rules offer this user on the job as shown (server
row with the user's unsynced work laid over). Every action is decided on the phone by the
same rules the server runs (``shared.workorders.rules``), written locally with its op in
one transaction, and shown at once; a refusal is shown beside the input it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.i18n import countdown, fmt_time, label, stars, t, translate
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, off_loop, parse_dt
from shared.enums import Role, WorkOrderStatus
from shared.errors import DomainError
from shared.workorders.fields import GPS_MAX_ACCURACY_M, RATING_MAX, RATING_MIN, gps_quality
from sync.client.readmodel import JobDetail, PhotoItem, TimelineItem

#: Buttons in the order a field worker meets them.
BUTTON_ORDER = ("accept", "decline", "start_travel", "arrive", "record_swap", "resolve",
                "add_photo", "add_note", "request_help", "confirm", "reopen", "cancel")
#: Where a refusal of an action's field is shown: (action, field) -> the form's input.
#: Everything else (the job's state, what it lacks) is shown for the action as a whole.
FIELD_INPUTS = {
    ("add_note", "text"): "note", ("resolve", "resolution"): "resolution",
    ("resolve", "cause"): "cause", ("request_help", "reason"): "help_reason",
    ("decline", "reason"): "decline_reason", ("confirm", "rating"): "rating",
    ("confirm", "comment"): "rating_comment", ("cancel", "reason"): "cancel_reason",
    ("reopen", "reason"): "reopen_reason",
}


GPS_REASONS = ("denied", "timeout", "off", "other")


def gps_why(reason: str, lang: str) -> str:
    """Our words for why there is no fix (a reason key; anything else is "failed")."""
    return t(f"gps_{reason if reason in GPS_REASONS else 'other'}", lang)


@dataclass(frozen=True)
class GpsFix:
    lat: float
    lon: float
    accuracy_m: float

    @property
    def poor(self) -> bool:
        return gps_quality(self.accuracy_m) == "poor"

    def payload(self) -> dict[str, float]:
        return {"lat": round(self.lat, 6), "lon": round(self.lon, 6),
                "accuracy_m": round(min(self.accuracy_m, GPS_MAX_ACCURACY_M), 1)}


@ft.observable
@dataclass
class JobDetailState:
    backend: Backend
    order_id: str
    detail: JobDetail | None = None
    form: str | None = None  # the inline form open: note, resolve, help, decline, confirm…
    note: str = ""
    resolution: str = ""
    cause: str = ""
    help_reason: str = ""
    decline_reason: str = ""
    cancel_reason: str = ""
    reopen_reason: str = ""
    rating: int = 0
    rating_comment: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    gps_status: str = ""  # locating | fix | unavailable
    gps_fix: GpsFix | None = None
    gps_error: str = ""
    thumbs: dict[str, bytes] = field(default_factory=dict)
    full_photo: bytes | None = None  # the photo opened in full (on demand)
    photo_status: str = ""  # "" | loading | unavailable
    on_change: Callable[[], Any] | None = None  # after a local write: kick the sync
    clock: Now = default_clock

    # -- reading --------------------------------------------------------------------------
    def reload(self) -> None:
        self.detail = self.backend.job(self.order_id)
        if self.detail is not None:
            for p in self.detail.photos:
                if p.sha256 not in self.thumbs and p.local_path:
                    data = self.backend.thumbnail(p.sha256)
                    if data:
                        self.thumbs[p.sha256] = data

    def missing_thumbs(self) -> list[str]:
        """Photos of this job taken on other phones, not yet shown here."""
        return [p.sha256 for p in self.photos() if p.sha256 not in self.thumbs]

    async def load_remote_thumbs(self) -> int:
        """Download the thumbnails of other phones' photos (off the UI loop; kept on the
        device); returns how many arrived."""
        got = 0
        for sha in self.missing_thumbs():
            data = await off_loop(lambda s=sha: self.backend.remote_photo(s, thumb=True))
            if data:
                self.thumbs = {**self.thumbs, sha: data}
                got += 1
        return got

    async def open_photo(self, sha256: str) -> None:
        """The full photo, on demand (from this device, else the server)."""
        self.photo_status, self.full_photo = "loading", None
        data = await off_loop(self.backend.photo_bytes, sha256)
        self.full_photo = data
        self.photo_status = "" if data else "unavailable"

    def close_photo(self) -> None:
        self.full_photo, self.photo_status = None, ""

    @property
    def row(self) -> dict[str, Any]:
        return self.detail.job.row if self.detail else {}

    @property
    def status(self) -> WorkOrderStatus | None:
        return WorkOrderStatus(self.row["status"]) if self.detail else None

    def buttons(self) -> list[str]:
        if self.detail is None:
            return []
        allowed = set(self.detail.job.allowed_actions)
        return [a for a in BUTTON_ORDER if a in allowed]

    def deadline_text(self, lang: str) -> tuple[str, bool]:
        row = self.row
        if not row:
            return "", False
        from mobile.state.jobs import next_deadline

        deadline, key = next_deadline(row)
        if deadline is None or self.status not in (
                WorkOrderStatus.REPORTED, WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED,
                WorkOrderStatus.EN_ROUTE, WorkOrderStatus.ON_SITE):
            return "", False
        return countdown(deadline, self.clock(), lang, key_ahead=key)

    def map_url(self) -> str | None:
        lat, lon = self.row.get("lat"), self.row.get("lon")
        if lat is None or lon is None:
            return None
        name = (self.row.get("address") or "").replace(" ", "%20")
        return f"https://uri.amap.com/marker?position={lon},{lat}&name={name}&coordinate=wgs84"

    def timeline(self) -> list[TimelineItem]:
        return list(self.detail.timeline) if self.detail else []

    def photos(self, purposes: tuple[str, ...] | None = None) -> list[PhotoItem]:
        if self.detail is None:
            return []
        return [p for p in self.detail.photos if purposes is None or p.purpose in purposes]

    def swap_new_meter_no(self) -> str | None:
        """The new meter of the recorded swap (a pending one carries the number; the
        server's row names the meter by id)."""
        sw = self.detail.swap if self.detail else None
        if not sw:
            return None
        if sw.get("new_meter_no"):
            return str(sw["new_meter_no"])
        meter = self.backend.row("meter", sw["new_meter_id"]) if sw.get("new_meter_id") else None
        return str(meter["meter_no"]) if meter else None

    def expected_arrival(self, lang: str) -> str:
        """For the customer: the arrival time promised (or when the crew arrived)."""
        arrived = parse_dt(self.row.get("arrived_at"))
        if arrived is not None:
            return fmt_time(arrived, lang)
        arrive_by = parse_dt(self.row.get("arrive_by"))
        return fmt_time(arrive_by, lang) if arrive_by else "—"

    def who(self, item: TimelineItem, lang: str) -> str:
        """Who took a timeline step: me, the job's crew by name, or the role."""
        info = self.backend.session()
        if item.sync != "synced" or (info is not None and item.actor_id == info.user_id):
            return t("me", lang)
        if item.actor_id and item.actor_id == self.row.get("assignee_id") and self.row.get(
                "assignee_name"):
            return str(self.row["assignee_name"])
        event = self.backend.row("work_order_event", item.id) or {}
        role = event.get("actor_role")
        if item.action == "dispatch" or role in ("dispatcher", "manager", "admin"):
            return t("the_office", lang)
        return label(str(role), lang) if role else ""

    def expected_arrival_shown(self) -> bool:
        """Customers see the promised arrival only once a crew is assigned."""
        return bool(self.row.get("assignee_id") or self.row.get("assignee_name"))

    @staticmethod
    def describe_event(item: TimelineItem, lang: str, *, customer: bool = False) -> str:
        """The extra line of a timeline entry: a note, a GPS fix, what was done… (a crew's
        GPS position is not shown to customers)."""
        d = item.data or {}
        if item.action in ("add_note",) and d.get("text"):
            return str(d["text"])
        if item.action == "arrive":
            if customer:
                return ""
            gps = d.get("gps")
            if gps:
                return t("gps_fix", lang, lat=f"{gps['lat']:.5f}", lon=f"{gps['lon']:.5f}",
                         acc=f"{gps['accuracy_m']:.0f}")
            if "gps" in d:
                return t("manual_position", lang)
        if item.action == "resolve":
            return " · ".join(str(x) for x in (d.get("resolution"), d.get("cause")) if x)
        if item.action in ("request_help", "decline", "cancel", "reassign", "reopen"):
            return str(d.get("reason") or "")
        if item.action == "confirm" and d.get("rating"):
            given = stars(int(d["rating"]), lang)
            return " · ".join(x for x in (given, d.get("comment")) if x)
        if item.action == "report":
            return str(d.get("description") or "")
        if item.action == "dispatch" and d.get("assignee_name"):
            return str(d["assignee_name"])
        return ""

    # -- forms ----------------------------------------------------------------------------
    def open_form(self, action: str | None) -> None:
        self.errors = {}
        self.form = action

    def _done(self, lang: str) -> None:
        self.form = None
        self.errors = {}
        self.reload()
        if self.on_change is not None:
            self.on_change()

    def _act(self, action: str, payload: dict[str, Any], lang: str) -> bool:
        """Take the action on the phone. A refusal by the shared rules is shown beside
        the input it is about (or for the action as a whole), and nothing is queued."""
        try:
            self.backend.act(self.order_id, action, payload)
        except DomainError as exc:
            where = FIELD_INPUTS.get((action, str(exc.details.get("field"))), "action")
            self.errors = {**self.errors, where: translate(exc.code, lang, **exc.details)}
            self.reload()
            return False
        self._done(lang)
        return True

    # -- actions --------------------------------------------------------------------------
    def accept(self, lang: str) -> bool:
        return self._act("accept", {}, lang)

    def start_travel(self, lang: str) -> bool:
        return self._act("start_travel", {}, lang)

    def decline(self, lang: str) -> bool:
        ok = self._act("decline", {"reason": self.decline_reason}, lang)
        if ok:
            self.decline_reason = ""
        return ok

    def arrive(self, lang: str, *, manual: bool = False) -> bool:
        """Arrive with the GPS fix taken (kept even when poor: it is marked), or by hand."""
        gps = None if manual or self.gps_fix is None else self.gps_fix.payload()
        ok = self._act("arrive", {"gps": gps}, lang)
        self.gps_status = ""
        return ok

    def add_note(self, lang: str) -> bool:
        ok = self._act("add_note", {"text": self.note}, lang)
        if ok:
            self.note = ""
        return ok

    def request_help(self, lang: str) -> bool:
        ok = self._act("request_help", {"reason": self.help_reason}, lang)
        if ok:
            self.help_reason = ""
        return ok

    def resolve(self, lang: str) -> bool:
        ok = self._act("resolve", {"resolution": self.resolution, "cause": self.cause}, lang)
        if ok:
            self.resolution = self.cause = ""
        return ok

    def set_rating(self, stars: int) -> None:
        self.rating = max(RATING_MIN, min(RATING_MAX, int(stars)))
        self.errors = {k: v for k, v in self.errors.items() if k != "rating"}

    def confirm(self, lang: str) -> bool:
        """A customer must give 1-5 stars (skipping them says so, in words); office staff
        may confirm without."""
        if not self.rating and self.is_customer():
            self.errors = {**self.errors, "rating": t("rating_needed", lang)}
            return False
        ok = self._act("confirm", {"rating": self.rating or None,
                                   "comment": self.rating_comment}, lang)
        if ok:
            self.rating_comment = ""
        return ok

    def reopen(self, lang: str) -> bool:
        """"Still not fixed": the customer sends the job back, saying what is wrong."""
        ok = self._act("reopen", {"reason": self.reopen_reason}, lang)
        if ok:
            self.reopen_reason = ""
        return ok

    def is_customer(self) -> bool:
        info = self.backend.session()
        return info is not None and info.role == Role.CUSTOMER

    def cancel(self, lang: str) -> bool:
        ok = self._act("cancel", {"reason": self.cancel_reason}, lang)
        if ok:
            self.cancel_reason = ""
        return ok

    async def add_photo(self, data: bytes, lang: str, caption: str | None = None
                        ) -> str | None:
        """Downscale and keep the photo on the device (off the UI loop), attach it, and
        show its thumbnail at once; the bytes upload in the background."""
        try:
            sha = await off_loop(self.backend.add_photo, self.order_id, data, caption)
        except DomainError as exc:
            self.errors = {**self.errors, "action": translate(exc.code, lang, **exc.details)}
            return None
        except OSError as exc:  # not an image Pillow can read
            self.errors = {**self.errors, "action": str(exc)[:200]}
            return None
        thumb = self.backend.thumbnail(sha)
        if thumb:
            self.thumbs[sha] = thumb
        self._done(lang)
        return sha

    # -- GPS ------------------------------------------------------------------------------
    def gps_started(self) -> None:
        self.gps_status = "locating"
        self.gps_error = ""
        self.gps_fix = None

    def gps_result(self, fix: GpsFix | None, error: str = "") -> None:
        if fix is None:
            self.gps_status = "unavailable"
            self.gps_error = error or "?"
        else:
            self.gps_fix = fix
            self.gps_status = "fix"

    def gps_text(self, lang: str) -> str:
        if self.gps_status == "locating":
            return t("locating", lang)
        if self.gps_status == "unavailable":
            return t("gps_unavailable", lang, why=gps_why(self.gps_error, lang))
        if self.gps_fix is not None:
            f = self.gps_fix
            key = "gps_poor" if f.poor else "gps_fix"
            return t(key, lang, lat=f"{f.lat:.5f}", lon=f"{f.lon:.5f}", acc=f"{f.accuracy_m:.0f}")
        return ""

    # -- labels ---------------------------------------------------------------------------
    @staticmethod
    def action_label(action: str, lang: str) -> str:
        if action == "arrive":
            return t("arrive_gps", lang)
        if action == "record_swap":
            return t("swap_form", lang)
        if action == "add_photo":
            return t("add_photo", lang)
        if action == "add_note":
            return t("add_note", lang)
        if action == "confirm":
            return t("rate_service", lang)
        if action == "reopen":
            return t("still_not_fixed", lang)
        text = label(action, lang)
        return text[:1].upper() + text[1:]
