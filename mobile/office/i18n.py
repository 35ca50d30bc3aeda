"""The office screens' strings in Simplified Chinese and English.

``t(key, lang, **params)`` looks here first, then in the app's own table
(``mobile.i18n``), so the office reuses the app's words (time, status labels) and only
adds its own. The supervision screens keep theirs in ``i18n_supervision.py``
(``STRINGS``), merged in here when present.
"""

from __future__ import annotations

import importlib
import string
from typing import Any

from mobile import i18n as app_i18n
from shared.messages import label, normalize_lang

__all__ = ["STRINGS", "label", "t"]

STRINGS: dict[str, tuple[str, str]] = {
    # -- the frame
    "office_title": ("GridOne 调度台", "GridOne office"),
    "page_board": ("调度看板", "Dispatch board"),
    "page_hotline": ("热线受理", "Hotline report"),
    "page_roster": ("班组值班", "Crew roster"),
    "page_map": ("工单地图", "Job map"),
    "page_admin": ("系统管理", "Administration"),
    "conn_lost": ("与服务器的连接已断开，正在重试；显示的内容可能已过时。",
                  "Connection to the server lost; retrying. What you see may be out of date."),
    "conn_back": ("已重新连接服务器", "Connected to the server again"),
    "live_on": ("实时更新", "Live"),
    "inbox": ("通知", "Notifications"),
    "inbox_empty": ("没有通知", "No notifications"),
    "mark_read": ("标为已读", "Mark read"),
    "unread_n": ("{n} 条未读", "{n} unread"),
    "language": ("语言", "Language"),
    "signed_in_as": ("{name}（{role}）", "{name} ({role})"),
    "sign_out": ("退出登录", "Sign out"),
    "retry": ("重试", "Retry"),
    "close": ("关闭", "Close"),
    "loading": ("正在加载…", "Loading…"),
    "none": ("无", "none"),
    "all": ("全部", "All"),
    "not_allowed_here": ("此页面不适用于您的角色。", "This page is not for your role."),
}


def _register(module: str) -> None:
    try:
        extra = importlib.import_module(module)
    except ModuleNotFoundError:
        return
    STRINGS.update(getattr(extra, "STRINGS", {}))


_register("mobile.office.i18n_supervision")


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str, **params: Any) -> str:
    """The office string ``key`` in ``lang`` (falls back to the app's strings)."""
    pair = STRINGS.get(key)
    if pair is None:
        return app_i18n.t(key, lang, **params)
    text = pair[1] if normalize_lang(lang) == "en" else pair[0]
    return string.Formatter().vformat(text, (), _Lenient(params)) if params else text
