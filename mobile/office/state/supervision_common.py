"""What the supervision screens' states share: the client, paging, one way to call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from mobile.office.client import OfficeError
from mobile.office.client_supervision import SupervisionClient
from mobile.office.context import OfficeContext
from mobile.office.i18n import t

T = TypeVar("T")
PAGE_SIZE = 25


def page_text(lang: str, offset: int, shown: int, total: int) -> str:
    if not total:
        return t("no_rows", lang)
    return t("page_of", lang, a=offset + 1, b=min(offset + shown, total), n=total)


class PagedState:
    """What a supervision page's state shares (mixed into its observable dataclass, which
    holds ``octx``, ``offset``, ``rows`` and ``total``): the calls, the language, paging."""

    page_size = PAGE_SIZE
    octx: OfficeContext
    offset: int
    rows: list[Any]
    total: int

    def __post_init__(self) -> None:
        self.calls = Calls(self.octx)

    @property
    def lang(self) -> str:
        return self.calls.lang

    def page_text(self) -> str:
        return page_text(self.lang, self.offset, len(self.rows), self.total)

    async def reload(self) -> None:
        """Fetch the page at ``offset``: each page's state defines it (approvals, audit,
        customers, review); ``move`` calls it."""
        raise NotImplementedError

    async def move(self, step: int) -> None:
        """The page ``step`` pages on (or back), if there is one."""
        new = self.offset + step * self.page_size
        if 0 <= new < max(self.total, 1):
            self.offset = new
            await self.reload()


class Calls:
    """``await calls.run(fn, ...)``: the result, or None with ``error`` set to the server's
    message (the frame shows a lost connection itself)."""

    def __init__(self, octx: OfficeContext) -> None:
        self.octx = octx
        self.api = SupervisionClient(octx.client)

    @property
    def lang(self) -> str:
        return self.octx.client.lang

    async def run(self, fn: Callable[..., T], *args: Any, **kw: Any
                  ) -> tuple[T | None, str]:
        try:
            return await self.octx.call(fn, *args, **kw), ""
        except OfficeError as exc:
            return None, exc.message
