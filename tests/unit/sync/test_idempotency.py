"""Exactly once (``sync.idempotency.gate``): where an op stands against the records of ops
decided before, in the protocol's order."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from shared.ids import new_id
from sync.idempotency import Decided, Gate, gate
from sync.protocol import OpEnvelope, canonical_hash

DEVICE, USER = "phone-0001", "user-1"


def op(**kw: Any) -> OpEnvelope:
    base: dict[str, Any] = dict(op_id=new_id(), device_id=DEVICE, device_seq=1,
                                lane="work_order:o", type="work_order.accept@1",
                                entity_id=new_id(), payload={},
                                created_at=datetime(2026, 1, 1, tzinfo=UTC))
    base.update(kw)
    return OpEnvelope(**base)


def record(o: OpEnvelope, status: str = "applied", user: str = USER) -> Decided:
    return Decided.of({"op_id": o.op_id, "user_id": user, "entity_id": o.entity_id,
                       "content_hash": o.content_hash(), "status": status, "code": None,
                       "details": {}, "result": {}})


def where(o: OpEnvelope, known: dict[str, Decided], device: str = DEVICE) -> Gate:
    return gate(o, content_hash=o.content_hash(), device_id=device, user_id=USER,
                known=known)[0]


def test_a_new_op_with_no_predecessor_is_decided_by_the_domain() -> None:
    assert where(op(), {}) == Gate.NEW


def test_the_same_op_again_is_answered_from_its_record() -> None:
    first = op()
    assert where(first, {first.op_id: record(first)}) == Gate.DECIDED
    other_content = op(op_id=first.op_id, payload={"x": 1})
    assert where(other_content, {first.op_id: record(first)}) == Gate.OP_ID_REUSED
    assert where(first, {first.op_id: record(first, user="user-2")}) == Gate.OP_ID_REUSED


def test_an_op_waits_for_its_lane_predecessor_and_is_held_behind_a_rejected_one() -> None:
    prev = op()
    later = op(lane_prev=prev.op_id)
    assert where(later, {}) == Gate.PREDECESSOR_MISSING
    assert where(later, {prev.op_id: record(prev, "rejected")}) == Gate.PREDECESSOR_REJECTED
    assert where(later, {prev.op_id: record(prev)}) == Gate.NEW


def test_another_devices_op_is_refused_first() -> None:
    first = op()
    assert where(first, {first.op_id: record(first)}, device="phone-9999") == (
        Gate.DEVICE_MISMATCH)


# An op sent again months later must hash as it did when it was recorded: the hash is
# always taken of the json module's canonical text, however it is computed.
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(st.characters(codec="utf-8") | st.just("\ud800")),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=4),
    max_leaves=12)


# Where orjson and the json module write differently (``sync.protocol._hash`` must fall
# back to the json module for each): DEL, non-ASCII text, floats, NaN, integers over 64
# bits, a lone surrogate, non-text keys; and plain values, which orjson writes.
@example(payload="\x7f", text="")
@example(payload="电表", text="")
@example(payload=1e-05, text="")
@example(payload=1e16, text="")
@example(payload=float("nan"), text="")
@example(payload=2**70, text="")
@example(payload={"k": "\ud800"}, text="")
@example(payload={1: "a"}, text="")
@example(payload={"b": [True, None, -3, {}]}, text="\x01\t\n\"\\/")
@given(payload=_JSON_VALUES, text=st.text())
def test_an_ops_content_hash_is_the_sha256_of_the_json_modules_canonical_text(
        payload: Any, text: str) -> None:
    body = {"type": "wo_add_note", "entity_id": new_id(), "payload": {"v": payload, "t": text},
            "lane": text, "photos": [], "device_id": "phone-1"}
    legacy = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    assert canonical_hash(body) == hashlib.sha256(legacy.encode()).hexdigest()
    envelope = OpEnvelope.model_construct(
        type=body["type"], entity_id=body["entity_id"], payload=body["payload"],
        lane=text, photos=[], device_id="phone-1")
    assert envelope.content_hash() == canonical_hash(body)
