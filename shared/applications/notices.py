"""Inbox notices of an application's progress, in Simplified Chinese and English."""

from __future__ import annotations

from typing import Any

from shared.applications.kinds import ApplicationKind, DocKind, Step
from shared.applications.rules import AppStatus
from shared.messages import _Lenient, normalize_lang

KIND_LABELS: dict[str, tuple[str, str]] = {
    ApplicationKind.NEW_RESIDENTIAL: ("居民新装", "New connection (residential)"),
    ApplicationKind.NEW_NON_RESIDENTIAL: ("非居民新装", "New connection (non-residential)"),
    ApplicationKind.CAPACITY_INCREASE: ("增容", "Capacity increase"),
    ApplicationKind.CAPACITY_DECREASE: ("减容", "Capacity decrease"),
    ApplicationKind.NAME_TRANSFER: ("过户", "Name transfer"),
    ApplicationKind.CONTACT_CHANGE: ("联系方式变更", "Contact change"),
    ApplicationKind.CLOSE_ACCOUNT: ("销户", "Closing the account"),
}
STEP_LABELS: dict[str, tuple[str, str]] = {
    Step.ACCEPTANCE: ("受理", "Acceptance"),
    Step.SITE_SURVEY: ("现场勘查", "Site survey"),
    Step.SCHEME: ("方案与审批", "Scheme and approval"),
    Step.INSTALLATION: ("装表接电", "Installation"),
    Step.ARCHIVE: ("资料归档", "Archive"),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    AppStatus.OPEN: ("办理中", "In progress"),
    AppStatus.RETURNED: ("待补正", "Returned to you"),
    AppStatus.COMPLETED: ("已完成归档", "Completed and archived"),
    AppStatus.REJECTED: ("未通过", "Refused"),
    AppStatus.CANCELLED: ("已撤回", "Withdrawn"),
}
DOC_LABELS: dict[str, tuple[str, str]] = {
    DocKind.ID_CARD: ("身份证", "ID card"),
    DocKind.PROPERTY_CERT: ("房产证", "Property certificate"),
    DocKind.BUSINESS_LICENCE: ("营业执照", "Business licence"),
}

#: event -> ((zh title, zh body), (en title, en body))
_TEXTS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "submitted": (("申请已提交", "您的{kind}申请 {code} 已提交，等待受理。"),
                  ("Application received", "Your {kind} application {code} was received "
                                           "and waits for acceptance.")),
    "step": (("申请进度更新", "申请 {code} 已进入“{step}”环节，办理人：{holder}，"
                            "预计 {due} 前完成。"),
             ("Application progress", "Application {code} has reached '{step}', held by "
                                      "{holder}, due by {due}.")),
    "returned": (("申请需补正", "申请 {code} 被退回：{reason}。请补充：{documents}。"
                                "已提交的资料均已保留。"),
                 ("Application returned", "Application {code} was returned: {reason}. "
                                          "Please add: {documents}. Everything you sent is "
                                          "kept.")),
    "completed": (("申请已办结", "申请 {code} 已办结并归档。{extra}欢迎评价本次服务。"),
                  ("Application completed", "Application {code} is completed and archived. "
                                            "{extra}Please rate our service.")),
    "rejected": (("申请未通过", "申请 {code} 未通过：{reason}。"),
                 ("Application refused", "Application {code} was refused: {reason}.")),
}
EVENTS = tuple(_TEXTS)


def pick(table: dict[str, tuple[str, str]], key: str, lang: str) -> str:
    pair = table.get(key)
    if pair is None:
        return key
    return pair[1] if normalize_lang(lang) == "en" else pair[0]


def render(event: str, lang: str, **params: Any) -> tuple[str, str]:
    """``(title, body)`` of a notice; ``kind``, ``step`` and ``documents`` (comma-separated
    document kinds) are shown by their labels."""
    en = normalize_lang(lang) == "en"
    values = _Lenient(params)
    if "kind" in params:
        values["kind"] = pick(KIND_LABELS, str(params["kind"]), lang)
    if "step" in params:
        values["step"] = pick(STEP_LABELS, str(params["step"]), lang)
    if "documents" in params:
        docs = [pick(DOC_LABELS, d, lang) for d in str(params["documents"]).split(",") if d]
        values["documents"] = (", " if en else "、").join(docs) or ("—")
    title, body = _TEXTS[event][1 if en else 0]
    return title, body.format_map(values)
