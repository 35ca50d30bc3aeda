"""The agent's phone tells the truth about the cash hand-over and the count requests
(issue 15). The hand-over, from the phone's synced rows with no server: a day waiting for
the counter; confirmed and matching; confirmed with a discrepancy (recorded vs counted and
the counter's note); receipts taken or uploaded after the confirmation ("1 receipt not yet
handed over", count and amount). The purchase-count correction screen lists the agent's
own recent requests with their state while online, and says the list needs a connection
when offline."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mobile.services.backend import SessionInfo
from mobile.services.engine_backend import EngineBackend
from mobile.state.agent_cash import CashState, CountFixState
from mobile.views.agent_cash import handover_day_view, request_item, requests_section
from shared.enums import Role
from shared.ids import new_id
from shared.timeutil import LOCAL_TZ, utcnow
from sync.client.errors import PermanentError, TransientError
from sync.client.store import SignedIn
from sync.client.timefmt import to_iso
from sync.client.transport import Transport
from tests.unit.mobile.shown import texts
from tests.unit.mobile.test_support import ACCOUNT, METER, STATION, make_device, pull

AGENT = SignedIn(new_id(), Role.AGENT, username="agent1", display_name="Agent One",
                 station_id=STATION)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "agent", AGENT)
    yield backend
    backend.close()


# -- the hand-over, from the synced rows ------------------------------------------------
def today_at(frac: float) -> datetime:
    """A moment of today (local) before now: ``frac`` of the way from midnight to now.
    Read from the clock at each call, as the phone reads it when it records cash: a test
    that runs just after midnight (16:00 UTC) has one day, not the day it was imported on."""
    now = utcnow()
    start = datetime.combine(now.astimezone(LOCAL_TZ).date(), time(0), tzinfo=LOCAL_TZ)
    return start + (now - start) * frac


def receipt(no: str, fen: int, *, taken: float, recorded: float, seq: int = 1
            ) -> tuple[str, dict[str, Any]]:
    """The agent's cash as the server recorded it (a ledger entry pulled back)."""
    return ("ledger_entry", {
        "id": new_id(), "account_id": ACCOUNT, "seq": seq, "kind": "recharge_cash",
        "amount_fen": fen, "balance_after_fen": 10_000 + fen, "actor_id": AGENT.user_id,
        "occurred_at": to_iso(today_at(taken)), "recorded_at": to_iso(today_at(recorded)),
        "source_type": "cash_receipt", "source_id": new_id(), "data": {"receipt_no": no}})


def handover(*, counted: tuple[int, int], recorded: tuple[int, int] | None, at: float,
             note: str | None = None) -> tuple[str, dict[str, Any]]:
    """The counter's confirmation of today (``recorded`` None: a row from before the
    counter entered what it counted)."""
    return ("cash_handover", {
        "id": new_id(), "agent_id": AGENT.user_id, "station_id": STATION,
        "day": utcnow().astimezone(LOCAL_TZ).date().isoformat(), "receipt_count": counted[0],
        "total_fen": counted[1], "confirmed_by": new_id(), "confirmed_by_name": "Manager1",
        "confirmed_at": to_iso(today_at(at)), "note": note,
        "recorded_count": recorded[0] if recorded else None,
        "recorded_fen": recorded[1] if recorded else None})


def cash_of(backend: EngineBackend) -> CashState:
    cash = CashState(backend, "en", clock=utcnow)
    cash.reload()
    return cash


def test_a_day_not_yet_confirmed_waits_for_the_counter(agent: EngineBackend) -> None:
    pull(agent, [receipt("R-000901", 5000, taken=0.2, recorded=0.3)])
    (day,) = cash_of(agent).handovers
    assert (day.state, day.handover, day.later) == ("open", None, [])
    assert texts(handover_day_view(day, "en"))[1] == "Waiting for the counter to confirm"


def test_a_day_confirmed_as_recorded_says_it_matches(agent: EngineBackend) -> None:
    pull(agent, [receipt("R-000901", 5000, taken=0.2, recorded=0.3),
                 receipt("R-000902", 2050, taken=0.4, recorded=0.5, seq=2),
                 handover(counted=(2, 7050), recorded=(2, 7050), at=0.6)])
    (day,) = cash_of(agent).handovers
    assert day.state == "confirmed" and day.later == []
    words = texts(handover_day_view(day, "en"))
    assert words[1:3] == ["Confirmed by the counter (Manager1)",
                          "Counted 2 receipts, ¥70.50: matches the records"]
    assert not [w for w in words if "discrepancy" in w or "not yet handed" in w]
    zh = texts(handover_day_view(day, "zh"))
    assert zh[1:3] == ["营业厅已确认（Manager1）", "清点 2 笔 ¥70.50，与记录一致"]


