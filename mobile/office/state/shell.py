"""The office frame's state: the page shown, the connection banner, the staff inbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from shared.enums import Role


@ft.observable
@dataclass
class OfficeShellState:
    role: Role
    page: str = ""
    #: None: not known yet; False: the last call could not reach the server
    online: bool | None = None
    problem: str = ""
    #: bumped when the connection comes back: screens reload what they show
    reconnects: int = 0
    unread: int = 0
    inbox: list[dict[str, Any]] = field(default_factory=list)
    inbox_open: bool = False
    #: stations and areas for the filters, the map's tile server (``/dispatch/settings``)
    settings: dict[str, Any] = field(default_factory=dict)
    #: page-to-page hand-over (e.g. the hotline opens the new job on the board)
    focus_job: str | None = None

    def select(self, name: str) -> None:
        self.page = name

    def open_job(self, order_id: str) -> None:
        """Show a job on the board (with its side panel)."""
        self.focus_job = order_id
        self.page = "board"

    def take_focus(self) -> str | None:
        job, self.focus_job = self.focus_job, None
        return job

    def connection_lost(self, problem: str) -> None:
        if self.online is not False:
            self.online = False
        self.problem = problem

    def connection_ok(self) -> None:
        if self.online is False:
            self.reconnects += 1
        if self.online is not True:
            self.online = True
        self.problem = ""

    def set_inbox(self, notes: list[dict[str, Any]]) -> None:
        self.inbox = notes
        self.unread = sum(1 for n in notes if not n.get("read_at"))

    def toggle_inbox(self) -> None:
        self.inbox_open = not self.inbox_open
