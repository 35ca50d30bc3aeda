"""Helpers for the server-side sync tests: envelopes, pushes as raw JSON, jobs set up
through the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import PROTOCOL_VERSION
from tests.conftest import svc_act, svc_report

DEVICE = "device-crew1-0001"
PUSH = "/api/v1/sync/push"


def op(seq: int, type_: str, order_id: str, payload: dict[str, Any] | None = None, *,
       lane_prev: str | None = None, device: str = DEVICE,
       created_at: datetime | None = None) -> dict[str, Any]:
    """One op envelope as a device sends it."""
    return {"op_id": new_id(), "device_id": device, "device_seq": seq,
            "lane": f"work_order:{order_id}", "lane_prev": lane_prev, "type": type_,
            "entity_id": order_id, "payload": payload or {}, "photos": [],
            "created_at": (created_at or utcnow()).isoformat()}


def push_raw(api: Any, ops: list[Any], *, device: str = DEVICE,
             protocol: Any = PROTOCOL_VERSION, sent_at: datetime | None = None) -> Any:
    """The HTTP response of a push (any JSON values as ops)."""
    return api.post(PUSH, json={"protocol": protocol, "device_id": device,
                                "sent_at": (sent_at or utcnow()).isoformat(), "ops": ops})


def push(api: Any, ops: list[Any], **kw: Any) -> list[dict[str, Any]]:
    """The results of a push that must be answered 200."""
    r = push_raw(api, ops, **kw)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["results"]
    assert len(results) == len(ops)
    return results


def dispatched_job(db: Any, world: Any, crew: str = "crew1",
                   at: datetime | None = None) -> str:
    """A fault job of acc1, reported and dispatched to ``crew`` through the services,
    ``at`` (default: an hour ago, so ops made in the last hour are plausible)."""
    at = at or utcnow() - timedelta(hours=1)
    oid = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="No power since noon", at=at)
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user(crew).id,
            at=at)
    return oid


def change_log_plans(db: Any, call: Any) -> tuple[Any, list[str]]:
    """``call()``'s answer, and SQLite's plan (``EXPLAIN QUERY PLAN``, its steps joined by
    " / ") of each statement reading the change log that it ran on the reader."""
    from sqlalchemy import event

    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any,
                _many: bool) -> None:
        if "FROM change_log" in statement:
            seen.append((statement, parameters))

    event.listen(db.reader, "before_cursor_execute", capture)
    try:
        answer = call()
    finally:
        event.remove(db.reader, "before_cursor_execute", capture)
    raw = db.reader.raw_connection()
    try:
        return answer, [" / ".join(r[3] for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", p))
                        for sql, p in seen]
    finally:
        raw.close()
