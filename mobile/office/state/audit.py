"""The audit viewer's state: the filters, one server page of entries, the CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import flet as ft

from mobile.office.context import OfficeContext
from mobile.office.i18n import t
from mobile.office.state.supervision_common import PAGE_SIZE, PagedState

FILTERS = ("person", "account", "job", "kind", "since", "until")
COUNT_SHOWN = 1000  # the server's count cap (server.supervision.audit_view.COUNT_CAP)


@ft.observable
@dataclass
class AuditState(PagedState):
    octx: OfficeContext = field(compare=False, repr=False)
    filters: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    loaded: bool = False
    error: str = ""
    notice: str = ""


    def page_text(self) -> str:
        """The server counts up to 1,001 matches: more than 1,000 is said as "1000+"."""
        if self.total > COUNT_SHOWN:
            return t("page_of", self.lang, a=self.offset + 1,
                     b=self.offset + len(self.rows), n=f"{COUNT_SHOWN}+")
        return super().page_text()

    def set(self, name: str, value: str) -> None:
        self.filters = {**self.filters, name: value}

    def query(self) -> dict[str, str] | None:
        """The filters to send (None, with ``error`` set, when a date is not a date)."""
        out = {k: v.strip() for k, v in self.filters.items() if v.strip()}
        for name in ("since", "until"):
            if name in out:
                try:
                    date.fromisoformat(out[name])
                except ValueError:
                    self.error = t("bad_date", self.lang)
                    return None
        return out

    async def search(self) -> None:
        self.offset = 0
        await self.load()

    async def load(self) -> None:
        query = self.query()
        if query is None:
            return
        page, err = await self.calls.run(self.calls.api.audit, limit=PAGE_SIZE,
                                         offset=self.offset, **query)
        self.error, self.loaded = err, True
        if page is not None:
            self.rows, self.total = page["items"], page["total"]


    async def export(self) -> bytes | None:
        query = self.query()
        if query is None:
            return None
        data, err = await self.calls.run(self.calls.api.audit_csv, **query)
        self.error = err
        if data is not None:
            self.notice = t("exported", self.lang, n=len(data))
        return data

    async def reload(self) -> None:
        await self.load()