def test_a_day_confirmed_with_a_discrepancy_says_so_with_both_figures_and_the_note(
        agent: EngineBackend) -> None:
    note = "One ¥5 note missing; the agent is told"
    pull(agent, [receipt("R-000901", 8850, taken=0.2, recorded=0.3),
                 handover(counted=(1, 8350), recorded=(1, 8850), at=0.6, note=note)])
    (day,) = cash_of(agent).handovers
    h = day.handover
    assert h is not None and day.state == "discrepancy" and day.later == []
    assert (h.recorded.total_fen, h.counted.total_fen, h.difference_fen) == (8850, 8350, -500)
    words = texts(handover_day_view(day, "en"))
    assert words[1:4] == [
        "Confirmed with a discrepancy (Manager1)",
        "Recorded 1 receipt, ¥88.50; counted 1 receipt, ¥83.50; difference -¥5.00",
        f"Counter's note: {note}"]
    assert "Confirmed by the counter (Manager1)" not in words  # not told it all matched
    zh = texts(handover_day_view(day, "zh"))
    assert zh[1:4] == ["营业厅已确认，有差异（Manager1）",
                       "记录 1 笔 ¥88.50，清点 1 笔 ¥83.50，差额 -¥5.00",
                       f"营业厅说明：{note}"]


def test_receipts_after_the_confirmation_are_not_yet_handed_over(agent: EngineBackend
                                                                 ) -> None:
    """Confirmed at 1 receipt; since then one more was recorded on the server (taken
    offline before the confirmation, uploaded after it) and one is still on the phone."""
    pull(agent, [receipt("R-000901", 5000, taken=0.1, recorded=0.2),
                 receipt("R-000902", 3000, taken=0.3, recorded=0.7, seq=2),
                 handover(counted=(1, 5000), recorded=(1, 5000), at=0.5)])
    agent.cash_recharge(account_id=ACCOUNT, amount_fen=1250, receipt_no="R-000903")
    cash = cash_of(agent)
    (day,) = cash.handovers
    assert day.summary.count == 3 and day.state == "confirmed"
    assert sorted(c.receipt_no for c in day.later) == ["R-000902", "R-000903"]
    assert day.later_fen == 4250
    words = texts(handover_day_view(day, "en"))
    assert "Counted 1 receipt, ¥50.00: matches the records" in words
    assert "2 receipts not yet handed over: ¥42.50" in words
    (hint,) = [w for w in words if w.startswith("Taken or uploaded after")]
    assert "R-000902 ¥30.00" in hint and "R-000903 ¥12.50" in hint and "R-000901" not in hint
    assert "2 笔尚未交款，共 ¥42.50" in texts(handover_day_view(day, "zh"))


def test_one_receipt_after_a_confirmation_with_a_discrepancy(agent: EngineBackend) -> None:
    pull(agent, [receipt("R-000901", 5000, taken=0.1, recorded=0.2),
                 handover(counted=(1, 4500), recorded=(1, 5000), at=0.5,
                          note="Five yuan short in the bag"),
                 receipt("R-000902", 3000, taken=0.6, recorded=0.7, seq=2)])
    (day,) = cash_of(agent).handovers
    assert day.state == "discrepancy" and [c.receipt_no for c in day.later] == ["R-000902"]
    words = texts(handover_day_view(day, "en"))
    assert "1 receipt not yet handed over: ¥30.00" in words
    assert "1 笔尚未交款，共 ¥30.00" in texts(handover_day_view(day, "zh"))


def test_a_confirmation_from_before_the_counted_figures_reads_as_matching(
        agent: EngineBackend) -> None:
    pull(agent, [receipt("R-000901", 5000, taken=0.1, recorded=0.2),
                 handover(counted=(1, 5000), recorded=None, at=0.5)])
    (day,) = cash_of(agent).handovers
    assert day.state == "confirmed" and day.later == []


# -- the agent's own purchase-count requests ------------------------------------------
def request(status: str, *, new: int, by: str = AGENT.user_id, **kw: Any) -> dict[str, Any]:
    return {"id": new_id(), "kind": "purchase_count", "status": status, "meter_id": METER,
            "meter_no": "MTR-0001", "old_count": 7, "new_count": new, "reason": "card reissued",
            "requested_by": by, "requested_at": to_iso(utcnow() - timedelta(hours=new)),
            "decided_by_name": None if status == "pending" else "Manager1",
            "decided_at": None if status == "pending" else to_iso(utcnow()), **kw}


