"""The zh/en message catalogue, labels, translate() and Accept-Language negotiation."""

from __future__ import annotations

import re
import string

import pytest

from shared.enums import Priority, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode, FieldErrors
from shared.messages import (
    ACTION_LABELS,
    ERRORS,
    KIND_LABELS,
    PRIORITY_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    label,
    negotiate,
    normalize_lang,
    translate,
)
from shared.workorders.state_machine import Action

CJK = re.compile(r"[\u4e00-\u9fff]")
# ASCII plus the typographic dashes English prose may use
ENGLISH_OK = re.compile(r"^[\x20-\x7e–—]*$")


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


# -- the catalogue ------------------------------------------------------------------------
@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_error_code_has_zh_and_en(code: ErrorCode) -> None:
    assert code in ERRORS
    zh, en = ERRORS[code]
    assert zh.strip() and en.strip()
    assert CJK.search(zh), zh
    assert not CJK.search(en), en
    assert ENGLISH_OK.match(en), en
    assert zh != en
    # both languages take the same parameters
    assert placeholders(zh) == placeholders(en)


@pytest.mark.parametrize("code", list(ErrorCode))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_translate_every_code_without_params_never_raises(code: ErrorCode, lang: str) -> None:
    msg = translate(code, lang)
    assert msg
    assert msg == ERRORS[code][0 if lang == "zh" else 1]  # placeholders left visible


@pytest.mark.parametrize(
    ("table", "members"),
    [
        (STATUS_LABELS, list(WorkOrderStatus)),
        (KIND_LABELS, list(WorkOrderKind)),
        (ROLE_LABELS, list(Role)),
        (PRIORITY_LABELS, list(Priority)),
        (ACTION_LABELS, [a.value for a in Action]),
    ],
    ids=["status", "kind", "role", "priority", "action"],
)
def test_every_label_in_both_languages(table: dict[object, tuple[str, str]],
                                       members: list[object]) -> None:
    assert set(table) == set(members)
    for member in members:
        zh, en = table[member]
        assert CJK.search(zh), member
        assert en.strip() and ENGLISH_OK.match(en) and not CJK.search(en), member
        assert label(member, "zh") == zh  # type: ignore[arg-type]
        assert label(member, "en") == en  # type: ignore[arg-type]


def test_label_values_are_unambiguous_across_tables() -> None:
    keys = [str(k) for t in (STATUS_LABELS, KIND_LABELS, ROLE_LABELS, PRIORITY_LABELS,
                             ACTION_LABELS) for k in t]
    assert len(keys) == len(set(keys))


def test_label_examples_and_unknowns() -> None:
    assert label(WorkOrderStatus.DISPATCHED, "zh") == "已派单"
    assert label("dispatched", "en") == "Dispatched"
    assert label(Action.ACCEPT.value, "zh") == "接单"
    assert label(WorkOrderKind.METER_SWAP, "en") == "Meter swap"
    assert label("no-such-thing", "en") == "no-such-thing"


# -- translate ---------------------------------------------------------------------------
def test_translate_fills_placeholders() -> None:
    assert translate(ErrorCode.METER_NOT_FOUND, "en", meter="M-1") == "Meter M-1 not found."
    assert translate(ErrorCode.METER_NOT_FOUND, "zh", meter="M-1") == "找不到电表 M-1。"
    assert translate("METER_NOT_FOUND", "en", meter=42) == "Meter 42 not found."


def test_translate_turns_status_and_action_into_labels() -> None:
    zh = translate(ErrorCode.WO_TRANSITION_NOT_ALLOWED, "zh", status="dispatched",
                   action="resolve")
    assert zh == "工单当前状态为“已派单”，不能执行“完成处理”。"
    en = translate(ErrorCode.WO_TRANSITION_NOT_ALLOWED, "en",
                   status=WorkOrderStatus.CLOSED, action=Action.CANCEL)
    assert en == "The work order is 'Closed'; 'cancel' is not possible now."


