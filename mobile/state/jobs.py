"""My jobs: the field worker's list, most urgent first, with filters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import flet as ft

from mobile.i18n import countdown, fmt_time, label, t
from mobile.services.backend import Backend
from mobile.state.common import Now, default_clock, parse_dt
from shared.enums import OPEN_STATUSES, PRIORITY_RANK, Priority, WorkOrderStatus
from shared.timeutil import LOCAL_TZ
from shared.workorders import deadlines
from sync.client.readmodel import JobView, Mark

FILTERS = ("open", "today", "done")
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class JobCard:
    """One line of the list, ready to show."""

    id: str
    title: str  # kind · code
    code: str
    kind: str
    status: str
    address: str
    deadline_text: str
    overdue: bool
    priority: str
    sync_mark: str  # synced | pending | conflict | held | rejected
    sync_text: str
    help_requested: bool


def sync_text(mark: Mark, unsynced: int, lang: str) -> str:
    if mark == Mark.SYNCED:
        return t("sync_synced", lang)
    if mark in (Mark.REJECTED, Mark.CONFLICT, Mark.HELD):
        return t("sync_rejected", lang) if mark != Mark.HELD else t("state_held", lang)
    return f"{t('sync_pending', lang)} ({unsynced})"


def next_deadline(row: dict) -> tuple[datetime | None, str]:
    """The deadline that matters now: arrival until on site, then completion (with the
    key of its countdown text)."""
    when, which = deadlines.next_deadline(status=WorkOrderStatus(row["status"]),
                                          arrive_by=parse_dt(row.get("arrive_by")),
                                          complete_by=parse_dt(row.get("complete_by")))
    return when, "arrive_in" if which == "arrival" else "due_in"


def done_at(row: dict) -> datetime | None:
    return (parse_dt(row.get("closed_at")) or parse_dt(row.get("confirmed_at"))
            or parse_dt(row.get("resolved_at")) or parse_dt(row.get("cancelled_at"))
            or parse_dt(row.get("last_activity_at")))


def list_order(views: list[JobView], now: datetime) -> list[JobView]:
    """Open jobs first, urgent before the rest (then the read model's urgency: the
    nearest deadline); then done jobs, the most recent first."""
    open_ = [v for v in views if v.status in OPEN_STATUSES]
    done = [v for v in views if v.status not in OPEN_STATUSES]
    open_.sort(key=lambda v: PRIORITY_RANK.get(Priority(v.row.get("priority") or "normal"),
                                               2))  # stable: keeps the deadline order
    done.sort(key=lambda v: done_at(v.row) or _EARLIEST, reverse=True)
    return open_ + done


def make_card(view: JobView, lang: str, now: datetime) -> JobCard:
    row = view.row
    status = WorkOrderStatus(row["status"])
    deadline, key = next_deadline(row)
    if status not in OPEN_STATUSES:  # the status is on the card already: say when
        text = fmt_time(done_at(row), lang) if done_at(row) else ""
        overdue = bool(view.flags and view.flags.overdue)
    elif deadline is None:
        text, overdue = "", False
    else:
        text, overdue = countdown(deadline, now, lang, key_ahead=key)
    code = row.get("code") or "…"
    return JobCard(
        id=view.id, title=f"{label(row['kind'], lang)} · {code}", code=code,
        kind=row["kind"],
        status=label(status, lang), address=row.get("address") or "",
        deadline_text=text, overdue=overdue,
        priority=label(row.get("priority") or "normal", lang),
        sync_mark=view.sync.mark.value, sync_text=sync_text(view.sync.mark,
                                                            view.sync.unsynced, lang),
        help_requested=bool(row.get("help_requested")))


@ft.observable
@dataclass
class JobsState:
    backend: Backend
    filter: str = "open"
    kind: str | None = None  # None: every kind
    items: list[JobView] = field(default_factory=list)
    loaded: bool = False
    clock: Now = default_clock

    def reload(self) -> None:
        self.items = self.backend.my_jobs(include_done=True)
        self.loaded = True

    def set_filter(self, name: str) -> None:
        if name not in FILTERS:
            raise ValueError(name)
        self.filter = name

    def set_kind(self, kind: str | None) -> None:
        self.kind = kind or None

    def kinds(self) -> list[str]:
        """Kinds present in the list (for the kind filter), in first-seen order."""
        seen: list[str] = []
        for v in self.items:
            if v.row["kind"] not in seen:
                seen.append(v.row["kind"])
        return seen

    def _is_today(self, view: JobView, now: datetime) -> bool:
        today = now.astimezone(LOCAL_TZ).date()
        row = view.row
        status = WorkOrderStatus(row["status"])
        if status in OPEN_STATUSES:
            deadline, _ = next_deadline(row)
            due = parse_dt(row.get("complete_by"))
            return bool((deadline and deadline.astimezone(LOCAL_TZ).date() <= today)
                        or (due and due.astimezone(LOCAL_TZ).date() <= today))
        done = parse_dt(row.get("resolved_at")) or parse_dt(row.get("last_activity_at"))
        return bool(done and done.astimezone(LOCAL_TZ).date() == today)

    def visible(self) -> list[JobView]:
        now = self.clock()
        out = []
        for v in self.items:
            is_open = v.status in OPEN_STATUSES
            if self.filter == "open" and not is_open:
                continue
            if self.filter == "done" and is_open:
                continue
            if self.filter == "today" and not self._is_today(v, now):
                continue
            if self.kind and v.row["kind"] != self.kind:
                continue
            out.append(v)
        return list_order(out, now)

    def cards(self, lang: str) -> list[JobCard]:
        now = self.clock()
        return [make_card(v, lang, now) for v in self.visible()]

    def count(self, name: str) -> int:
        saved = self.filter
        object.__setattr__(self, "filter", name)  # no notification for a count
        try:
            return len(self.visible())
        finally:
            object.__setattr__(self, "filter", saved)
