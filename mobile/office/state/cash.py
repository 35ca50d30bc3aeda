"""The station counter's cash sheet: each agent's cash of a day (count, total, receipts as
recorded) and the hand-over: the counter enters what it COUNTED (receipts and cash); the
shared rule (``shared.billing.handover``) compares it with the records, as the server will.
Equal: confirm. Different: only with a note explaining it — confirmed "with a discrepancy".
Messages are kept as keys or error codes (``Said``) and worded in the current language."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import flet as ft

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.state.live import ReloadsOnReconnect
from mobile.office.state.said import Said, SaysThings, words
from mobile.state.common import Now, default_clock
from shared.billing.handover import Tally, clean_note, decide_handover
from shared.errors import DomainError
from shared.money import yuan_to_fen
from shared.numbers import NumberError, parse_count
from shared.timeutil import LOCAL_TZ


@dataclass(frozen=True)
class Counted:
    """What the counter typed for one agent's day."""

    receipts: str = ""
    cash: str = ""  # yuan
    note: str = ""


@ft.observable
@dataclass
class CashSheetState(ReloadsOnReconnect, SaysThings):
    octx: OfficeContext = field(compare=False, repr=False)
    day: date | None = None
    items: list[dict[str, Any]] = field(default_factory=list)
    error: Said | None = None
    message: Said | None = None
    loaded: bool = False
    counted: dict[str, Counted] = field(default_factory=dict)  # by agent id
    row_errors: dict[str, Said] = field(default_factory=dict)  # by agent id
    busy: bool = False
    clock: Now = field(default=default_clock, compare=False, repr=False)

    def row_error_text(self, agent_id: str) -> str:
        return words(self.row_errors.get(agent_id), self.lang)

    async def load(self) -> None:
        self.day = self.day or self.clock().astimezone(LOCAL_TZ).date()
        try:
            self.items = await self.octx.call(self.octx.client.get,
                                              "/api/v1/billing/cash-handovers",
                                              day=self.day.isoformat())
        except OfficeError as exc:
            self.error = Said.error(exc)
            return
        self.loaded, self.error = True, None

    async def step(self, days: int) -> None:
        assert self.day is not None
        self.day = self.day + timedelta(days=days)
        self.counted, self.row_errors, self.message = {}, {}, None
        await self.load()

    # -- the count ------------------------------------------------------------------------
    def entry(self, agent_id: str) -> Counted:
        return self.counted.get(agent_id, Counted())

    def enter(self, agent_id: str, **typed: str) -> None:
        """The counter typed into one of the agent's fields (receipts, cash, note)."""
        self.counted = {**self.counted, agent_id: replace(self.entry(agent_id), **typed)}
        if agent_id in self.row_errors:
            self.row_errors = {k: v for k, v in self.row_errors.items() if k != agent_id}

    def tally(self, agent_id: str) -> Tally | None:
        """What was counted, as numbers (None: not both typed as valid numbers yet)."""
        typed = self.entry(agent_id)
        try:
            receipts = parse_count(typed.receipts)
            fen = yuan_to_fen(typed.cash)
        except (NumberError, ValueError):
            return None
        return Tally(receipts, fen) if receipts >= 0 and fen >= 0 else None

    def differs(self, agent_id: str) -> bool:
        """The count typed so far differs from the records (a note will be needed)."""
        row = self._row(agent_id)
        counted = self.tally(agent_id)
        return counted is not None and counted != Tally(row["count"], row["total_fen"])

    def _row(self, agent_id: str) -> dict[str, Any]:
        return next(r for r in self.items if r["agent_id"] == agent_id)

    async def confirm(self, agent_id: str) -> None:
        """Confirm the hand-over with what was counted: decided here by the shared rule
        first (the server decides again); a refusal is shown on the agent's card."""
        row = self._row(agent_id)
        counted = self.tally(agent_id)
        if counted is None:
            self.row_errors = {**self.row_errors, agent_id: Said("handover_count_invalid")}
            return
        note = self.entry(agent_id).note
        try:
            decision = decide_handover(day=date.fromisoformat(str(row["day"])),
                                       recorded=Tally(row["count"], row["total_fen"]),
                                       counted=counted, note=note)
        except DomainError as exc:
            self.row_errors = {**self.row_errors, agent_id: Said.error(exc)}
            return
        self.busy = True
        try:
            await self.octx.call(self.octx.client.post, "/api/v1/billing/cash-handovers", {
                "agent_id": agent_id, "day": str(row["day"]),
                "receipt_count": counted.receipts, "total_fen": counted.total_fen,
                "note": clean_note(note)})
        except OfficeError as exc:
            self.row_errors = {**self.row_errors, agent_id: Said.error(exc)}
            return
        finally:
            self.busy = False
        self.message = Said("handover_done_discrepancy" if decision.discrepancy
                            else "handover_done", {"name": row["agent_name"]})
        self.counted = {k: v for k, v in self.counted.items() if k != agent_id}
        await self.load()
