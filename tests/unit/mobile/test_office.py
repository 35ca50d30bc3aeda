"""The office screens' state without a browser: the board (paging, selection, the side
panel's actions, several jobs at once, reloading on the change feed), the change feed
itself, the hotline form, the roster's lines and the connection banner."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mobile.office.client import OfficeError, Offline
from mobile.office.context import OfficeContext
from mobile.office.state.board import BoardState, line
from mobile.office.state.hotline import HotlineState
from mobile.office.state.live import Change, ChangeFeed
from mobile.office.state.roster import crew_line
from mobile.office.state.shell import OfficeShellState
from shared.enums import Role

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def row(i: int, **kw: Any) -> dict[str, Any]:
    base = {"id": f"j{i}", "code": f"WO{i:011d}", "kind": "fault_repair", "priority": "normal",
            "status": "reported", "area_name": "Town", "address": f"{i} Road",
            "reported_at": (NOW - timedelta(minutes=30)).isoformat(),
            "next_deadline": (NOW + timedelta(minutes=15)).isoformat(),
            "next_deadline_kind": "arrival", "stall_reasons": [], "help_requested": False,
            "assignee": None}
    return {**base, **kw}


class FakeClient:
    lang = "en"

    def __init__(self) -> None:
        self.rows = [row(i) for i in range(30)]
        self.calls: list[tuple[Any, ...]] = []
        self.offline = False
        self.refuse: OfficeError | None = None
        self.feed: list[dict[str, Any]] = []

    def _check(self) -> None:
        if self.offline:
            raise Offline("connect failed", code="SYNC_OFFLINE")

    def board(self, **q: Any) -> dict[str, Any]:
        self._check()
        self.calls.append(("board", q["list"], q["offset"]))
        rows = [r for r in self.rows if not q.get("q") or q["q"] in r["code"]]
        return {"items": rows[q["offset"]:q["offset"] + q["limit"]], "total": len(rows)}

    def board_counts(self, **q: Any) -> dict[str, Any]:
        self._check()
        return {"counts": {"unassigned": len(self.rows)}}

    def job(self, order_id: str) -> dict[str, Any]:
        self._check()
        self.calls.append(("job", order_id))
        return {"job": {"id": order_id, "code": "WO1", "status": "reported", "priority": "normal",
                        "allowed_actions": ["dispatch", "cancel"], "timeline": []}}

    def suggestions(self, order_id: str) -> dict[str, Any]:
        return {"rule": "r", "suggested": None, "candidates": []}

    def act(self, order_id: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
        self._check()
        if self.refuse:
            raise self.refuse
        self.calls.append(("act", order_id, action, body))
        return {}

    def bulk(self, action: str, ids: list[str], **fields: Any) -> dict[str, Any]:
        self.calls.append(("bulk", action, ids, fields))
        return {"results": [{"order_id": i, "code": "WO", "ok": i != ids[-1],
                             "error_code": None if i != ids[-1] else "WO_TRANSITION_NOT_ALLOWED",
                             "message": None if i != ids[-1] else "not now"} for i in ids],
                "done": len(ids) - 1, "failed": 1}

    def changes(self, since: int, wait: float) -> dict[str, Any]:
        self._check()
        return self.feed.pop(0) if self.feed else {"seq": since, "order_ids": []}


def octx(role: Role = Role.DISPATCHER) -> tuple[OfficeContext, FakeClient]:
    client = FakeClient()
    return OfficeContext(client=client, shell=OfficeShellState(role=role)), client  # type: ignore[arg-type]


def test_the_board_pages_on_the_server_and_keeps_the_selection_on_the_page() -> None:
    ctx, _client = octx()
    board = BoardState(ctx, clock=lambda: NOW)
    asyncio.run(board.load())
    assert (len(board.rows), board.total, board.counts) == (25, 30, {"unassigned": 30})
    assert board.page_text() == "1–25 of 30"
    board.toggle("j1")
    board.toggle("j2")
    board.toggle("j1")
    assert board.selected == ["j2"]
    asyncio.run(board.next_page())
    assert board.offset == 25 and len(board.rows) == 5 and board.selected == []
    asyncio.run(board.next_page())  # no page after the last
    assert board.offset == 25
    board.select_all(True)
    assert board.selected == [f"j{i}" for i in range(25, 30)]
    asyncio.run(board.set_filter(q="00000000003"))
    assert board.offset == 0 and board.total == 1


def test_a_board_line_says_what_a_dispatcher_needs() -> None:
    ln = line(row(1, stall_reasons=["not_accepted"], help_requested=True,
                  assignee={"display_name": "Crew1"}, priority="urgent"), NOW, "en")
    assert ln.sla == "arrive in 15 min" and not ln.overdue
    assert ln.age == "30 min ago" and ln.assignee == "Crew1" and ln.priority == "Urgent"
    assert ln.flags == "Stalled: not accepted after dispatch · Help requested" and ln.stalled
    late = line(row(2, next_deadline=(NOW - timedelta(minutes=5)).isoformat()), NOW, "zh")
    assert late.overdue and late.status == "已受理"


def test_the_panel_acts_through_the_api_and_needs_a_reason_to_cancel() -> None:
    ctx, client = octx()
    board = BoardState(ctx, clock=lambda: NOW)
    asyncio.run(board.load())
    asyncio.run(board.open("j3"))
    assert board.panel is not None and board.allowed("dispatch")
    assert asyncio.run(board.assign("u9", "Crew9"))
    assert ("act", "j3", "dispatch", {"assignee_id": "u9"}) in client.calls
    assert board.notice == "WO1 assigned to Crew9"
    assert not asyncio.run(board.cancel_job())  # no reason: nothing sent
    assert board.panel_error == "Please give a reason"
    board.reason = "duplicate call"
    client.refuse = OfficeError("Not allowed now.", code="WO_TRANSITION_NOT_ALLOWED", status=409)
    assert not asyncio.run(board.cancel_job())
    assert board.panel_error == "Not allowed now." and board.reason == "duplicate call"
    client.refuse = None
    assert asyncio.run(board.cancel_job())
    assert ("act", "j3", "cancel", {"reason": "duplicate call"}) in client.calls


def test_several_jobs_at_once_keep_the_failed_ones_selected() -> None:
    ctx, client = octx()
    board = BoardState(ctx, clock=lambda: NOW)
    asyncio.run(board.load())
    for i in (1, 2, 3):
        board.toggle(f"j{i}")
    asyncio.run(board.bulk("cancel", reason=""))
    assert board.notice == "Please give a reason" and not any(c[0] == "bulk" for c in client.calls)
    asyncio.run(board.bulk("cancel", reason="storm duplicates"))
    assert board.notice == "2 done, 1 failed" and board.selected == ["j3"]
    assert board.failed_lines() == ["WO: not now"]


def test_the_board_reloads_on_changes_and_the_panel_only_for_its_job() -> None:
    ctx, client = octx()
    board = BoardState(ctx, clock=lambda: NOW)
    asyncio.run(board.load())
    asyncio.run(board.open("j3"))
    client.calls.clear()
    asyncio.run(board.on_changes(Change(order_ids=frozenset({"j99"}))))
    assert [c[0] for c in client.calls] == ["board"]
    asyncio.run(board.on_changes(Change(order_ids=frozenset({"j3"}))))
    assert [c[0] for c in client.calls] == ["board", "board", "job"]


def test_a_lost_connection_shows_the_banner_and_the_feed_reloads_after_it() -> None:
    ctx, client = octx()
    board = ctx.track(BoardState(ctx, clock=lambda: NOW))
    feed = ChangeFeed(ctx)
    client.feed = [{"seq": 10, "order_ids": []}, {"seq": 12, "order_ids": ["j1"]}]
    assert asyncio.run(feed.step()) is None and feed.since == 10  # the first: position only
    assert asyncio.run(feed.step()) == Change(order_ids=frozenset({"j1"}))
    client.offline = True
    assert asyncio.run(feed.step()) is None
    assert ctx.shell.online is False and ctx.shell.problem == "connect failed"
    asyncio.run(board.load())
    assert board.error == "connect failed"
    client.offline = False
    assert asyncio.run(feed.step()) == Change(everything=True)  # changes may have been missed
    assert ctx.shell.online is True and ctx.shell.reconnects == 1
    asyncio.run(feed.publish(Change(everything=True)))
    assert board.error == "" and board.loaded


def test_the_rows_show_before_the_counts_and_the_feed_goes_on_from_where_they_were_read(
        ) -> None:
    ctx, client = octx()
    counts_may_answer = threading.Event()
    slow_counts = client.board_counts

    def board_counts(**q: Any) -> dict[str, Any]:
        counts_may_answer.wait(5)
        return {**slow_counts(**q), "seq": 41}

    client.board_counts = board_counts  # type: ignore[method-assign]
    fast_board = client.board
    client.board = lambda **q: {**fast_board(**q), "seq": 42}  # type: ignore[method-assign]
    feed = ChangeFeed(ctx)
    client.feed = [{"seq": 43, "order_ids": ["j7"]}]

    async def scenario() -> None:
        board = BoardState(ctx, clock=lambda: NOW)
        board.load_first()  # what the frame does while it is first drawn
        for _ in range(200):
            if board.loaded:
                break
            await asyncio.sleep(0.01)
        assert len(board.rows) == 25 and board.counts == {}  # the rows did not wait
        counts_may_answer.set()
        await board.first_load()  # the screen joins the frame's load: no second request
        assert board.counts == {"unassigned": 30} and board.seq == 41
        assert [c for c in client.calls if c[0] == "board"] == [("board", "unassigned", 0)]
        feed.start_at(board.seq)
        assert await feed.step() == Change(order_ids=frozenset({"j7"}))  # no starting call

    asyncio.run(scenario())


def test_the_hotline_form_checks_before_it_sends() -> None:
    ctx, _client = octx()
    hot = HotlineState(ctx)
    assert asyncio.run(hot.submit()) is None
    assert set(hot.errors) == {"account", "description"}
    hot.pick({"id": "a1", "account_no": "77", "name": "Zhang", "phone": "139", "address": "Rd",
              "lat": 27.8, "lon": 112.9})
    hot.description = "  no power  "
    hot.contact_phone = "12ab"
    assert asyncio.run(hot.submit()) is None and set(hot.errors) == {"contact_phone"}
    hot.contact_phone = "13900000000"
    body = hot.body()
    assert body["channel"] == "hotline" and body["description"] == "no power"
    assert body["location"] == {"lat": 27.8, "lon": 112.9, "accuracy_m": 50}
    first_id = body["id"]
    assert hot.body()["id"] == first_id  # a retry is the same report
    hot.new_report()
    assert hot.report_id != first_id and hot.account is None
    clerk, _ = octx(Role.AGENT)
    desk = HotlineState(clerk)
    assert desk.counter and desk.kinds()[0] == "new_connection"


@pytest.mark.parametrize(("source", "text"), [
    ("manager", "marked by a manager today"), ("signed_in", "signed in on their phone recently"),
    ("none", "no mark today, not signed in")])
def test_a_roster_line_says_why_someone_is_on_duty(source: str, text: str) -> None:
    crew = {"id": "u1", "display_name": "Crew1", "role": "crew", "phone": "139",
            "on_duty": source != "none", "duty_source": source, "open_count": 12,
            "open_jobs": [{"code": "WO1", "status": "accepted"}],
            "last_position": {"lat": 27.8, "lon": 112.9,
                              "at": (NOW - timedelta(hours=2)).isoformat()}}
    ln = crew_line(crew, NOW, "en")
    assert ln.duty == text and ln.jobs == "12: WO1 Accepted"
    assert ln.position == "27.8000, 112.9000 (2 h 0 min ago, on arrival)"
