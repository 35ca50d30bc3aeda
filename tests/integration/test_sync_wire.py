"""The lean wire: gzip answers when asked for, gzip-encoded push bodies (bounded), over
real HTTP (httpx's ASGI transport through the whole middleware stack)."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

import httpx

from shared.ids import new_id
from shared.timeutil import utcnow
from sync.protocol import MAX_PUSH_BYTES, PROTOCOL_VERSION
from tests.conftest import db_snapshot, svc_act, svc_report

DEVICE = "device-wire-0001"


def _note(order_id: str, seq: int, text: str = "wire note") -> dict[str, Any]:
    return {"op_id": new_id(), "device_id": DEVICE, "device_seq": seq,
            "lane": f"work_order:{order_id}", "lane_prev": None,
            "type": "work_order.add_note@1", "entity_id": order_id, "payload": {"text": text},
            "photos": [], "created_at": utcnow().isoformat()}


def _body(ops: list[dict[str, Any]]) -> bytes:
    return json.dumps({"protocol": PROTOCOL_VERSION, "device_id": DEVICE,
                       "sent_at": utcnow().isoformat(), "ops": ops}).encode()


def _job(db, world) -> str:
    oid = svc_report(db, world, "dispatcher1", account_id=world.accounts["acc1"].id,
                     description="wire test")
    svc_act(db, world, "dispatcher1", oid, "dispatch", assignee_id=world.user("crew1").id)
    return oid


def _raw(api, method: str, url: str, **kw: Any) -> httpx.Response:
    """A request whose answer is kept as sent (no transparent decoding)."""
    headers = {**api.headers, **kw.pop("headers", {})}
    req = api.client.build_request(method, url, headers=headers, **kw)
    return api.client.send(req, stream=True)


def test_pull_is_gzip_encoded_only_when_asked(as_user, db, world):
    _job(db, world)
    crew = as_user("crew1")
    plain = _raw(crew, "GET", "/api/v1/sync/pull", headers={"Accept-Encoding": "identity"})
    plain_bytes = b"".join(plain.iter_raw())
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    packed = _raw(crew, "GET", "/api/v1/sync/pull", headers={"Accept-Encoding": "gzip"})
    packed_bytes = b"".join(packed.iter_raw())
    assert packed.headers["content-encoding"] == "gzip"
    page = json.loads(gzip.decompress(packed_bytes))
    same = json.loads(plain_bytes)
    assert [c["id"] for c in page["changes"]] == [c["id"] for c in same["changes"]]
    assert len(packed_bytes) * 3 < len(plain_bytes)


def test_gzip_push_body_is_applied(as_user, db, world):
    oid = _job(db, world)
    crew = as_user("crew1")
    ops = [_note(oid, i + 1, f"note {i}") for i in range(50)]
    raw = _body(ops)
    packed = gzip.compress(raw)
    assert len(packed) * 4 < len(raw)
    r = crew.post("/api/v1/sync/push", content=packed,
                  headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 50


def test_gzip_bomb_is_413_and_changes_nothing(as_user, db, world):
    oid = _job(db, world)
    crew = as_user("crew1")
    before = db_snapshot(db, exclude=("rate_bucket", "device"))
    # A valid push padded past the limit once inflated (a few KB on the wire).
    padding = " " * (MAX_PUSH_BYTES + 10)
    raw = _body([_note(oid, 1)])[:-1] + padding.encode() + b"}"
    packed = gzip.compress(raw)
    assert len(packed) < 100_000
    r = crew.post("/api/v1/sync/push", content=packed,
                  headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert r.status_code == 413
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert db_snapshot(db, exclude=("rate_bucket", "device")) == before


def test_body_that_is_not_gzip_is_400(as_user, db, world):
    oid = _job(db, world)
    crew = as_user("crew1", lang="zh")
    for bad in (_body([_note(oid, 1)]), gzip.compress(_body([_note(oid, 1)]))[:-12],
                zlib.compress(b"{}")):
        r = crew.post("/api/v1/sync/push", content=bad,
                      headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "VALIDATION_ERROR"
        assert "gzip" in r.json()["message"]


def test_push_answer_leaves_out_null_fields_and_reads_back_the_same(as_user, db, world):
    """A result's null fields are not sent (2,000 applied notes: ~31 % fewer bytes to
    write, compress and read); the client's model reads them as null, and the nulls
    inside a row a rejection carries are kept."""
    from sync.protocol import OpResult, PushResponse

    oid = _job(db, world)
    crew = as_user("crew1")
    note = _note(oid, 1)
    resolve = {**_note(oid, 2), "type": "work_order.resolve@1",
               "payload": {"resolution": "fixed", "cause": "fuse"}}
    r = crew.post("/api/v1/sync/push", content=_body([note, resolve]),
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    applied, rejected = r.json()["results"]
    assert applied == {"op_id": note["op_id"], "status": "applied", "entity": "work_order",
                       "entity_id": oid, "version": applied["version"]}
    assert rejected["status"] == "rejected"
    assert rejected["code"] == "WO_TRANSITION_NOT_ALLOWED"
    assert "retry_after" not in rejected
    assert rejected["row"]["id"] == oid
    assert rejected["row"]["resolved_at"] is None  # a null inside the row is sent
    answer = PushResponse.model_validate_json(r.content)
    assert answer.results[0] == OpResult(op_id=note["op_id"], status="applied",
                                         entity="work_order", entity_id=oid,
                                         version=applied["version"])
    assert answer.results[1].retry_after is None
    assert answer.results[1].row == rejected["row"]