class FakeServer:
    """What the correction screen asks the server: the listed requests (as an agent's
    GET /supervision/approvals answers: theirs only) and new corrections."""

    def __init__(self, backend: EngineBackend, listed: list[dict[str, Any]]) -> None:
        self.backend, self.listed = backend, listed
        self.offline = False
        self.refusal: PermanentError | None = None
        self.asked: list[dict[str, Any]] = []

    def session(self) -> SessionInfo:
        return SessionInfo(AGENT.user_id, Role.AGENT, "agent1", "Agent One", "http://x",
                           STATION)

    def rows(self, entity: str) -> Any:
        return self.backend.rows(entity)

    def approval_requests(self, **kw: Any) -> list[dict[str, Any]]:
        self.asked.append(kw)
        if self.offline:
            raise TransientError("down", code="SYNC_OFFLINE")
        if self.refusal is not None:
            raise self.refusal
        return [dict(r) for r in self.listed]

    def correct_purchase_count(self, meter_id: str, **kw: Any) -> dict[str, Any]:
        req = {**request("pending", new=kw["new_count"]), "id": kw["correction_id"],
               "duplicate": False}
        self.listed.insert(0, req)
        return dict(req)


def test_the_correction_screen_lists_my_requests_with_their_state(agent: EngineBackend
                                                                  ) -> None:
    waiting = request("pending", new=9)
    rejected = request("rejected", new=11, decision_reason="The card shows 10, not 11")
    approved = request("approved", new=12)
    server = FakeServer(agent, [waiting, rejected, approved])
    fix = CountFixState(server, "en")  # type: ignore[arg-type]
    asyncio.run(fix.refresh_requests())  # the screen opened
    assert server.asked == [{"kind": "purchase_count", "limit": 10}]
    assert fix.requests_state == "ok"
    assert [r["status"] for r in fix.earlier_requests()] == ["pending", "rejected", "approved"]
    words = texts(requests_section(fix, "en", None))
    assert words[0] == "My correction requests"
    assert words[1:5] == ["MTR-0001", "7", "9", "Waiting"]
    assert "Rejected" in words and "Why rejected: The card shows 10, not 11" in words
    assert "Approved" in words and any(w.startswith("Decided by Manager1") for w in words)
    zh = texts(requests_section(fix, "zh", None))
    assert "待审批" in zh and "未批准" in zh and "已批准" in zh
    assert "未批准原因：The card shows 10, not 11" in zh

    # a pull while one is waiting: asked again, and the decision shows
    server.listed[0] = {**waiting, "status": "approved", "decided_at": to_iso(utcnow())}
    fix.reload()
    asyncio.run(fix.refresh_requests())
    assert len(server.asked) == 2
    assert [r["status"] for r in fix.requests] == ["approved", "rejected", "approved"]
    asyncio.run(fix.refresh_requests())  # nothing waits any more: not asked again
    assert len(server.asked) == 2


def test_a_request_sent_heads_the_list_and_follows_its_decision(agent: EngineBackend
                                                                ) -> None:
    pull(agent, [("meter", {"id": METER, "meter_no": "MTR-0001", "status": "installed",
                            "account_id": ACCOUNT, "station_id": STATION,
                            "purchase_count": 7, "version": 2})])
    older = request("rejected", new=11, decision_reason="Wrong meter")
    server = FakeServer(agent, [older])
    fix = CountFixState(server, "en")  # type: ignore[arg-type]
    asyncio.run(fix.load_requests())
    fix.meter_text, fix.count_text, fix.reason_text = "MTR-0001", "8", "card reissued"
    asyncio.run(fix.submit())
    assert fix.phase == "sent"
    assert [r["new_count"] for r in fix.requests] == [8, 11]  # remembered: the newest first
    assert [r["new_count"] for r in fix.earlier_requests()] == [11]  # the card shows it
    words = texts(requests_section(fix, "en", None))
    assert words[0] == "Earlier requests" and "Why rejected: Wrong meter" in words
    # the manager rejects it; the list, asked again, brings the decision to the card
    server.listed[0].update(status="rejected", decision_reason="Count is right",
                            decided_at=to_iso(utcnow()), decided_by_name="Manager1")
    asyncio.run(fix.refresh_requests())
    assert fix.phase == "rejected" and fix.result["decision_reason"] == "Count is right"  # type: ignore[index]

    # the screen left and opened again: the request is not forgotten
    again = CountFixState(server, "en")  # type: ignore[arg-type]
    asyncio.run(again.refresh_requests())
    assert [r["new_count"] for r in again.earlier_requests()] == [8, 11]


