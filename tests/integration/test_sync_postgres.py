"""Sync push on PostgreSQL: a new device's first pushes racing each other, and the same
op pushed by several threads at once, are each decided exactly once."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from server.app import create_app
from server.auth.security import make_token
from server.config import Settings
from server.sync.models import AppliedOp, Device
from server.work_orders.models import WorkOrderEvent
from shared.ids import new_id
from shared.timeutil import utcnow
from tests import pg
from tests.conftest import SECRET
from tests.factories import PEPPER, build_world

pytestmark = pytest.mark.postgres


def _op(order_id: str, device: str, seq: int) -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"work_order:{order_id}", "lane_prev": None,
            "type": "work_order.add_note@1", "entity_id": order_id,
            "payload": {"text": f"note {seq}"}, "photos": [],
            "created_at": utcnow().isoformat()}


def test_racing_first_pushes_and_duplicate_ops(tmp_path: Path) -> None:
    with pg.fresh_database() as url:
        settings = Settings(env="test", database_url=url, data_dir=tmp_path,
                            secret_key=SECRET, lookup_pepper=PEPPER)
        app = create_app(settings)
        try:
            world = build_world(app.state.db)
            client = TestClient(app, raise_server_exceptions=False)

            def auth(name: str) -> dict[str, str]:
                tok, _ = make_token(secret=SECRET, sub=world.user(name).id, kind="access",
                                    ttl=timedelta(minutes=5))
                return {"Authorization": f"Bearer {tok}"}

            r = client.post("/api/v1/work-orders", headers=auth("dispatcher1"), json={
                "account_id": world.accounts["acc1"].id, "description": "race"})
            oid = r.json()["id"]
            client.post(f"/api/v1/work-orders/{oid}/dispatch", headers=auth("dispatcher1"),
                        json={"assignee_id": world.user("crew1").id})
            device = "device-race-0001"
            shared_op = _op(oid, device, 1)
            own_ops = [_op(oid, device, 2 + i) for i in range(4)]
            statuses: list[int] = []
            results: list[dict[str, Any]] = []
            lock = threading.Lock()

            def push(ops: list[dict[str, Any]]) -> None:
                resp = client.post("/api/v1/sync/push", headers=auth("crew1"), json={
                    "protocol": 1, "device_id": device, "sent_at": utcnow().isoformat(),
                    "ops": ops})
                with lock:
                    statuses.append(resp.status_code)
                    if resp.status_code == 200:
                        results.extend(resp.json()["results"])

            threads = [threading.Thread(target=push, args=([shared_op, own],))
                       for own in own_ops]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert statuses == [200] * 4
            shared = [x["status"] for x in results if x["op_id"] == shared_op["op_id"]]
            assert sorted(shared) == ["applied"] + ["duplicate"] * 3
            with Session(app.state.db.reader) as s:
                assert s.execute(select(func.count()).select_from(Device)).scalar() == 1
                assert s.execute(select(func.count()).select_from(AppliedOp)).scalar() == 5
                notes = s.execute(select(func.count()).select_from(WorkOrderEvent).where(
                    WorkOrderEvent.action == "add_note")).scalar()
                assert notes == 5
        finally:
            app.state.db.dispose()
