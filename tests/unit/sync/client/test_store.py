"""The device's local store: one transaction per local change, forward migrations that
keep pending ops, sign-in bookkeeping."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.enums import Role
from shared.ids import new_id
from sync.client import outbox, rows, sending
from sync.client.errors import NotSignedIn, StoreTooNew
from sync.client.schema import LATEST
from sync.client.store import Key, SignedIn, Store
from sync.protocol import OpType

USER = SignedIn(new_id(), Role.CREW, username="crew1")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "device.db")
    s.sign_in(USER, access="a1", refresh="r1")
    yield s
    s.close()


def test_a_new_store_is_at_the_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    s = Store(tmp_path / "d.db")
    with s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar() == LATEST
    assert len(s.device_id) == 36
    s.close()


def test_the_device_id_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Store(tmp_path / "d.db")
    device = first.device_id
    first.close()
    again = Store(tmp_path / "d.db")
    assert again.device_id == device
    again.close()


def test_enqueue_numbers_ops_per_device_and_names_the_lane(store: Store) -> None:
    order = new_id()
    a = store.enqueue(OpType.WO_ACCEPT, order, {})
    b = store.enqueue(OpType.WO_ARRIVE, order, {"gps": None})
    assert (a.device_seq, b.device_seq) == (1, 2)
    assert a.lane == b.lane == f"work_order:{order}"
    assert a.state == outbox.OpState.PENDING


def test_a_swap_op_goes_in_its_work_orders_lane(store: Store) -> None:
    order = new_id()
    e = store.enqueue(OpType.METER_SWAP_RECORD, order, {"id": new_id()})
    assert e.lane == f"work_order:{order}"


def test_the_local_effect_and_the_op_commit_together(store: Store) -> None:
    with store.write() as conn:
        conn.exec_driver_sql("CREATE TABLE draft (id TEXT)")

    def effect(conn: object) -> None:
        conn.exec_driver_sql("INSERT INTO draft VALUES ('x')")  # type: ignore[attr-defined]
        raise RuntimeError("the app died half-way")

    with pytest.raises(RuntimeError):
        store.enqueue(OpType.WO_ACCEPT, new_id(), {}, local_effect=effect)
    with store.read() as conn:
        assert outbox.select(conn) == []
        assert conn.exec_driver_sql("SELECT count(*) FROM draft").scalar() == 0
        assert store.get(conn, Key.DEVICE_SEQ) is None  # the counter rolled back too

    store.enqueue(OpType.WO_ACCEPT, new_id(), {},
                  local_effect=lambda c: c.exec_driver_sql("INSERT INTO draft VALUES ('y')"))
    with store.read() as conn:
        assert len(outbox.select(conn)) == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM draft").scalar() == 1


def test_malformed_ops_are_refused_on_the_phone(store: Store) -> None:
    with pytest.raises(ValueError):
        store.enqueue("work_order.teleport@1", new_id(), {})
    with pytest.raises(ValidationError):
        store.enqueue(OpType.WO_ACCEPT, "not-a-uuid", {})
    with pytest.raises(ValidationError):
        store.enqueue(OpType.WO_ADD_PHOTO, new_id(), {}, photos=["not-a-hash"])
    with store.read() as conn:
        assert outbox.select(conn) == []


def test_nobody_signed_in_means_no_ops(tmp_path: Path) -> None:
    s = Store(tmp_path / "d.db")
    with pytest.raises(NotSignedIn):
        s.enqueue(OpType.WO_ACCEPT, new_id(), {})
    s.close()


def test_another_user_signing_in_drops_rows_and_cursor_but_keeps_the_outbox(store: Store
                                                                            ) -> None:
    op = store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    with store.write() as conn:
        rows.apply_changes(conn, [{"entity": "station", "id": "s1", "version": 1,
                                   "row": {"id": "s1"}}])
        store.put(conn, Key.CURSOR, "c1")
    store.sign_in(USER, access="a2", refresh="r2")  # same user: nothing dropped
    assert store.state(Key.CURSOR) == "c1"
    store.sign_in(SignedIn(new_id(), Role.CREW), access="a3", refresh="r3")
    with store.read() as conn:
        assert rows.count(conn) == {}
        assert store.get(conn, Key.CURSOR) is None
        assert [e.op_id for e in outbox.select(conn)] == [op.op_id]
    assert store.tokens() == ("a3", "r3")


def test_signing_out_forgets_tokens_only(store: Store) -> None:
    store.enqueue(OpType.WO_ACCEPT, new_id(), {})
    store.sign_out()
    assert store.tokens() == (None, None)
    assert store.signed_in() == USER
    with store.read() as conn:
        assert len(outbox.select(conn)) == 1


# -- migrations -----------------------------------------------------------------------
def _v1_with_pending_ops(path: Path) -> list[str]:
    """A database as release 1 left it: schema v1 with two pending ops and a row."""
    old = Store(path, schema_version=1)
    old.close()
    op_ids = [new_id(), new_id()]
    order = new_id()
    db = sqlite3.connect(path)
    for seq, op_id in enumerate(op_ids, 1):
        db.execute(
            "INSERT INTO outbox (device_seq, op_id, user_id, lane, type, entity_id, payload,"
            " photos, created_at, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, '[]', ?,"
            " 'pending', ?)",
            (seq, op_id, USER.user_id, f"work_order:{order}",
             OpType.WO_ACCEPT.value if seq == 1 else OpType.WO_ADD_NOTE.value, order,
             json.dumps({} if seq == 1 else {"text": "hi"}), "2025-01-01T08:00:00.000000+00:00",
             "2025-01-01T08:00:00.000000+00:00"))
    db.execute("INSERT INTO server_row (entity, id, version, data) VALUES (?, ?, 1, ?)",
               ("work_order_event", "e1", json.dumps({"id": "e1", "work_order_id": order})))
    db.execute("INSERT INTO sync_state (key, value) VALUES ('session', ?)",
               (json.dumps(USER.to_json()),))
    db.commit()
    db.close()
    return op_ids


def test_opening_a_v1_store_with_the_current_code_keeps_pending_ops(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    op_ids = _v1_with_pending_ops(path)
    s = Store(path)
    assert s.migrated_from == 1
    with s.read() as conn:
        assert conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar() == LATEST
        ops = outbox.select(conn)
        assert [o.op_id for o in ops] == op_ids
        assert all(o.state == outbox.OpState.PENDING and o.result_row is None for o in ops)
        # the new column was backfilled from the rows already there
        assert len(rows.children(conn, "work_order_event", ops[0].entity_id)) == 1
        # and the migrated ops go out as before
        batch = sending.pushable(conn, user_id=USER.user_id, now=ops[0].created_at)
        assert sending.lane_prevs(conn, batch) == {op_ids[0]: None, op_ids[1]: op_ids[0]}
    assert (tmp_path / "d.db.v1.bak").exists()  # a copy taken before the upgrade
    s.close()


def test_a_store_from_a_newer_release_is_refused_not_downgraded(tmp_path: Path) -> None:
    path = tmp_path / "d.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO schema_version VALUES (99, 'future', 'x')")
    db.commit()
    db.close()
    with pytest.raises(StoreTooNew):
        Store(path)
