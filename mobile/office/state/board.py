"""The dispatch board's state: the list shown (server-paged), its counts, the filters, the
selected rows, and the side panel of one job (its timeline, the suggested crew, the
actions).

Every change the user makes is sent through the API and the board reloads what it shows
at once (their own change is on screen before the next poll); changes by crews and other
dispatchers arrive through the change feed (``state.live``) and reload only the parts
they touch: the page and the counts, and the open job's panel when it is that job.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import flet as ft

from mobile.i18n import ago, countdown
from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.i18n import label, t
from mobile.office.state.live import Change
from mobile.state.common import Now, default_clock, parse_dt
from shared.workorders.stalls import reason_text

LISTS = ("unassigned", "dispatched", "in_progress", "overdue", "stalled",
         "awaiting_confirmation")
PAGE_SIZE = 25
PRIORITIES = ("urgent", "high", "normal", "low")


@dataclass(frozen=True)
class BoardLine:
    """One row of the board, ready to show."""

    id: str
    code: str
    kind: str
    priority: str
    priority_key: str
    status: str
    area: str
    address: str
    age: str
    sla: str
    overdue: bool
    assignee: str
    flags: str
    stalled: bool


def line(row: dict[str, Any], now: datetime, lang: str) -> BoardLine:
    deadline = parse_dt(row.get("next_deadline"))
    if deadline is None:
        sla, overdue = "", False
    else:
        sla, overdue = countdown(deadline, now, lang, key_ahead="arrive_in"
                                 if row.get("next_deadline_kind") == "arrival" else "due_in")
    flags = []
    if row.get("stall_reasons"):
        flags.append(t("stalled_because", lang, why=reason_text(row["stall_reasons"], lang)))
    if row.get("help_requested"):
        flags.append(t("help_requested", lang))
    assignee = (row.get("assignee") or {}).get("display_name") or ""
    return BoardLine(
        id=row["id"], code=row["code"], kind=label(row["kind"], lang),
        priority=label(row["priority"], lang), priority_key=row["priority"],
        status=label(row["status"], lang), area=row.get("area_name") or "",
        address=row.get("address") or "",
        age=ago(parse_dt(row["reported_at"]), now, lang), sla=sla, overdue=overdue,
        assignee=assignee, flags=" · ".join(flags), stalled=bool(row.get("stall_reasons")))


@ft.observable
@dataclass
class BoardState:
    octx: OfficeContext = field(compare=False, repr=False)
    list_name: str = "unassigned"
    station_id: str | None = None
    area_id: str | None = None
    kind: str | None = None
    priority: str | None = None
    q: str = ""
    offset: int = 0
    limit: int = PAGE_SIZE
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    loaded: bool = False
    error: str = ""
    selected: list[str] = field(default_factory=list)
    # -- the side panel
    open_id: str | None = None
    panel: dict[str, Any] | None = None
    suggestions: dict[str, Any] | None = None
    panel_error: str = ""
    mode: str = ""  # "", reassign, cancel: a form that needs a reason
    reason: str = ""
    busy: bool = False
    # -- several jobs at once
    bulk_results: list[dict[str, Any]] = field(default_factory=list)
    notice: str = ""
    clock: Now = field(default=default_clock, compare=False, repr=False)
    tick: int = 0  # bumped to redraw the countdowns
    #: the change feed's position when the rows shown were read (the server's ``seq``)
    seq: int | None = None
    _first: asyncio.Future[None] | None = field(default=None, compare=False, repr=False)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    # -- what the board shows ---------------------------------------------------------------
    def query(self) -> dict[str, Any]:
        return {"station_id": self.station_id, "area_id": self.area_id, "kind": self.kind,
                "priority": self.priority, "q": self.q.strip() or None}

    def lines(self) -> list[BoardLine]:
        now = self.clock()
        return [line(r, now, self.lang) for r in self.rows]

    def page_text(self) -> str:
        if not self.total:
            return t("no_rows", self.lang)
        return t("page_of", self.lang, a=self.offset + 1,
                 b=min(self.offset + len(self.rows), self.total), n=self.total)

    # -- loading --------------------------------------------------------------------------------
    async def load(self) -> None:
        """The page and the counts, for the current list and filters."""
        await self._show(*self._ask())

    def load_first(self) -> None:
        """Ask for the first page and counts now: the frame calls this while it is first
        drawn (the requests leave at once, the frame and the board's skeleton are drawn
        meanwhile); the board's screen then waits for it in ``first_load``."""
        self._first = asyncio.ensure_future(self._show(*self._ask()))

    async def first_load(self) -> None:
        """The load the frame started (``load_first``), or a new one."""
        if self._first is None:
            await self.load()
            return
        with contextlib.suppress(Exception):  # its own errors are on the board already
            await asyncio.shield(self._first)

    def _ask(self) -> tuple[asyncio.Future[dict[str, Any]], asyncio.Future[dict[str, Any]]]:
        """Both requests at once: two round trips in the time of one."""
        query = self.query()
        return (self.octx.send(self.octx.client.board, list=self.list_name, limit=self.limit,
                               offset=self.offset, **query),
                self.octx.send(self.octx.client.board_counts, **query))

    async def _show(self, paging: Awaitable[dict[str, Any]],
                    counting: Awaitable[dict[str, Any]]) -> None:
        """The rows as soon as their page comes; the counts fill in after them."""
        try:
            page = await self.octx.outcome(paging)
        except OfficeError as exc:
            self.error = exc.message
            await asyncio.gather(counting, return_exceptions=True)
            return
        if page["total"] and self.offset >= page["total"]:  # past the end: the last page
            await asyncio.gather(counting, return_exceptions=True)
            self.offset = max(0, (page["total"] - 1) // self.limit * self.limit)
            await self.load()
            return
        self.error = ""
        self.rows = page["items"]
        self.total = page["total"]
        visible = {r["id"] for r in self.rows}
        self.selected = [i for i in self.selected if i in visible]
        self.loaded = True
        seqs = [page.get("seq")]
        try:
            counts = await self.octx.outcome(counting)
        except OfficeError as exc:
            self.error = exc.message
        else:
            self.counts = counts["counts"]
            seqs.append(counts.get("seq"))
        known = [s for s in seqs if s is not None]
        self.seq = min(known) if known else None

    async def on_changes(self, change: Change) -> None:
        shown = {r["id"] for r in self.rows}
        # a change anywhere may add a job to this list or move counts: page and counts
        # are one request each; the panel reloads only for its own job
        await self.load()
        if self.open_id and (change.everything or self.open_id in change.order_ids
                             or change.crews or change.touches(shown)):
            await self.reload_panel()

    async def set_list(self, name: str) -> None:
        if name not in LISTS:
            raise ValueError(name)
        self.list_name, self.offset, self.selected = name, 0, []
        await self.load()

    async def set_filter(self, **values: str | None) -> None:
        for key, value in values.items():
            if key not in ("station_id", "area_id", "kind", "priority", "q"):
                raise ValueError(key)
            setattr(self, key, value or ("" if key == "q" else None))
        self.offset = 0
        await self.load()

    async def next_page(self) -> None:
        if self.offset + self.limit < self.total:
            self.offset += self.limit
            await self.load()

    async def prev_page(self) -> None:
        if self.offset:
            self.offset = max(0, self.offset - self.limit)
            await self.load()

    # -- selection ------------------------------------------------------------------------------
    def toggle(self, order_id: str, on: bool | None = None) -> None:
        chosen = order_id in self.selected
        want = (not chosen) if on is None else on
        if want and not chosen:
            self.selected = [*self.selected, order_id]
        elif not want and chosen:
            self.selected = [i for i in self.selected if i != order_id]

    def select_all(self, on: bool) -> None:
        self.selected = [r["id"] for r in self.rows] if on else []

    # -- the side panel -------------------------------------------------------------------------
    async def open(self, order_id: str) -> None:
        self.open_id = order_id
        self.mode, self.reason, self.panel_error = "", "", ""
        self.panel, self.suggestions = None, None
        await self.reload_panel()

    def close_panel(self) -> None:
        self.open_id, self.panel, self.suggestions = None, None, None
        self.mode, self.reason, self.panel_error = "", "", ""

    async def reload_panel(self) -> None:
        if not self.open_id:
            return
        order_id = self.open_id
        try:
            panel = await self.octx.call(self.octx.client.job, order_id)
            sugg = None
            if panel["job"]["status"] in ("reported", "dispatched", "accepted", "en_route",
                                          "on_site"):
                sugg = await self.octx.call(self.octx.client.suggestions, order_id)
        except OfficeError as exc:
            if self.open_id == order_id:
                self.panel_error = exc.message
            return
        if self.open_id == order_id:
            self.panel, self.suggestions = panel, sugg

    def allowed(self, action: str) -> bool:
        return bool(self.panel and action in self.panel["job"].get("allowed_actions", ()))

    def start(self, mode: str) -> None:
        self.mode, self.reason, self.panel_error = mode, "", ""

    async def _act(self, fn: Any, *args: Any, done: str) -> bool:
        self.busy, self.panel_error = True, ""
        try:
            await self.octx.call(fn, *args)
        except OfficeError as exc:
            self.panel_error = exc.message
            return False
        finally:
            self.busy = False
        self.mode, self.reason = "", ""
        self.notice = done
        await self.load()
        await self.reload_panel()
        return True

    async def assign(self, user_id: str, name: str) -> bool:
        """Dispatch (a reported job) or reassign (with the reason typed in the panel)."""
        if not self.panel or not self.open_id:
            return False
        code = self.panel["job"]["code"]
        if self.allowed("dispatch"):
            return await self._act(self.octx.client.act, self.open_id, "dispatch",
                                   {"assignee_id": user_id},
                                   done=t("assigned_to", self.lang, code=code, name=name))
        if not self.reason.strip():
            self.mode = "reassign"
            self.panel_error = t("reason_needed", self.lang)
            return False
        return await self._act(self.octx.client.act, self.open_id, "reassign",
                               {"assignee_id": user_id, "reason": self.reason.strip()},
                               done=t("assigned_to", self.lang, code=code, name=name))

    async def cancel_job(self) -> bool:
        if not self.open_id or not self.panel:
            return False
        if not self.reason.strip():
            self.panel_error = t("reason_needed", self.lang)
            return False
        return await self._act(self.octx.client.act, self.open_id, "cancel",
                               {"reason": self.reason.strip()},
                               done=t("cancelled_job", self.lang,
                                      code=self.panel["job"]["code"]))

    async def set_priority(self, priority: str) -> bool:
        if not self.open_id or not self.panel or priority == self.panel["job"]["priority"]:
            return False
        return await self._act(self.octx.client.set_priority, self.open_id, priority,
                               done=t("priority_set", self.lang, code=self.panel["job"]["code"],
                                      p=label(priority, self.lang)))

    # -- several jobs at once -------------------------------------------------------------------
    async def bulk(self, action: str, **fields: Any) -> None:
        ids = list(self.selected)
        if not ids:
            return
        if action in ("cancel", "reassign") and not str(fields.get("reason") or "").strip():
            self.notice = t("reason_needed", self.lang)
            return
        self.busy = True
        try:
            got = await self.octx.call(self.octx.client.bulk, action, ids,
                                       **{k: v for k, v in fields.items() if v})
        except OfficeError as exc:
            self.notice = exc.message
            return
        finally:
            self.busy = False
        self.bulk_results = got["results"]
        self.notice = t("bulk_done", self.lang, done=got["done"], failed=got["failed"])
        self.selected = [r["order_id"] for r in got["results"] if not r["ok"]]
        await self.load()
        await self.reload_panel()

    def clear_results(self) -> None:
        self.bulk_results, self.notice = [], ""

    def failed_lines(self) -> list[str]:
        return [f"{r.get('code') or r['order_id'][:8]}: {r.get('message') or r.get('error_code')}"
                for r in self.bulk_results if not r["ok"]]
