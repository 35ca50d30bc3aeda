"""The desk's outage form checks a notice with the shared rule before sending it: local
times typed as text, the areas, the reason; tomorrow 09:00–17:00 is offered."""

from __future__ import annotations

from datetime import UTC, datetime

from mobile.office.context import OfficeContext
from mobile.office.state.outages import OutagesState, parse_local
from mobile.office.state.shell import OfficeShellState
from shared.enums import Role

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in China


class Lang:
    lang = "en"


def state() -> OutagesState:
    octx = OfficeContext(client=Lang(), shell=OfficeShellState(role=Role.DISPATCHER))  # type: ignore[arg-type]
    return OutagesState(octx, clock=lambda: NOW)


def test_the_form_offers_tomorrow_and_checks_before_sending() -> None:
    s = state()
    s.defaults()
    assert (s.start_text, s.end_text) == ("2026-11-28 09:00", "2026-11-28 17:00")
    assert s.draft() is None and "choose the areas" in s.error  # no area yet
    s.toggle("a1")
    s.toggle("a2")
    s.toggle("a2")
    assert s.chosen == ["a1"]
    s.reason = "  switch   work "
    body = s.draft()
    assert body is not None
    assert body["area_ids"] == ["a1"] and body["reason"] == "switch work"
    assert body["starts_at"] == "2026-11-28T09:00:00+08:00"
    s.end_text = "2026-11-28 08:00"
    assert s.draft() is None and "(ends_at)" in s.error
    s.end_text = "tomorrow"
    assert s.draft() is None and s.error == "Times look like 2026-12-02 09:00"
    assert parse_local("2026-11-28 9:05") is not None and parse_local("28/11") is None
