"""The sync indicator, the Sync screen's state, and the driver that decides when to sync."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from mobile.state.sync import SyncDriver, SyncState
from sync.client.status import OpInfo, SyncStatus

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


class FakeBackend:
    """Only what SyncState uses; each sync pass returns the next scripted status."""

    def __init__(self, *statuses: SyncStatus) -> None:
        self.current = statuses[0] if statuses else SyncStatus()
        self.statuses = list(statuses[1:])
        self.passes = 0
        self.discarded: list[str] = []
        self.retried: list[str] = []
        self.listeners: list[Callable[[], None]] = []
        self.nudges = 0

    def start_sync(self, listener: Callable[[], None]) -> None:
        self.listeners.append(listener)

    def stop_sync(self, listener: Callable[[], None]) -> None:
        self.listeners.remove(listener)

    def nudge(self) -> None:
        self.nudges += 1

    def status(self) -> SyncStatus:
        return self.current

    def sync_once(self) -> SyncStatus:
        self.passes += 1
        if self.statuses:
            self.current = self.statuses.pop(0)
        return self.current

    def discard(self, op_id: str) -> None:
        self.discarded.append(op_id)

    def retry(self, op_id: str) -> None:
        self.retried.append(op_id)


def rejected_op(**kw: Any) -> OpInfo:
    base = dict(op_id="op-1", action="resolve", entity_id="wo-1", state="rejected",
                created_at=NOW - timedelta(hours=1), code="WO_TRANSITION_NOT_ALLOWED",
                message="(the server's words at the time)",
                details={"status": "cancelled", "action": "resolve"}, can_discard=True,
                label="WO26112700001")
    base.update(kw)
    return OpInfo(**base)  # type: ignore[arg-type]


def state_with(status: SyncStatus) -> SyncState:
    return SyncState(FakeBackend(status), status=status, clock=lambda: NOW)  # type: ignore[arg-type]


def test_the_indicator_says_online_or_offline_and_what_is_pending() -> None:
    assert state_with(SyncStatus(online=True)).indicator("en") == "Online · All synced"
    offline = SyncStatus(online=False, waiting=3)
    assert state_with(offline).indicator("en") == "Offline · 3 pending"
    assert state_with(offline).indicator("zh") == "离线 · 待上传 3"
    busy = state_with(SyncStatus(online=True, waiting=1))
    busy.busy = True
    assert busy.indicator("en") == "Syncing · 1 pending"


def test_the_sync_screen_figures() -> None:
    status = SyncStatus(online=False, waiting=4, by_state={"pending": 3, "held": 1,
                                                           "rejected": 1, "applied": 9},
                        oldest_waiting_at=NOW - timedelta(minutes=95), photos_waiting=2,
                        photo_bytes_left=300 * 1024, photo_bytes_total=400 * 1024,
                        last_success_at=NOW - timedelta(hours=26))
    s = state_with(status)
    assert s.counts() == [("pending", 3), ("held", 1), ("rejected", 1)]
    assert s.oldest_pending("en") == "1 h 35 min ago"
    assert s.last_success("zh") == "26 小时 0 分前"
    assert s.photo_left("en") == "2 photo(s), 300 KB"
    assert s.upload_fraction() == 0.25
    nothing = state_with(SyncStatus(online=True))
    assert nothing.oldest_pending("en") == "Nothing pending"
    assert nothing.last_success("en") == "never"
    assert nothing.upload_fraction() is None


def test_a_rejection_is_explained_in_the_users_language_now() -> None:
    op = rejected_op()
    assert SyncState.reason(op, "en") == (
        "The work order is 'Cancelled'; 'resolve' is not possible now.")
    assert SyncState.reason(op, "zh") == "工单当前状态为“已撤销”，不能执行“完成处理”。"
    held = rejected_op(state="held", code="SYNC_LANE_PREDECESSOR_REJECTED")
    assert SyncState.reason(held, "en").startswith("Held: an earlier change of this job")
    gave_up = rejected_op(code="SYNC_CLIENT_GAVE_UP", can_retry=True)
    assert "retry or discard" in SyncState.reason(gave_up, "en")


def test_discard_and_retry_go_to_the_engine_and_refresh() -> None:
    s = state_with(SyncStatus(online=True, ops=(rejected_op(),)))
    assert [o.op_id for o in s.rejected()] == ["op-1"]
    version = s.data_version
    s.discard("op-1")
    s.retry("op-2")
    backend = s.backend
    assert backend.discarded == ["op-1"] and backend.retried == ["op-2"]  # type: ignore[attr-defined]
    assert s.data_version > version


def test_sync_now_applies_the_new_status_and_bumps_the_data_version() -> None:
    before = SyncStatus(online=False, waiting=2)
    after = SyncStatus(online=True, waiting=0, last_success_at=NOW)
    s = SyncState(FakeBackend(before, after), status=before, clock=lambda: NOW)  # type: ignore[arg-type]
    version = s.data_version
    result = asyncio.run(s.sync_now())
    assert result == after and s.status == after and not s.busy
    assert s.data_version == version + 1


def test_the_driver_has_no_timer_it_mirrors_what_the_engine_reports() -> None:
    offline = SyncStatus(online=False, waiting=1)
    lost = replace(offline, online=True, auth_required=True)
    backend = FakeBackend(SyncStatus(online=True, waiting=1))
    state = SyncState(backend, status=backend.current, clock=lambda: NOW)  # type: ignore[arg-type]
    lost_calls: list[int] = []

    async def run() -> None:
        driver = SyncDriver(state, on_auth_lost=lambda: lost_calls.append(1))
        driver.start()
        assert len(backend.listeners) == 1
        await asyncio.sleep(0.1)
        assert backend.passes == 0  # the engine decides when to sync, not the app
        backend.current = offline  # a request failed: the engine says so at once
        threading.Thread(target=backend.listeners[0]).start()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if state.status.online is False:
                break
        assert state.indicator("en") == "Offline · 1 pending"
        backend.current = lost
        backend.listeners[0]()
        await asyncio.sleep(0.05)
        assert lost_calls == [1]
        await driver.stop()
        assert backend.listeners == []

    asyncio.run(run())


def test_a_kick_nudges_the_engine() -> None:
    backend = FakeBackend(SyncStatus(online=True))
    state = SyncState(backend, status=backend.current, clock=lambda: NOW)  # type: ignore[arg-type]

    async def run() -> None:
        driver = SyncDriver(state)
        driver.start()
        driver.kick()
        driver.kick()
        assert backend.nudges == 2
        await driver.stop()

    asyncio.run(run())


def test_without_threads_the_drivers_own_pass_reloads_the_screens(monkeypatch: Any) -> None:
    """In the browser the driver runs each pass itself: a pass that pulled rows must reload
    the screens (a crew signed in and saw "All synced" over an empty job list)."""
    import mobile.state.sync as sync_state

    monkeypatch.setattr(sync_state, "THREADS", False)
    before = SyncStatus(online=True, data_seq=0)
    pulled = SyncStatus(online=True, data_seq=1, last_success_at=NOW)
    backend = FakeBackend(before, pulled)
    state = SyncState(backend, status=before, clock=lambda: NOW)  # type: ignore[arg-type]
    reloads: list[int] = []

    async def run() -> None:
        driver = SyncDriver(state, on_synced=lambda: reloads.append(state.data_version))
        driver.start()
        for _ in range(200):
            await asyncio.sleep(0.01)
            if reloads:
                break
        await driver.stop()

    asyncio.run(run())
    assert backend.passes >= 1 and backend.listeners == []  # no engine thread was started
    assert reloads == [state.data_version]
