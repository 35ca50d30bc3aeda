"""My jobs and the job screen: filters, urgency, countdowns, sync marks, and the action
buttons exactly as the shared state machine allows them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from mobile.services.engine_backend import EngineBackend
from mobile.state.job_detail import GpsFix, JobDetailState
from mobile.state.jobs import JobsState, make_card
from shared.enums import Role, WorkOrderStatus
from shared.timeutil import utcnow
from shared.workorders.state_machine import Actor, OrderFacts, allowed_actions
from sync.client.timefmt import to_iso
from tests.unit.mobile.test_support import (
    CREW,
    CUSTOMER,
    STATION,
    device,
    jpeg_bytes,
    make_device,
    order_row,
    pull,
)

__all__ = ["device"]


def test_jobs_are_filtered_and_most_urgent_first(device: EngineBackend) -> None:
    now = utcnow()
    late = order_row(code="WO1", arrive_by=to_iso(now - timedelta(minutes=5)))
    # due now: "today" whatever the hour (a deadline 35 min ahead is tomorrow after 23:25)
    soon = order_row(code="WO2", priority="urgent", arrive_by=to_iso(now),
                     complete_by=to_iso(now))
    later = order_row(code="WO3", kind="usage_inspection", arrive_by=None,
                      complete_by=to_iso(now + timedelta(days=3)))
    done = order_row(code="WO4", status="resolved", resolved_at=to_iso(now),
                     arrived_at=to_iso(now - timedelta(hours=1)))
    other = order_row(code="WO5", assignee_id="someone-else")
    pull(device, [("work_order", r) for r in (later, done, soon, late, other)])
    jobs = JobsState(device)
    jobs.reload()
    # urgent first within the open jobs, then the nearest (or missed) deadline
    assert [c.code for c in jobs.cards("en")] == ["WO2", "WO1", "WO3"]
    assert jobs.count("open") == 3 and jobs.count("done") == 1
    jobs.set_filter("done")
    assert [c.code for c in jobs.cards("en")] == ["WO4"]
    older = order_row(code="WO6", status="closed", resolved_at=to_iso(now - timedelta(days=2)),
                      closed_at=to_iso(now - timedelta(days=1)))
    newest = order_row(code="WO7", status="confirmed",
                       resolved_at=to_iso(now - timedelta(days=3)),
                       confirmed_at=to_iso(now + timedelta(minutes=1)))
    pull(device, [("work_order", older), ("work_order", newest)])
    jobs.reload()
    # the most recent first within done; the card says when, not the status a second time
    cards = jobs.cards("en")
    assert [c.code for c in cards] == ["WO7", "WO4", "WO6"]
    assert all(c.status not in c.deadline_text for c in cards)
    assert all(c.deadline_text for c in cards)
    jobs.set_filter("today")
    assert {c.code for c in jobs.cards("en")} >= {"WO1", "WO2", "WO4"}
    jobs.set_filter("open")
    jobs.set_kind("usage_inspection")
    assert [c.code for c in jobs.cards("en")] == ["WO3"]
    assert jobs.kinds() == ["fault_repair", "usage_inspection"]
    with pytest.raises(ValueError):
        jobs.set_filter("someday")


def test_a_card_shows_kind_address_countdown_and_sync_state(device: EngineBackend) -> None:
    now = utcnow()
    job = order_row(arrive_by=to_iso(now + timedelta(minutes=35, seconds=30)))
    late = order_row(code="WO9", arrive_by=to_iso(now - timedelta(hours=2, minutes=5)))
    pull(device, [("work_order", job), ("work_order", late)])
    jobs = JobsState(device)
    jobs.reload()
    card = next(c for c in jobs.cards("en") if c.id == job["id"])
    assert card.title == "Fault repair · WO26112700001"
    assert card.address == "1 River Road"
    assert card.deadline_text == "arrive in 35 min" and not card.overdue
    assert (card.sync_mark, card.sync_text) == ("synced", "Synced")
    late_card = next(c for c in jobs.cards("zh") if c.id == late["id"])
    assert late_card.overdue and late_card.deadline_text.startswith("已超时 2 小时")
    device.act(job["id"], "accept", {})
    jobs.reload()
    card = next(c for c in jobs.cards("en") if c.id == job["id"])
    assert (card.sync_mark, card.sync_text, card.status) == ("pending", "Not sent (1)",
                                                             "Accepted")
    assert make_card(jobs.items[0], "zh", now).title.startswith("故障抢修")


@pytest.mark.parametrize("status", [s.value for s in WorkOrderStatus])
def test_the_buttons_are_what_the_state_machine_allows(device: EngineBackend,
                                                       status: str) -> None:
    job = order_row(status=status, arrived_at=to_iso(utcnow()) if status in (
        "on_site", "resolved", "confirmed", "closed") else None)
    pull(device, [("work_order", job)])
    state = JobDetailState(device, job["id"])
    state.reload()
    actor = Actor(CREW.user_id, Role.CREW, STATION)
    allowed = [a.value for a in allowed_actions(
        OrderFacts(WorkOrderStatus(status), job["kind"], STATION, CREW.user_id, job[
            "account_id"]), actor)]
    assert sorted(state.buttons()) == sorted(allowed)


def test_a_crew_works_a_job_offline_step_by_step(device: EngineBackend) -> None:
    job = order_row()
    pull(device, [("work_order", job)])
    kicks: list[int] = []
    state = JobDetailState(device, job["id"], on_change=lambda: kicks.append(1))
    state.reload()
    assert state.buttons() == ["accept", "decline", "add_photo", "add_note"]
    assert state.accept("en")
    assert state.status == WorkOrderStatus.ACCEPTED
    assert state.detail is not None and state.detail.job.sync.unsynced == 1
    state.gps_started()
    assert state.gps_text("en") == "Getting a GPS fix…"
    state.gps_result(GpsFix(27.80012, 112.90034, 450.0))
    assert state.gps_text("en") == "Poor GPS fix (±450 m): kept, marked poor"
    assert state.arrive("en")
    assert state.status == WorkOrderStatus.ON_SITE
    arrive = next(i for i in state.timeline() if i.action == "arrive")
    assert arrive.data["gps"] == {"lat": 27.80012, "lon": 112.90034, "accuracy_m": 450.0}
    assert JobDetailState.describe_event(arrive, "en") == "GPS 27.80012, 112.90034 (±450 m)"
    assert "resolve" in state.buttons() and "arrive" not in state.buttons()

    sha = asyncio.run(state.add_photo(jpeg_bytes(), "en"))
    assert sha is not None and sha in state.thumbs
    assert [p.sha256 for p in state.photos(("job",))] == [sha]

    state.open_form("resolve")
    assert not state.resolve("en")
    assert state.errors == {"resolution": "Please describe what was done."}
    state.resolution = "Replaced the fuse"
    state.cause = "Overload"
    assert state.resolve("en")
    assert state.form is None and state.errors == {}
    assert state.status == WorkOrderStatus.RESOLVED
    assert state.detail is not None and state.detail.job.sync.unsynced == 4
    assert len(kicks) == 4
    assert [i.sync for i in state.timeline()][-4:] == ["pending"] * 4


def test_manual_arrival_and_reasons_in_chinese(device: EngineBackend) -> None:
    job = order_row(status="accepted")
    pull(device, [("work_order", job)])
    state = JobDetailState(device, job["id"])
    state.reload()
    from mobile.services.hardware import gps_reason

    # the browser's English never reaches the screen, and no "。。"
    why = gps_reason("Location permission denied: User denied Geolocation.")
    state.gps_result(None, why)
    assert state.gps_text("zh") == ("无法定位：没有定位权限：请在设置中允许本应用使用位置。"
                                    "可手动确认到达。")
    assert "。。" not in state.gps_text("zh") and "denied" not in state.gps_text("zh")
    assert state.gps_text("en").startswith("No GPS fix: Location permission is off")
    assert gps_reason("Timeout expired") == "timeout"
    assert gps_reason("Location services are disabled") == "off"
    state.gps_result(None, gps_reason("kaboom"))
    assert state.gps_text("zh") == "无法定位：定位失败。可手动确认到达。"
    assert state.arrive("zh", manual=True)
    arrive = next(i for i in state.timeline() if i.action == "arrive")
    assert arrive.data["gps"] is None
    assert JobDetailState.describe_event(arrive, "zh") == "手动确认位置"
    assert not state.request_help("zh")
    assert state.errors["help_reason"] == "请填写原因。"
    state.help_reason = "需要登高车"
    assert state.request_help("zh")
    assert state.row["help_requested"] is True


def test_an_action_the_rules_refuse_is_shown_not_queued(device: EngineBackend) -> None:
    job = order_row()
    pull(device, [("work_order", job)])
    state = JobDetailState(device, job["id"])
    state.reload()
    assert not state.arrive("en", manual=True)  # not accepted yet
    assert "not possible now" in state.errors["action"]
    assert device.status().waiting == 0


def test_the_customer_follows_and_rates_a_job(tmp_path: object) -> None:
    from pathlib import Path

    backend = make_device(Path(str(tmp_path)) / "c", CUSTOMER)
    try:
        now = utcnow()
        job = order_row(CUSTOMER, status="resolved", assignee_id="crew-x",
                        arrived_at=to_iso(now - timedelta(minutes=40)),
                        resolved_at=to_iso(now), resolution="Fuse replaced")
        pull(backend, [("work_order", job)])
        state = JobDetailState(backend, job["id"])
        state.reload()
        assert "confirm" in state.buttons() and "resolve" not in state.buttons()
        assert state.expected_arrival("en") != "—"
        state.open_form("confirm")
        assert not state.confirm("en")  # skipping the stars says what to do
        assert state.errors["rating"] == "Tap 1 to 5 stars, then submit."
        assert device_waiting(backend) == 0
        state.set_rating(1)
        assert "rating" not in state.errors
        state.set_rating(9)
        assert state.rating == 5
        state.rating_comment = "Quick and kind"
        assert state.confirm("en")
        assert state.status == WorkOrderStatus.CONFIRMED
        item = next(i for i in state.timeline() if i.action == "confirm")
        assert JobDetailState.describe_event(item, "en") == "5 stars · Quick and kind"
        assert state.who(item, "en") == "Me"
    finally:
        backend.close()


def device_waiting(backend: EngineBackend) -> int:
    return backend.status().waiting


def test_the_customer_says_still_not_fixed_and_sees_no_crew_gps(tmp_path: object) -> None:
    from pathlib import Path

    from mobile.i18n import stars
    from sync.client.readmodel import TimelineItem

    backend = make_device(Path(str(tmp_path)) / "c", CUSTOMER)
    try:
        now = utcnow()
        job = order_row(CUSTOMER, status="resolved", assignee_id="crew-x",
                        resolved_at=to_iso(now), resolution="Fuse replaced")
        pull(backend, [("work_order", job)])
        state = JobDetailState(backend, job["id"])
        state.reload()
        assert state.buttons()[-2:] == ["confirm", "reopen"]  # beside "confirm"
        assert JobDetailState.action_label("reopen", "en") == "Still not fixed"
        assert JobDetailState.action_label("reopen", "zh") == "仍未修好"
        state.open_form("reopen")
        assert not state.reopen("en")
        assert "reopen_reason" in state.errors  # the reason is required, shown by its field
        state.reopen_reason = "The kitchen is still dark"
        assert state.reopen("en")
        assert state.status == WorkOrderStatus.DISPATCHED
        assert backend.status().waiting == 1  # queued as work_order.reopen@1

        arrive = TimelineItem("e1", "arrive", "en_route", "on_site", now, "crew-x",
                              {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 12}}, "synced")
        assert "27.8" in JobDetailState.describe_event(arrive, "en")
        assert JobDetailState.describe_event(arrive, "en", customer=True) == ""
        assert state.who(arrive, "en") == "Crew One"  # the job's crew, by name
        assert (stars(1, "en"), stars(2, "en"), stars(1, "zh")) == ("1 star", "2 stars", "1 星")
    finally:
        backend.close()


def test_expected_arrival_only_once_a_crew_is_assigned(tmp_path: object) -> None:
    from pathlib import Path

    backend = make_device(Path(str(tmp_path)) / "c", CUSTOMER)
    try:
        waiting = order_row(CUSTOMER, status="reported", assignee_id=None, assignee_name=None)
        sent = order_row(CUSTOMER, status="dispatched", assignee_id="crew-x")
        pull(backend, [("work_order", waiting), ("work_order", sent)])
        states = [JobDetailState(backend, j["id"]) for j in (waiting, sent)]
        for st in states:
            st.reload()
        assert [st.expected_arrival_shown() for st in states] == [False, True]
    finally:
        backend.close()


def test_map_link_and_action_labels(device: EngineBackend) -> None:
    job = order_row()
    pull(device, [("work_order", job)])
    state = JobDetailState(device, job["id"])
    state.reload()
    assert state.map_url() == ("https://uri.amap.com/marker?position=112.9,27.8"
                               "&name=1%20River%20Road&coordinate=wgs84")
    assert JobDetailState.action_label("arrive", "en") == "Arrive (GPS)"
    assert JobDetailState.action_label("accept", "zh") == "接单"
    assert JobDetailState.action_label("start_travel", "en") == "Set off"
    missing = JobDetailState(device, "0190f0f4-1111-7000-8000-000000000099")
    missing.reload()
    assert missing.detail is None and missing.buttons() == []


def test_a_refused_field_is_shown_beside_its_input_and_the_text_is_kept(
        device: EngineBackend) -> None:
    job = order_row(status="accepted")
    pull(device, [("work_order", job)])
    state = JobDetailState(device, job["id"])
    state.reload()
    state.open_form("add_note")
    assert not state.add_note("en")
    assert state.errors == {"note": "Please write something first."}
    state.help_reason = "x" * 501  # the shared limit: refused, not cut
    assert not state.request_help("en")
    assert "at most 500 characters" in state.errors["help_reason"]
    assert state.help_reason == "x" * 501 and device.status().waiting == 0
    state.help_reason = "Need a ladder"
    assert state.request_help("en") and state.help_reason == ""


def test_the_in_app_map_uses_the_tile_server_set() -> None:
    import flet_map as fm

    from mobile.components.job_map import job_map

    def layers(control: object) -> list[object]:
        the_map = control.controls[0].content  # type: ignore[attr-defined]
        assert isinstance(the_map, fm.Map)
        assert (the_map.initial_center.latitude, the_map.initial_center.longitude) == (
            27.8, 112.9)
        return list(the_map.layers)

    with_tiles = layers(job_map(27.8, 112.9, "https://tiles.example/{z}/{x}/{y}.png", "en"))
    assert [type(x).__name__ for x in with_tiles] == ["TileLayer", "MarkerLayer"]
    assert with_tiles[0].url_template == "https://tiles.example/{z}/{x}/{y}.png"  # type: ignore[attr-defined]
    plain = job_map(27.8, 112.9, "", "zh")
    assert [type(x).__name__ for x in layers(plain)] == ["MarkerLayer"]
    assert "未设置地图瓦片服务" in plain.controls[1].value  # type: ignore[attr-defined]
