"""The care list page's form checks a request with the shared rule before sending it and
says each problem in its field (zh and en): the account, a reason, a category, a review
date after today and within two years; a removal needs only its reason. The list filters
by category and account, and says which reviews are due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from mobile.office.context import OfficeContext
from mobile.office.state.care import CareState
from mobile.office.state.shell import OfficeShellState
from shared.enums import Role

NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)  # 16:00 in China: today is 2026-11-27
ZW = {"id": "acc-zw", "account_no": "7700000100", "name": "张伟", "address": "解放路 18 号"}


class Lang:
    def __init__(self, lang: str = "en") -> None:
        self.lang = lang


def state(lang: str = "en", role: Role = Role.AGENT) -> CareState:
    octx = OfficeContext(client=Lang(lang), shell=OfficeShellState(role=role))  # type: ignore[arg-type]
    return CareState(octx, role=role, clock=lambda: NOW)


def entry(no: str, name: str, category: str, review_on: str) -> dict[str, Any]:
    return {"account_id": f"acc-{no}", "account_no": no, "account_name": name,
            "category": category, "reason": "r", "review_on": review_on,
            "added_by": "u1", "approved_by": "u2"}


def test_an_add_needs_account_reason_category_and_a_future_review_date() -> None:
    s = state()
    assert s.review_text == "2027-05-28"  # half a year ahead is offered
    s.review_text = "2026-11-20"  # in the past
    assert s.check() is None
    assert s.field_errors == {
        "account_no": "Enter the account number",
        "reason": "Give a reason (at most 200 characters)",
        "category": "Choose a category",
        "review_on": "The review date must be after today and no later than 2028-11-26"}

    s.account, s.account_no = ZW, "7700000100"
    s.category, s.reason = "medical_equipment", "   "  # blank is no reason
    s.review_text = "2026-11-27"  # today is not after today
    assert s.check() is None
    assert set(s.field_errors) == {"reason", "review_on"}

    s.reason, s.review_text = "  oxygen concentrator at home ", "28/11/2026"
    assert s.check() is None
    assert s.field_errors == {"review_on": "A date like 2027-05-28"}

    s.review_text = "2028-11-27"  # beyond two years (730 days)
    assert s.check() is None and "no later than 2028-11-26" in s.field_errors["review_on"]

    s.review_text = "2027-03-01"
    assert s.check() == {"account_id": "acc-zw", "change": "add",
                         "category": "medical_equipment",
                         "reason": "oxygen concentrator at home", "review_on": "2027-03-01"}
    assert s.field_errors == {} and s.form_error == ""


def test_the_field_errors_are_said_in_chinese() -> None:
    s = state("zh")
    s.review_text = "2026-01-01"
    assert s.check() is None
    assert s.field_errors == {"account_no": "请输入户号",
                              "reason": "请填写原因（最多 200 个字）",
                              "category": "请选择关怀类别",
                              "review_on": "复核日期须在明天至 2028-11-26 之间"}


def test_a_listed_account_is_not_added_twice_and_a_removal_needs_its_reason() -> None:
    s = state()
    s.entries = [entry("7700000100", "张伟", "disability", "2027-01-01")]
    s.entries[0]["account_id"] = "acc-zw"
    s.account, s.account_no = ZW, "7700000100"
    s.category, s.reason = "disability", "wheelchair user"
    assert s.check() is None and s.form_error == "The account is already on the care list."

    s.start_remove(s.entries[0])
    assert (s.change, s.account_no, s.account["id"]) == ("remove", "7700000100", "acc-zw")
    s.review_text = "not a date"  # not asked for a removal
    assert s.check() is None and s.field_errors == {
        "reason": "Give a reason (at most 200 characters)"}
    s.reason = "moved to her daughter's"
    assert s.check() == {"account_id": "acc-zw", "change": "remove",
                         "reason": "moved to her daughter's"}
    s.start_add()
    assert (s.change, s.account, s.reason) == ("add", None, "")


def test_typing_another_number_forgets_the_looked_up_account() -> None:
    s = state()
    s.account, s.account_no = ZW, "7700000100"
    s.set_account_no("7700000100 ")
    assert s.account == ZW
    s.set_account_no("7700000101")
    assert s.account is None


def test_the_list_filters_by_category_and_account_and_flags_due_reviews() -> None:
    s = state()
    s.entries = [entry("7700000100", "张伟", "medical_equipment", "2027-01-01"),
                 entry("7700000200", "李秀英", "elderly_alone", "2026-11-27"),
                 entry("7700000300", "Wang Fang", "elderly_alone", "2026-10-01")]
    assert [s.overdue(e) for e in s.entries] == [False, True, True]
    s.category_filter = "elderly_alone"
    assert [e["account_no"] for e in s.shown()] == ["7700000200", "7700000300"]
    s.query = "wang"
    assert [e["account_no"] for e in s.shown()] == ["7700000300"]
    s.category_filter, s.query = "", "0100"
    assert [e["account_name"] for e in s.shown()] == ["张伟"]


def test_a_refusal_without_a_reason_is_not_sent() -> None:
    s = state()
    assert not asyncio.run(s.decide("req-1", False))  # the fake client has no calls
    assert s.row_errors == {"req-1": "Say why you refuse"}
    assert s.decides and not state(role=Role.CREW).decides
