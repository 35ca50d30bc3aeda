"""Customer notices (inbox and SMS) in Simplified Chinese and English.

``render(kind, lang, **params)`` gives ``(title, body)``; amounts are passed in fen and
shown in yuan.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from shared.money import fen_to_yuan
from shared.outages import OUTAGE_TEXTS
from shared.workorders.notices import JOB_TEXTS


class NoticeKind(StrEnum):
    LOW_BALANCE = "low_balance"
    ARREARS = "arrears"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    RECHARGE_CREDITED = "recharge_credited"
    PAYMENT_DECLINED = "payment_declined"
    JOB_DISPATCHED = "job_dispatched"
    JOB_EN_ROUTE = "job_en_route"
    JOB_ARRIVED = "job_arrived"
    JOB_RESOLVED = "job_resolved"
    JOB_REOPENED = "job_reopened"
    OUTAGE_PLANNED = "outage_planned"
    OUTAGE_CANCELLED = "outage_cancelled"


_TEXTS: dict[NoticeKind, tuple[tuple[str, str], tuple[str, str]]] = {
    NoticeKind.LOW_BALANCE: (
        ("电费余额不足",
         "户号 {account_no} 电费余额 {balance} 元{days_zh}，请及时充值，以免停电。"),
        ("Low balance", "Account {account_no} has {balance} yuan left{days_en}. Please "
                        "recharge soon to avoid a cut."),
    ),
    NoticeKind.ARREARS: (
        ("电费已欠费", "户号 {account_no} 已欠费 {arrears} 元，请尽快充值。"),
        ("Account in arrears", "Account {account_no} is {arrears} yuan in arrears. Please "
                               "recharge as soon as possible."),
    ),
    NoticeKind.DISCONNECT: (
        ("停电通知", "户号 {account_no} 余额 {balance} 元，已安排远程停电。充值后将自动复电。"),
        ("Supply to be cut", "Account {account_no} has a balance of {balance} yuan; a remote "
                             "disconnection is on its way. Supply returns after a recharge."),
    ),
    NoticeKind.RECONNECT: (
        ("复电通知", "户号 {account_no} 充值后余额 {balance} 元，已安排远程复电。"),
        ("Supply restored", "Account {account_no} now has {balance} yuan; a remote "
                            "reconnection is on its way."),
    ),
    NoticeKind.RECHARGE_CREDITED: (
        ("充值到账", "户号 {account_no} 充值 {amount} 元已到账，当前余额 {balance} 元。"
                    "凭证号 {receipt_no}。"),
        ("Recharge credited", "{amount} yuan credited to account {account_no}; balance now "
                              "{balance} yuan. Receipt {receipt_no}."),
    ),
    NoticeKind.PAYMENT_DECLINED: (
        ("支付未成功", "户号 {account_no} 的 {amount} 元充值未支付成功，未扣款。"),
        ("Payment declined", "The {amount} yuan recharge of account {account_no} was not "
                             "paid; nothing was charged."),
    ),
}


_TEXTS.update({NoticeKind(k): v for k, v in (JOB_TEXTS | OUTAGE_TEXTS).items()})


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(kind: NoticeKind | str, lang: str, **params: Any) -> tuple[str, str]:
    zh, en = _TEXTS[NoticeKind(kind)]
    title, body = en if lang == "en" else zh
    values = _Lenient(params)
    for key in ("balance", "amount"):
        if key in params:
            values[key] = str(fen_to_yuan(int(params[key])))
    if "balance" in params:
        values["arrears"] = str(fen_to_yuan(max(0, -int(params["balance"]))))
    days = params.get("days_left")
    values["days_zh"] = f"，预计可用 {days} 天" if days is not None else ""
    values["days_en"] = f" (about {days} days)" if days is not None else ""
    return title.format_map(values), body.format_map(values)
