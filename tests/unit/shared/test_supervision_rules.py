"""Four eyes and the review sample as pure rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.supervision import (
    REQUEST_ROLES,
    ApprovalKind,
    check_decision,
    check_percent,
    check_request,
    sample_bucket,
    sampled,
)


def refusal(fn, **kw) -> ErrorCode:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        fn(**kw)
    return exc.value.code


def test_nobody_decides_their_own_request_and_the_order_of_refusals() -> None:
    base = {"status": "pending", "requested_by": "u1", "approve": True}
    check_decision(**base, actor_id="u2", actor_role=Role.MANAGER)
    check_decision(**base, actor_id="u2", actor_role=Role.ADMIN)
    assert refusal(check_decision, **base, actor_id="u1",
                   actor_role=Role.MANAGER) == ErrorCode.APPROVAL_OWN_REQUEST
    assert refusal(check_decision, **{**base, "approve": False}, actor_id="u1",
                   actor_role=Role.MANAGER) == ErrorCode.APPROVAL_OWN_REQUEST
    for role in (Role.AGENT, Role.DISPATCHER, Role.CREW, Role.CUSTOMER):
        # the role first: an agent is told it may not, not that it is their own
        assert refusal(check_decision, **base, actor_id="u1",
                       actor_role=role) == ErrorCode.FORBIDDEN
    assert refusal(check_decision, **{**base, "status": "approved"}, actor_id="u1",
                   actor_role=Role.MANAGER) == ErrorCode.APPROVAL_CLOSED


def test_who_records_what() -> None:
    check_request(ApprovalKind.REFUND, Role.AGENT)
    check_request(ApprovalKind.DISCREPANCY_SETTLE, Role.DISPATCHER)
    assert refusal(check_request, kind=ApprovalKind.REFUND,
                   role=Role.DISPATCHER) == ErrorCode.FORBIDDEN
    assert all(Role.ADMIN not in roles and Role.CUSTOMER not in roles
               for roles in REQUEST_ROLES.values())


@given(st.integers(min_value=0, max_value=10**11 - 1), st.integers(min_value=0, max_value=100))
def test_the_sample_takes_the_codes_below_the_percentage(n: int, percent: int) -> None:
    code = f"WO{n:011d}"
    assert sample_bucket(code) == n % 100
    assert sampled(code, percent) == (n % 100 < percent)
    assert sampled(code, 100) and not sampled(code, 0)


def test_percent_is_a_whole_number_0_to_100() -> None:
    assert check_percent(0) == 0 and check_percent(100) == 100
    for bad in (-1, 101, 5.5, True, "5"):
        assert refusal(check_percent, value=bad) == ErrorCode.VALIDATION_ERROR
