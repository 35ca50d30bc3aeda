"""Generated pushes (issue 8, items 4 and 24): ops made of valid envelopes with any one
field replaced by a random JSON value -- huge integers, floats, text, nesting -- mixed
with good ops. Whatever comes: never a server error, one result per op in order, each
bad op refused alone with ``SYNC_OP_INVALID``, each good op applied. (The whole API's
schemathesis run is ``test_fuzz_api.py``; this one aims at the envelope.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.ids import new_id
from tests.conftest import SharedApp, svc_act, svc_report
from tests.integration.sync_kit import op, push_raw

FIELDS = ("op_id", "device_id", "device_seq", "lane", "lane_prev", "type", "entity_id",
          "base_version", "payload", "photos", "created_at")
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=120),
    lambda inner: st.lists(inner, max_size=25) | st.dictionaries(st.text(max_size=8), inner,
                                                                  max_size=4),
    max_leaves=30)


@pytest.fixture(scope="module")
def env(template_db: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    shared = SharedApp(template_db, tmp_path_factory.mktemp("push_fuzz"))
    oid = svc_report(shared.db, shared.world, "dispatcher1",
                     account_id=shared.world.accounts["acc1"].id)
    svc_act(shared.db, shared.world, "dispatcher1", oid, "dispatch",
            assignee_id=shared.world.user("crew1").id)
    shared.order_id = oid  # type: ignore[attr-defined]
    yield shared
    shared.close()


COUNTER = iter(range(1, 10**9))


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_item24_generated_envelopes_never_fail_the_push(env: Any, data: Any) -> None:
    crew = env.api("crew1")
    plan = data.draw(st.lists(st.sampled_from(FIELDS) | st.none(), min_size=1, max_size=6))
    ops: list[Any] = []
    for spoil in plan:
        good = op(next(COUNTER), "work_order.add_note@1", env.order_id, {"text": "fuzz"})
        if spoil is not None:
            value = data.draw(JSON)
            if spoil in ("lane_prev", "base_version") and value is None:
                value = "x"  # (null is valid there)
            good[spoil] = value
        ops.append(good)
    ops.insert(data.draw(st.integers(0, len(ops))), data.draw(JSON))  # not even an object
    r = push_raw(crew, ops)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(ops)
    for sent, result in zip(ops, results, strict=True):
        if result["status"] == "rejected" and result["code"] == "SYNC_OP_INVALID":
            assert result["details"]["errors"], result
            continue
        assert isinstance(sent, dict)
        assert result["op_id"] == sent["op_id"]
        assert result["status"] in ("applied", "rejected", "deferred"), result


def test_item24_a_push_of_extreme_integers_is_answered(env: Any) -> None:
    crew = env.api("crew1")
    ops = [{**op(2**62 + 1, "work_order.add_note@1", env.order_id, {"text": "x"}),
            "device_seq": value} for value in (2**63, 2**64, -(2**63) - 1, 10**30)]
    r = push_raw(crew, [*ops, op(2**62 + 2, "work_order.add_note@1", env.order_id,
                                 {"text": "the valid one"})])
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["rejected"] * 4 + ["applied"]
    assert new_id()  # (ids are still made: the app lives on)
