"""The app's own strings in Simplified Chinese and English.

Status, kind, role, priority and action names come from ``shared.messages.label``; error
codes (from the server or from the rules run on the phone) from
``shared.messages.translate``. Everything else a screen says is here, keyed by name.
``t(key, lang, **params)`` fills ``{placeholders}``; an unknown key is shown as itself.
"""

from __future__ import annotations

import string
from datetime import datetime, timedelta
from typing import Any

from shared.messages import label, normalize_lang, translate
from shared.timeutil import LOCAL_TZ

__all__ = ["STRINGS", "ago", "countdown", "fmt_time", "label", "lang_from_locale", "t",
           "translate"]

STRINGS: dict[str, tuple[str, str]] = {
    "app_name": ("GridOne 电力一站通", "GridOne"),
    "tagline": ("抢修 · 换表 · 用电服务", "Repairs · meter swaps · customer service"),
    # -- login
    "server_url": ("服务器地址", "Server URL"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "sign_in": ("登录", "Sign in"),
    "signing_in": ("正在登录…", "Signing in…"),
    "sign_out": ("退出登录", "Sign out"),
    "sign_out_pending": ("还有 {n} 项未上传。退出后这些记录保留在本机，"
                         "下次登录同一账号后继续上传。",
                         "{n} changes are not uploaded yet. They stay on this device and are "
                         "sent when this user signs in again."),
    "cancel": ("取消", "Cancel"),
    "confirm": ("确定", "OK"),
    "login_failed_offline": ("无法连接服务器。首次登录需要网络。",
                             "Cannot reach the server. The first sign-in needs a connection."),
    "login_fields": ("请填写用户名和密码。", "Enter your user name and password."),
    "login_required_fields": ("请填写服务器地址、用户名和密码。",
                              "Enter the server URL, user name and password."),
    "session_expired": ("登录已失效，请重新登录（未上传的记录不会丢失）。",
                        "Your sign-in has expired; sign in again (nothing unsent is lost)."),
    # -- shell
    "online": ("在线", "Online"),
    "offline": ("离线", "Offline"),
    "syncing": ("同步中", "Syncing"),
    "pending_n": ("待上传 {n}", "{n} pending"),
    "all_synced": ("已全部上传", "All synced"),
    "tab_jobs": ("我的工单", "My jobs"),
    "tab_accounts": ("我的户号", "My accounts"),
    # the bottom bar's label where the title is too long for a sixth of a phone's width
    "nav_accounts": ("我的户号", "Accounts"),
    "tab_faults": ("报修", "Faults"),
    "tab_sync": ("同步", "Sync"),
    "tab_settings": ("设置", "Settings"),
    "back": ("返回", "Back"),
    "signed_in_as": ("{name}（{role}）", "{name} ({role})"),
    "signed_in_label": ("当前用户", "Signed in as"),
    "loading": ("正在下载数据…", "Downloading your data…"),
    # -- settings
    "language": ("语言", "Language"),
    "lang_auto": ("跟随系统", "Follow device"),
    "lang_zh": ("简体中文", "简体中文 (Chinese)"),
    "lang_en": ("English", "English"),
    "device_id": ("设备编号", "Device id"),
    "server": ("服务器", "Server"),
    "app_version": ("应用版本", "App version"),
    "office_not_here": ("这是外勤手机应用；办公室工作台请在电脑浏览器中打开 /office。",
                        "This is the field phone app; open the office desk at /office in "
                        "a desktop browser."),
    # -- sync screen
    "sync_title": ("同步状态", "Sync"),
    "sync_now": ("立即同步", "Sync now"),
    "last_success": ("上次成功同步", "Last successful sync"),
    "never": ("从未", "never"),
    "oldest_pending": ("最早待上传", "Oldest pending"),
    "photo_bytes_left": ("照片待上传", "Photo bytes left"),
    "photos_left": ("{n} 张照片，{size}", "{n} photo(s), {size}"),
    "nothing_pending": ("没有待上传的内容", "Nothing pending"),
    "ops_by_state": ("待上传操作", "Pending changes"),
    "state_pending": ("等待上传", "Waiting"),
    "state_sending": ("正在发送", "Sending"),
    "state_deferred": ("稍后重试", "Retrying later"),
    "state_held": ("暂缓（同一工单前一操作被拒）", "Held (an earlier change was refused)"),
    "state_rejected": ("被拒绝", "Refused"),
    "state_acked": ("已确认", "Acknowledged"),
    "rejected_title": ("被服务器拒绝的操作", "Changes the server refused"),
    "rejected_help": ("服务器已恢复该工单的实际状态。可以删除此记录，或修正后重试。",
                      "The job shows the server's state again. Discard this change, or "
                      "retry it after fixing the cause."),
    "discard": ("删除", "Discard"),
    "retry": ("重试", "Retry"),
    "last_error": ("最近错误", "Last error"),
    "upload_progress": ("照片上传 {done}/{total}", "Photos uploaded {done}/{total}"),
    "op_summary": ("{action} · {what}", "{action} · {what}"),
    # -- jobs
    "filter_open": ("进行中", "Open"),
    "filter_today": ("今日", "Today"),
    "filter_done": ("已完成", "Done"),
    "no_jobs": ("没有符合条件的工单", "No jobs here"),
    "due_in": ("剩余 {d}", "due in {d}"),
    "overdue_by": ("已超时 {d}", "overdue {d}"),
    "arrive_in": ("到场剩余 {d}", "arrive in {d}"),
    "sync_pending": ("待上传", "Not sent"),
    "sync_synced": ("已同步", "Synced"),
    "sync_rejected": ("被拒绝", "Refused"),
    "help_requested": ("已请求支援", "Help requested"),
    # -- job detail
    "customer": ("客户", "Customer"),
    "account": ("户号", "Account"),
    "meter": ("电表", "Meter"),
    "address": ("地址", "Address"),
    "open_map": ("打开地图", "Open map"),
    "description": ("故障描述", "Description"),
    "contact": ("联系人", "Contact"),
    "timeline": ("处理记录", "Timeline"),
    "photos": ("照片", "Photos"),
    "customer_photos": ("客户照片", "Customer's photos"),
    "deadline": ("时限", "Deadline"),
    "priority": ("优先级", "Priority"),
    "status": ("状态", "Status"),
    "note": ("备注", "Note"),
    "add_note": ("添加备注", "Add note"),
    "add_photo": ("添加照片", "Add photo"),
    "take_photo": ("拍照", "Take photo"),
    "pick_photo": ("从相册选择", "Choose photo"),
    "shutter": ("按快门", "Shutter"),
    "camera_starting": ("正在打开相机…", "Opening the camera…"),
    "camera_none": ("无法使用相机，请从相册选择照片。",
                    "The camera is not available; choose a photo instead."),
    "camera_taking": ("正在拍照…", "Taking the photo…"),
    "resolution": ("处理情况", "What was done"),
    "cause": ("故障原因", "Cause"),
    "help_reason": ("需要什么支援", "What help is needed"),
    "decline_reason": ("退单原因", "Reason for declining"),
    "arrive_gps": ("定位并到达", "Arrive (GPS)"),
    "arrive_manual": ("手动到达", "Arrive (manual)"),
    "gps_fix": ("定位 {lat}, {lon}（精度 {acc} 米）", "GPS {lat}, {lon} (±{acc} m)"),
    "gps_poor": ("定位精度差（{acc} 米），已记录并标注",
                 "Poor GPS fix (±{acc} m): kept, marked poor"),
    "gps_unavailable": ("无法定位：{why}。可手动确认到达。",
                        "No GPS fix: {why}. You can confirm arrival by hand."),
    "locating": ("正在定位…", "Getting a GPS fix…"),
    "manual_position": ("手动确认位置", "position confirmed by hand"),
    "photo_pending": ("待上传", "uploading"),
    "photo_uploaded": ("已上传", "uploaded"),
    "photo_added": ("照片已保存，将自动上传", "Photo saved; it uploads automatically"),
    "swap_form": ("录入换表", "Record meter swap"),
    "submit_note": ("保存备注", "Save note"),
    "submit_resolve": ("确认处理完成", "Confirm resolved"),
    "submit_help": ("发送支援请求", "Send help request"),
    "submit_decline": ("确认退单", "Confirm decline"),
    "submit_cancel": ("确认撤销", "Confirm cancellation"),
    "swap_recorded": ("换表已录入", "Meter swap recorded"),
    "not_found": ("此工单已不在本机（可能已改派）。", "This job is no longer on this device "
                  "(perhaps reassigned)."),
    "done_offline": ("已保存在本机，将自动上传", "Saved on this device; it uploads "
                     "automatically"),
    "event_by": ("{who}", "{who}"),
    "pending_mark": ("（待上传）", " (not sent)"),
    "rating_label": ("评分", "Rating"),
    # -- swap form
    "old_meter_no": ("旧表表号", "Old meter number"),
    "old_final_kwh": ("旧表止码（千瓦时）", "Old meter final reading (kWh)"),
    "old_remaining": ("旧表剩余金额（元）", "Old meter remaining balance (yuan)"),
    "new_meter_no": ("新表表号", "New meter number"),
    "new_start_kwh": ("新表起码（千瓦时）", "New meter start reading (kWh)"),
    "new_card_no": ("新购电卡号", "New card number"),
    "seal_numbers": ("封印号（逗号分隔）", "Seal numbers (comma separated)"),
    "old_face_photo": ("旧表表面照片", "Old meter face photo"),
    "new_face_photo": ("新表表面照片", "New meter face photo"),
    "save_swap": ("提交换表记录", "Submit swap"),
    "draft_saved": ("草稿已自动保存 {time}", "Draft autosaved {time}"),
    "not_in_register": ("不在本机表库中，已允许手动录入，由服务器核对",
                        "Not in this phone's register: entered by hand, the server checks it"),
    "in_register": ("表库中：{status}", "In register: {status}"),
    "register_size": ("本机表库 {n} 块库存表", "{n} meters in stock on this phone"),
    "last_reading": ("上次示数 {kwh} kWh（{time}）", "Last reading {kwh} kWh ({time})"),
    "not_a_number": ("请输入数字", "Enter a number"),
    "fix_errors": ("请先修正标红的项目", "Fix the fields marked in red first"),
    "photo_set": ("已拍摄", "taken"),
    "photo_missing": ("未拍摄", "missing"),
    # -- customer
    "balance": ("余额", "Balance"),
    "as_of": ("截至 {time}", "as of {time}"),
    "usage_30d": ("近 30 天日用电量（千瓦时）", "Daily usage, last 30 days (kWh)"),
    "no_usage": ("暂无用电数据", "No usage data yet"),
    "care_notice": ("您已列入用电关怀名单：欠费时不会自动停电，工作人员会先联系您。",
                    "You are on the care list: supply is never cut automatically; staff "
                    "will contact you first."),
    "report_fault": ("我要报修", "Report a fault"),
    "choose_account": ("选择户号", "Account"),
    "fault_description": ("故障描述", "Describe the fault"),
    "contact_phone": ("联系电话", "Contact phone"),
    "use_location": ("附上当前位置", "Add my location"),
    "location_added": ("位置 {lat}, {lon}（精度 {acc} 米）", "Location {lat}, {lon} (±{acc} m)"),
    "submit_report": ("提交报修", "Submit report"),
    "my_faults": ("我的报修", "My reports"),
    "no_faults": ("还没有报修记录", "No reports yet"),
    "assigned_crew": ("抢修人员", "Assigned crew"),
    "not_assigned": ("尚未派单", "Not assigned yet"),
    "expected_arrival": ("预计到达", "Expected arrival"),
    "rate_service": ("评价服务", "Rate the service"),
    "rating_comment": ("评价内容（可选）", "Comment (optional)"),
    "submit_rating": ("提交评价", "Submit rating"),
    "stars": ("{n} 星", "{n} stars"),
    "thanks_rating": ("感谢您的评价：{n} 星", "Thank you for rating: {n} stars"),
    "thanks_rating_1": ("感谢您的评价：1 星", "Thank you for rating: 1 star"),
    "report_saved": ("报修已保存，联网后自动提交", "Report saved; it is sent when online"),
    "description_required": ("请描述故障情况", "Please describe the fault"),
    "phone_invalid": ("电话应为 5–20 位数字", "Phone must be 5–20 digits"),
    "required": ("必填", "Required"),
    # -- time words
    "min": ("{n} 分钟", "{n} min"),
    "hours_min": ("{h} 小时 {m} 分", "{h} h {m} min"),
    "days_hours": ("{d} 天 {h} 小时", "{d} d {h} h"),
    "just_now": ("刚刚", "just now"),
    "ago": ("{d}前", "{d} ago"),
}


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def counted(strings: dict[str, tuple[str, str]], key: str, params: dict[str, Any]) -> str:
    """``key``, or its singular ``key_1`` when the count ``n`` is 1 and there is one
    ("1 job", not "1 jobs")."""
    return f"{key}_1" if params.get("n") == 1 and f"{key}_1" in strings else key


def t(key: str, lang: str, **params: Any) -> str:
    """The app string ``key`` in ``lang`` (zh or en), placeholders filled in; with ``n=1``
    the singular ``key_1`` if there is one."""
    pair = STRINGS.get(counted(STRINGS, key, params))
    if pair is None:
        return key
    text = pair[1] if normalize_lang(lang) == "en" else pair[0]
    return string.Formatter().vformat(text, (), _Lenient(params)) if params else text


def stars(n: int, lang: str) -> str:
    """"1 star", "2 stars" (Chinese has no plural)."""
    return t("star_1", lang) if n == 1 else t("stars", lang, n=n)


def lang_from_locale(locale: str | None) -> str:
    """zh or en from a device locale such as ``en_US``, ``zh-Hans-CN``; default Chinese."""
    return normalize_lang(locale.replace("_", "-") if locale else None)


def duration(delta: timedelta, lang: str) -> str:
    """A short human duration: ``35 min``, ``2 h 5 min``, ``3 d 4 h``."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 60:
        return t("min", lang, n=minutes)
    hours, mins = divmod(minutes, 60)
    if hours < 48:
        return t("hours_min", lang, h=hours, m=mins)
    days, hrs = divmod(hours, 24)
    return t("days_hours", lang, d=days, h=hrs)


def countdown(deadline: datetime, now: datetime, lang: str, *, key_ahead: str = "due_in"
              ) -> tuple[str, bool]:
    """(text, overdue) for a deadline seen at ``now``."""
    left = deadline - now
    if left.total_seconds() < 0:
        return t("overdue_by", lang, d=duration(left, lang)), True
    return t(key_ahead, lang, d=duration(left, lang)), False


def ago(when: datetime | None, now: datetime, lang: str) -> str:
    if when is None:
        return t("never", lang)
    delta = now - when
    if delta.total_seconds() < 60:
        return t("just_now", lang)
    return t("ago", lang, d=duration(delta, lang))


def fmt_time(when: datetime | None, lang: str, *, with_date: bool = True) -> str:
    """Local (China Standard Time) wall-clock time."""
    if when is None:
        return t("never", lang)
    local = when.astimezone(LOCAL_TZ)
    return local.strftime("%m-%d %H:%M" if with_date else "%H:%M")


def fmt_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


def merge_strings(into: dict[str, tuple[str, str]], table: dict[str, tuple[str, str]]
                  ) -> None:
    """Add ``table``'s strings to ``into``. A key already there with other words is a
    mistake (one screen would show the other's words, placeholders and all): refused,
    and nothing of ``table`` is added."""
    for key, pair in table.items():
        if into.get(key, pair) != pair:
            raise ValueError(f"string {key!r} defined twice: {into[key]} / {pair}")
    into.update(table)


def _register_billing() -> None:
    from mobile.i18n_apps import APP_STRINGS
    from mobile.i18n_billing import BILLING_STRINGS
    from mobile.i18n_phone import PHONE_STRINGS

    merge_strings(STRINGS, BILLING_STRINGS)
    merge_strings(STRINGS, PHONE_STRINGS)
    merge_strings(STRINGS, APP_STRINGS)


def _register_inspection() -> None:
    from mobile.i18n_inspection import INSPECTION_STRINGS

    merge_strings(STRINGS, INSPECTION_STRINGS)


def _register_appraisal() -> None:
    from mobile.i18n_appraisal import APPRAISAL_STRINGS

    merge_strings(STRINGS, APPRAISAL_STRINGS)


_register_billing()
_register_inspection()
_register_appraisal()