def test_explicit_label_wins_over_derived_one() -> None:
    msg = translate(ErrorCode.WO_NOT_ASSIGNEE, "en", action="accept", action_label="GRAB")
    assert "'GRAB'" in msg


def test_translate_leaves_missing_placeholder_visible() -> None:
    assert translate(ErrorCode.READING_BELOW_LAST, "en", value="5") == (
        "The reading 5 is below the last recorded reading {last}.")
    assert translate(ErrorCode.SWAP_NEW_METER_NOT_IN_STOCK, "zh") == (
        "新表 {meter} 不是库存状态（当前：{status}），不能安装。")


def test_translate_does_not_reinterpret_braces_in_values() -> None:
    msg = translate(ErrorCode.METER_NOT_FOUND, "en", meter="{last}{0}")
    assert msg == "Meter {last}{0} not found."


def test_translate_ignores_extra_params() -> None:
    assert translate(ErrorCode.AUTH_REQUIRED, "en", foo="bar") == "Please sign in first."


def test_translate_unknown_code_returns_the_code() -> None:
    assert translate("NO_SUCH_CODE", "en") == "NO_SUCH_CODE"
    assert translate("NO_SUCH_CODE", "zh", x=1) == "NO_SUCH_CODE"


@pytest.mark.parametrize(("lang", "expected"),
                         [("en", "en"), ("en-US", "en"), ("EN", "en"), ("zh", "zh"),
                          ("zh-CN", "zh"), ("fr", "zh"), ("", "zh"), (None, "zh")])
def test_normalize_lang(lang: str | None, expected: str) -> None:
    assert normalize_lang(lang) == expected
    msg = translate(ErrorCode.FORBIDDEN, lang)  # type: ignore[arg-type]
    assert bool(CJK.search(msg)) is (expected == "zh")


def test_domain_errors_render_in_both_languages() -> None:
    err = DomainError(ErrorCode.READING_BELOW_LAST, value="1.00", last="2.00")
    assert translate(err.code, "en", **err.details) == (
        "The reading 1.00 is below the last recorded reading 2.00.")
    fe = FieldErrors({"a": DomainError(ErrorCode.SWAP_PHOTOS_REQUIRED),
                      "b": DomainError(ErrorCode.METER_NOT_FOUND, meter="M9")})
    assert fe.code == ErrorCode.SWAP_PHOTOS_REQUIRED
    assert fe.details["fields"] == {"a": {"code": "SWAP_PHOTOS_REQUIRED"},
                                    "b": {"code": "METER_NOT_FOUND", "meter": "M9"}}
    assert translate(fe.code, "zh", **fe.details) == "须拍摄新旧电表表面照片。"


# -- negotiate ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-CN", "zh"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr, en;q=0.5", "en"),
        ("fr-FR,fr;q=0.9,en-GB;q=0.4,zh;q=0.3", "en"),
        ("en;q=0.3, zh-TW;q=0.7", "zh"),
        ("zh;q=0.2, en;q=0.8", "en"),
        ("en; q=0.9, zh; q=0.95", "zh"),
        ("zh, en", "zh"),  # equal weight: the first listed
        ("en, zh", "en"),
        ("EN-us", "en"),
        ("*", "zh"),
        ("de, fr", "zh"),
        (None, "zh"),
        ("", "zh"),
        ("garbage", "zh"),
        (";;;,,,q=", "zh"),
        ("en;q=abc, zh;q=0.1", "zh"),
        # q=0 means "not acceptable" (RFC 9110 §12.4.2)
        ("en;q=0", "zh"),
        ("fr, en;q=0", "zh"),
        ("zh;q=0, en;q=0.1", "en"),
        ("en;Q=0.1, zh;q=0.5", "zh"),  # the parameter name is case-insensitive
    ],
)
def test_negotiate(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected
