"""Messages for the few codes only the device makes, then the shared catalogue."""

from __future__ import annotations

from typing import Any

from shared.messages import normalize_lang, translate

CLIENT_MESSAGES: dict[str, tuple[str, str]] = {
    "SYNC_CLIENT_GAVE_UP": (
        "多次上传均未成功，已暂停此操作。可重试或放弃。",
        "This change could not be uploaded after many tries and is paused; retry or discard it.",
    ),
    "SYNC_HELD": (
        "同一工单的前一操作被拒绝，此操作暂缓：请先处理被拒绝的操作。",
        "Held: an earlier change of this job was rejected; deal with that one first.",
    ),
    "SYNC_PHOTO_LOCAL_MISSING": (
        "照片文件已丢失或损坏，无法上传。",
        "The photo file is missing or damaged on this device and cannot be uploaded.",
    ),
    "SYNC_NOT_SIGNED_IN": ("请先登录。", "Please sign in."),
    "SYNC_OFFLINE": ("无法连接服务器，稍后自动重试。",
                     "Cannot reach the server; it will be retried automatically."),
}


def describe(code: str, lang: str, details: dict[str, Any] | None = None) -> str:
    pair = CLIENT_MESSAGES.get(code)
    if pair is not None:
        return pair[1] if normalize_lang(lang) == "en" else pair[0]
    return translate(code, lang, **(details or {}))
