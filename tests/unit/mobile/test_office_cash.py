"""The counter's cash sheet (issue 15): the clerk enters what was COUNTED; the page says at
once whether it matches the records, needs a note when it does not (the shared rule the
server runs), sends the counted figures, and says so in the language of the moment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from mobile.office.context import OfficeContext
from mobile.office.state.cash import CashSheetState
from mobile.office.state.shell import OfficeShellState
from shared.enums import Role

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
DAY = {"agent_id": "ag1", "agent_name": "Li Na", "day": "2026-11-27", "count": 2,
       "total_fen": 7500, "receipts": [], "confirmed_by_name": None}


class Client:
    def __init__(self) -> None:
        self.lang = "en"
        self.posts: list[tuple[str, Any]] = []

    def get(self, path: str, **_: Any) -> Any:
        return [DAY]

    def post(self, path: str, body: Any) -> Any:
        self.posts.append((path, body))
        return {}


def sheet(client: Client) -> CashSheetState:
    octx = OfficeContext(client=client,  # type: ignore[arg-type]
                         shell=OfficeShellState(role=Role.MANAGER))
    s = CashSheetState(octx, clock=lambda: NOW)
    asyncio.run(s.load())
    return s


def test_a_count_that_matches_is_confirmed_with_the_counted_figures() -> None:
    client = Client()
    s = sheet(client)
    s.enter("ag1", receipts="2")
    assert s.tally("ag1") is None and not s.differs("ag1")  # cash not typed yet
    s.enter("ag1", cash="７５.00")  # typed with a Chinese input method
    assert not s.differs("ag1")
    asyncio.run(s.confirm("ag1"))
    assert client.posts == [("/api/v1/billing/cash-handovers", {
        "agent_id": "ag1", "day": "2026-11-27", "receipt_count": 2, "total_fen": 7500,
        "note": None})]
    assert s.message_text == "Hand-over of Li Na confirmed"
    client.lang = "zh"
    assert s.message_text == "已确认 Li Na 的交款"


def test_a_count_that_differs_needs_a_note_and_is_confirmed_with_a_discrepancy() -> None:
    client = Client()
    s = sheet(client)
    s.enter("ag1", receipts="2", cash="70")
    assert s.differs("ag1")
    asyncio.run(s.confirm("ag1"))  # no note: refused here, nothing sent
    assert client.posts == []
    assert ("(receipts recorded: 2, ¥75.00; counted: 2, ¥70.00; difference -¥5.00)"
            in s.row_error_text("ag1"))
    client.lang = "zh"
    assert "记录 2 笔 ¥75.00，清点 2 笔 ¥70.00，差额 -¥5.00" in s.row_error_text("ag1")
    s.enter("ag1", note="Customer paid ¥20, receipt says ¥25")
    assert s.row_error_text("ag1") == ""  # typing clears the old complaint
    asyncio.run(s.confirm("ag1"))
    assert client.posts[0][1]["total_fen"] == 7000
    assert client.posts[0][1]["note"] == "Customer paid ¥20, receipt says ¥25"
    assert s.message_text == "已按有差异确认 Li Na 的交款"
    client.lang = "en"
    assert s.message_text == "Hand-over of Li Na confirmed with a discrepancy"


def test_numbers_that_are_not_numbers_are_said_so() -> None:
    client = Client()
    s = sheet(client)
    s.enter("ag1", receipts="two", cash="75")
    asyncio.run(s.confirm("ag1"))
    assert client.posts == [] and "whole number" in s.row_error_text("ag1")
