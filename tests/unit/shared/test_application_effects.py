"""What a completed application does to its account (``shared.applications.effects``):
pure decisions, no I/O."""

from __future__ import annotations

from typing import Any

import pytest

from shared.accounts import AccountStatus, check_open
from shared.applications.effects import AccountFacts, check_capacity_request, effect_of
from shared.applications.kinds import ApplicationKind
from shared.errors import DomainError, ErrorCode

K = ApplicationKind
OPEN = AccountFacts(account_no="7700000001", status="active", balance_fen=4412, capacity_kw=8)


def app(kind: ApplicationKind, **over: Any) -> dict[str, Any]:
    return {"kind": kind.value, "capacity_kw": 12, "contact_phone": "13700002222",
            "applicant_name": "Wang Fang", "id_card_digest": "d" * 64,
            "id_card_masked": "430***********1234", **over}


def test_new_connections_change_no_existing_account() -> None:
    assert effect_of(app(K.NEW_RESIDENTIAL), OPEN) is None
    assert effect_of(app(K.NEW_NON_RESIDENTIAL), OPEN) is None


@pytest.mark.parametrize(("kind", "changes"), [
    (K.CAPACITY_INCREASE, {"capacity_kw": 12}),
    (K.CAPACITY_DECREASE, {"capacity_kw": 12}),
    (K.CONTACT_CHANGE, {"phone": "13700002222"}),
    (K.NAME_TRANSFER, {"name": "Wang Fang", "id_card_digest": "d" * 64,
                       "id_card_masked": "430***********1234", "phone": "13700002222"}),
])
def test_changes_move_no_money(kind: ApplicationKind, changes: dict[str, Any]) -> None:
    effect = effect_of(app(kind), OPEN)
    assert effect is not None
    assert (effect.changes, effect.refund_fen, effect.close) == (changes, 0, False)
    assert effect.audit_action == f"account.{kind.value}"


def test_closing_refunds_what_is_left() -> None:
    effect = effect_of(app(K.CLOSE_ACCOUNT), OPEN)
    assert effect is not None
    assert effect.changes == {"status": AccountStatus.CLOSED.value}
    assert (effect.refund_fen, effect.close, effect.audit_action) == (4412, True,
                                                                      "account.close")
    empty = effect_of(app(K.CLOSE_ACCOUNT), AccountFacts("7700000001", "active", 0))
    assert empty is not None and empty.refund_fen == 0


def test_an_account_in_arrears_is_not_closed() -> None:
    with pytest.raises(DomainError) as err:
        effect_of(app(K.CLOSE_ACCOUNT), AccountFacts("7700000001", "active", -1050))
    assert err.value.code == ErrorCode.APP_CLOSE_IN_ARREARS
    assert err.value.details == {"account": "7700000001", "amount": "10.50"}


@pytest.mark.parametrize("kind", [k for k in K if not k.value.startswith("new")])
def test_a_closed_account_changes_no_more(kind: ApplicationKind) -> None:
    closed = AccountFacts("7700000001", "closed", 0, 8)
    with pytest.raises(DomainError) as err:
        effect_of(app(kind), closed)
    assert err.value.code == ErrorCode.ACCOUNT_CLOSED
    with pytest.raises(DomainError):
        check_open("closed", account_no="7700000001")
    check_open("active", account_no="7700000001")


def test_capacity_requests_go_the_way_their_kind_says() -> None:
    check_capacity_request(K.CAPACITY_INCREASE, 12, 8)
    check_capacity_request(K.CAPACITY_DECREASE, 6, 8)
    check_capacity_request(K.CAPACITY_INCREASE, 6, None)  # nothing on record: any
    check_capacity_request(K.NEW_RESIDENTIAL, 6, 8)
    for kind, kw in ((K.CAPACITY_INCREASE, 8), (K.CAPACITY_INCREASE, 6),
                     (K.CAPACITY_DECREASE, 8), (K.CAPACITY_DECREASE, 12)):
        with pytest.raises(DomainError) as err:
            check_capacity_request(kind, kw, 8)
        assert err.value.code == ErrorCode.APP_FIELD_INVALID
        assert err.value.details["field"] == "capacity_kw"
