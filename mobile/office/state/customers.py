"""The customer lookup's state: one search box (the server matches account no., meter no.,
phone, name, address, ID-card and property-certificate numbers), the results (server-
paged) and the picked account's whole view."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import flet as ft

from mobile.office.context import OfficeContext
from mobile.office.state.supervision_common import PagedState

PAGE = 20


@ft.observable
@dataclass
class CustomersState(PagedState):
    page_size = PAGE
    octx: OfficeContext = field(compare=False, repr=False)
    q: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    searched: bool = False
    error: str = ""
    view: dict[str, Any] | None = None
    view_error: str = ""


    async def search(self, q: str | None = None) -> None:
        if q is not None:
            self.q, self.offset = q, 0
        if not self.q.strip():
            return
        page, err = await self.calls.run(self.calls.api.search, self.q.strip(), PAGE,
                                         self.offset)
        self.error, self.searched = err, True
        if page is not None:
            self.rows, self.total, self.view = page["items"], page["total"], None
            if page["total"] == 1:
                await self.open(page["items"][0]["id"])


    async def open(self, account_id: str) -> None:
        view, err = await self.calls.run(self.calls.api.account_view, account_id)
        self.view_error = err
        if view is not None:
            self.view = view

    def close(self) -> None:
        self.view = None

    async def reload(self) -> None:
        await self.search()