def test_a_first_request_sent_has_no_empty_list_under_it(agent: EngineBackend) -> None:
    pull(agent, [("meter", {"id": METER, "meter_no": "MTR-0001", "status": "installed",
                            "account_id": ACCOUNT, "station_id": STATION,
                            "purchase_count": 7, "version": 2})])
    server = FakeServer(agent, [])
    fix = CountFixState(server, "en")  # type: ignore[arg-type]
    asyncio.run(fix.refresh_requests())
    assert texts(requests_section(fix, "en", None))[1] == "No correction requests yet"
    fix.meter_text, fix.count_text, fix.reason_text = "MTR-0001", "8", "card reissued"
    asyncio.run(fix.submit())
    assert fix.phase == "sent" and requests_section(fix, "en", None) is None


def test_offline_the_list_says_it_needs_a_connection(agent: EngineBackend) -> None:
    server = FakeServer(agent, [request("pending", new=9)])
    server.offline = True
    fix = CountFixState(server, "zh")  # type: ignore[arg-type]
    asyncio.run(fix.refresh_requests())
    assert (fix.requests_state, fix.requests, fix.requests_error) == ("offline", [], "")
    words = texts(requests_section(fix, "zh", None))
    assert words == ["我的更正申请", "查看更正申请及审批结果需要网络连接，联网后自动显示。"]
    assert texts(requests_section(fix, "en", None))[1] == (
        "Your requests and their approval are listed when the phone is online.")
    # back online (the screen asks again when the phone's state changes)
    server.offline = False
    asyncio.run(fix.refresh_requests())
    assert fix.requests_state == "ok" and len(fix.requests) == 1
    # a server refusal is said in words, not dumped
    server.refusal = PermanentError("Not allowed", code="FORBIDDEN", status=403)
    asyncio.run(fix.load_requests())
    assert fix.requests_state == "error"
    assert texts(requests_section(fix, "en", None))[1] == (
        "Your requests could not be listed: Not allowed")


def test_a_managers_list_keeps_only_their_own_requests(agent: EngineBackend) -> None:
    server = FakeServer(agent, [request("pending", new=9),
                                request("pending", new=10, by=new_id())])
    fix = CountFixState(server, "en")  # type: ignore[arg-type]
    asyncio.run(fix.load_requests())
    assert [r["new_count"] for r in fix.requests] == [9]


def test_request_item_without_a_decision_shows_no_decider() -> None:
    words = texts(request_item(request("pending", new=9), "en"))
    assert not [w for w in words if w.startswith("Decided")]


def test_the_transport_lists_approvals_by_kind() -> None:
    seen: list[tuple[str, str, dict[str, str]]] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append((req.method, req.url.path, dict(req.url.params)))
        return httpx.Response(200, json={"items": [{"id": "r1"}], "total": 1})

    class Tokens:
        def tokens(self) -> tuple[str | None, str | None]:
            return "access", "refresh"

        def save_tokens(self, access: str, refresh: str) -> None:
            raise AssertionError("no refresh expected")

    client = httpx.Client(base_url="http://api", transport=httpx.MockTransport(handler))
    t = Transport("http://api", Tokens(), client=client)
    assert t.approvals(kind="purchase_count", limit=10)["items"] == [{"id": "r1"}]
    assert seen == [("GET", "/api/v1/supervision/approvals",
                     {"kind": "purchase_count", "limit": "10"})]


class SlowServer(FakeServer):
    """Answers the list only when ``answer`` is set (a slow link)."""

    def __init__(self, backend: EngineBackend, listed: list[dict[str, Any]]) -> None:
        super().__init__(backend, listed)
        self.answer, self.asking = threading.Event(), threading.Event()

    def approval_requests(self, **kw: Any) -> list[dict[str, Any]]:
        self.asking.set()
        self.answer.wait(10)
        return super().approval_requests(**kw)


def test_a_list_asked_again_while_loading_still_arrives(agent: EngineBackend) -> None:
    """Flet cancels an effect's earlier run when it runs again (a pull came in while the
    list was being asked for): the list must still arrive, not stay "Loading…"."""
    server = SlowServer(agent, [request("pending", new=9)])
    fix = CountFixState(server, "en")  # type: ignore[arg-type]

    async def screen() -> None:
        first = asyncio.create_task(fix.refresh_requests())  # the screen opened
        await asyncio.to_thread(server.asking.wait, 10)
        assert fix.requests_state == "loading"
        first.cancel()  # a pull arrived: the effect runs again
        with contextlib.suppress(asyncio.CancelledError):
            await first
        second = asyncio.create_task(fix.refresh_requests())
        await asyncio.sleep(0)
        server.answer.set()
        await asyncio.wait_for(second, 10)

    asyncio.run(screen())
    assert fix.requests_state == "ok"
    assert [r["new_count"] for r in fix.requests] == [9]
    assert texts(requests_section(fix, "en", None))[1:5] == ["MTR-0001", "7", "9", "Waiting"]
