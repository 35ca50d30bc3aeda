"""The protocol's models as the wire sees them."""

from __future__ import annotations

from sync.protocol import OpResult, OpStatus


def test_an_applied_answer_built_without_validation_is_the_validated_answer() -> None:
    fast = OpResult.applied("op-1", "work_order", "job-1", 7)
    slow = OpResult(op_id="op-1", status=OpStatus.APPLIED, entity="work_order",
                    entity_id="job-1", version=7)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_dump(exclude_unset=True)["version"] == 7


def test_applied_answers_share_no_state() -> None:
    first, second = OpResult.applied("a", "work_order", "j", 1), OpResult.applied(
        "b", "work_order", "j", 2)
    first.message = "changed"
    first.__pydantic_fields_set__.discard("row")
    assert second.message is None and "row" in second.__pydantic_fields_set__
    assert (second.op_id, second.version) == ("b", 2)
