"""The work summary (phone) and the appraisal ranking (desk): stepping to another month while
a fetch is under way shows the month asked for last, whichever answer arrives first."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime
from typing import Any

from mobile.state import common
from mobile.state.my_summary import MySummaryState

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # 11:00 on 1 December in the county


class SlowCurrentMonth:
    """The server answers last month at once and this month only when released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.asked: list[str | None] = []

    def my_scorecard(self, month: str | None = None) -> tuple[dict[str, Any], bool]:
        self.asked.append(month)
        if month is None:
            self.release.wait(5)
            return {"period": "2026-12", "handled": 0}, False
        return {"period": month, "handled": 2}, False


def test_a_late_answer_for_the_month_left_does_not_replace_the_month_shown(
        monkeypatch: Any) -> None:
    monkeypatch.setattr(common, "THREADS", True)
    backend = SlowCurrentMonth()
    state = MySummaryState(backend, lang="en", clock=lambda: NOW)  # type: ignore[arg-type]
    assert state.month == "2026-12"

    async def scenario() -> None:
        first = asyncio.create_task(state.load())  # this month: slow
        await asyncio.sleep(0.05)
        await state.previous()  # last month: answered at once
        assert (state.month, state.card) == ("2026-11", {"period": "2026-11", "handled": 2})
        assert not state.loading
        backend.release.set()
        await first  # this month's answer arrives now, for a month no longer shown

    asyncio.run(scenario())
    assert backend.asked == [None, "2026-11"]
    assert state.card == {"period": "2026-11", "handled": 2}
    assert (state.month, state.error, state.loading) == ("2026-11", "", False)


class SlowRanking:
    """The desk's server: this month's ranking only when released, others at once."""

    lang = "en"

    def __init__(self) -> None:
        self.release = threading.Event()

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        if params.get("month") == "2026-12":
            self.release.wait(5)
        return {"rows": [{"rank": 1, "card": {"subject": f"ranked {params['month']}"}}]}


def test_the_desk_ranking_shows_the_month_asked_for_last() -> None:
    from mobile.office.context import OfficeContext
    from mobile.office.state.appraisal import AppraisalState
    from mobile.office.state.shell import OfficeShellState

    client = SlowRanking()
    octx = OfficeContext(client=client, shell=OfficeShellState(role="manager"))  # type: ignore[arg-type]
    state = AppraisalState(octx, clock=lambda: NOW)

    async def scenario() -> None:
        first = asyncio.create_task(state.load())  # this month: slow
        await asyncio.sleep(0.05)
        await state.set_month("2026-11")
        client.release.set()
        await first

    asyncio.run(scenario())
    assert state.month == "2026-11"
    assert [r["card"]["subject"] for r in state.rows] == ["ranked 2026-11"]
