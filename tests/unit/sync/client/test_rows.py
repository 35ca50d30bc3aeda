"""Pulled rows on the device: newer wins, tombstones remove, push results only refresh."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.client import rows
from sync.client.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    yield s
    s.close()


def change(rid: str, version: int, deleted: bool = False, **row: object) -> dict[str, object]:
    return {"entity": "work_order", "id": rid, "version": version, "deleted": deleted,
            "row": None if deleted else {"id": rid, "version": version, **row}}


def test_a_row_is_replaced_only_by_one_at_least_as_new(store: Store) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [change("w1", 3, status="accepted")])
        rows.apply_changes(conn, [change("w1", 2, status="dispatched")])
        assert rows.get(conn, "work_order", "w1") == (3, {"id": "w1", "version": 3,
                                                           "status": "accepted"})
        rows.apply_changes(conn, [change("w1", 3, status="accepted", assignee_name="Li")])
        assert rows.get(conn, "work_order", "w1")[1]["assignee_name"] == "Li"  # type: ignore[index]


def test_tombstones_remove_rows_and_the_last_change_in_a_page_wins(store: Store) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [change("w1", 1), change("w2", 1)])
        rows.apply_changes(conn, [change("w1", 2, deleted=True),
                                  change("w2", 2, deleted=True), change("w2", 3)])
        assert rows.get(conn, "work_order", "w1") is None
        assert rows.get(conn, "work_order", "w2") is not None


def test_push_results_refresh_rows_the_device_holds_and_never_add_rows(store: Store) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [change("w1", 2)])
        assert rows.refresh_existing(conn, "work_order", "w1", 4, {"id": "w1", "version": 4})
        assert not rows.refresh_existing(conn, "work_order", "w1", 3, {"id": "w1"})
        assert not rows.refresh_existing(conn, "work_order", "w9", 1, {"id": "w9"})
        assert rows.get(conn, "work_order", "w1") == (4, {"id": "w1", "version": 4})
        assert rows.get(conn, "work_order", "w9") is None


def test_rows_hanging_off_a_job_are_found_by_it(store: Store) -> None:
    with store.write() as conn:
        rows.apply_changes(conn, [
            {"entity": "work_order_event", "id": "e1", "version": 1,
             "row": {"id": "e1", "work_order_id": "w1"}},
            {"entity": "photo_link", "id": "p1", "version": 1,
             "row": {"id": "p1", "work_order_id": "w1"}}])
        assert [r["id"] for r in rows.children(conn, "work_order_event", "w1")] == ["e1"]
        assert rows.count(conn) == {"photo_link": 1, "work_order_event": 1}
        rows.clear(conn)
        assert rows.count(conn) == {}
