"""The desk's outage form checks a notice with the shared rule before sending it: local
times typed as text, the areas, the reason; tomorrow 09:00–17:00 is offered. Cancelling
asks for a reason in a dialog (checked here, then by the server). What the page says is
worded in the language of the moment, also after a switch (issue 15)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from mobile.office.client import OfficeError
from mobile.office.context import OfficeContext
from mobile.office.state.live import Change, ChangeFeed
from mobile.office.state.outages import OutagesState, parse_local
from mobile.office.state.shell import OfficeShellState
from shared.enums import Role

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in China
NOTICE = {"id": "o1", "areas": [{"id": "a1", "name": "城关一区"}], "reason": "switch work",
          "starts_at": "2026-11-28T01:00:00+00:00", "ends_at": "2026-11-28T09:00:00+00:00",
          "status": "published"}


class Client:
    """The office client as far as this page uses it: the language, and posts answered
    by ``answer`` (an exception is raised)."""

    def __init__(self, answer: Any = None) -> None:
        self.lang = "en"
        self.answer = answer
        self.posts: list[tuple[str, Any]] = []
        self.gets = 0

    def post(self, path: str, body: Any) -> Any:
        self.posts.append((path, body))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def get(self, path: str, **_: Any) -> Any:
        self.gets += 1
        return [NOTICE]

    def desk_settings(self) -> dict[str, Any]:
        return {"areas": [{"id": "a1", "name": "城关一区"}]}


def state(client: Client | None = None) -> OutagesState:
    octx = OfficeContext(client=client or Client(),  # type: ignore[arg-type]
                         shell=OfficeShellState(role=Role.DISPATCHER))
    return OutagesState(octx, clock=lambda: NOW)


def test_the_form_offers_tomorrow_and_checks_before_sending() -> None:
    s = state()
    s.defaults()
    assert (s.start_text, s.end_text) == ("2026-11-28 09:00", "2026-11-28 17:00")
    assert s.draft() is None and "choose the areas" in s.error_text  # no area yet
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
    assert s.draft() is None and "(ends_at)" in s.error_text
    s.end_text = "tomorrow"
    assert s.draft() is None and s.error_text == "Times look like 2026-12-02 09:00"
    assert parse_local("2026-11-28 9:05") is not None and parse_local("28/11") is None


def test_what_the_page_said_follows_a_language_switch() -> None:
    client = Client()
    s = state(client)
    s.defaults()
    s.draft()
    assert "choose the areas" in s.error_text
    client.lang = "zh"  # the user switched to Chinese
    assert "请选择台区" in s.error_text and "choose" not in s.error_text
    s.end_text = "x"
    s.draft()
    assert s.error_text.startswith("时间格式应为")
    client.lang = "en"
    assert s.error_text == "Times look like 2026-12-02 09:00"


def test_cancelling_asks_for_a_reason_and_sends_it() -> None:
    client = Client(answer={**NOTICE, "status": "cancelled"})
    s = state(client)
    asyncio.run(s.load())
    s.ask_cancel("o1")
    assert s.cancelled_notice == NOTICE
    asyncio.run(s.cancel())  # no reason: refused here, nothing sent
    assert client.posts == [] and s.cancelling == "o1"
    assert "Give the reason for cancelling (2–300 characters)" in s.cancel_error_text
    client.lang = "zh"
    assert "请填写取消停电的原因" in s.cancel_error_text
    s.edit_cancel_reason("Works moved")  # typing clears the refusal of the empty try
    assert s.cancel_error is None and s.cancel_error_text == ""
    s.keep()  # "Keep the notice": nothing sent, the dialog closes
    assert (s.cancelling, s.cancel_error, client.posts) == (None, None, [])

    s.ask_cancel("o1")
    s.cancel_reason = "  Works moved   to next week "
    asyncio.run(s.cancel())
    assert client.posts == [("/api/v1/outages/o1/cancel",
                             {"reason": "Works moved to next week"})]
    assert s.cancelling is None
    assert s.message_text == "已取消 城关一区 的停电通知，已告知客户取消原因"
    client.lang = "en"
    assert s.message_text == "Notice for 城关一区 cancelled; the customers are told why"


def test_the_servers_refusal_keeps_the_dialog_open_in_the_users_language() -> None:
    refusal = OfficeError("请填写取消停电的原因（2–300 个字），客户会在通知中看到。",
                          code="OUTAGE_CANCEL_REASON_INVALID", status=422,
                          details={"min": 2, "max": 300})
    client = Client(answer=refusal)
    s = state(client)
    asyncio.run(s.load())
    s.ask_cancel("o1")
    s.cancel_reason = "weather"
    asyncio.run(s.cancel())
    assert s.cancelling == "o1" and not s.busy
    assert s.cancel_error_text.startswith("Give the reason for cancelling")
    unknown = OfficeError("某个新错误", code="SOMETHING_NEW", status=422)
    client.answer = unknown
    asyncio.run(s.cancel())
    assert s.cancel_error_text == "某个新错误"  # a code this app does not know: as said


def test_the_live_feed_reaches_the_page_and_reloads_it_only_after_a_lost_connection(
        caplog: Any) -> None:
    """The page is tracked by the desk's live feed (it lists notices, not jobs): a job's
    change leaves it as it is, a reconnection reads the list again; neither is an error."""
    client = Client()
    s = state(client)
    s.octx.track(s)
    feed = ChangeFeed(s.octx)
    asyncio.run(feed.publish(Change(order_ids=frozenset({"wo1"}))))
    assert client.gets == 0 and not s.loaded
    asyncio.run(feed.publish(Change(everything=True)))
    assert client.gets == 1 and s.loaded and s.items == [NOTICE]
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text
