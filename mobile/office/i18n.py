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


def _add(table: dict[str, tuple[str, str]]) -> None:
    """The office's strings, each key once (the app's own may differ: these come first)."""
    app_i18n.merge_strings(STRINGS, table)


def _register(module: str) -> None:
    try:
        extra = importlib.import_module(module)
    except ModuleNotFoundError:
        return
    _add(getattr(extra, "STRINGS", {}))


_register("mobile.office.i18n_supervision")
_register("mobile.office.i18n_monitoring")
_register("mobile.office.i18n_appraisal")
_register("mobile.office.i18n_care")


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, lang: str, **params: Any) -> str:
    """The office string ``key`` in ``lang`` (falls back to the app's strings)."""
    pair = STRINGS.get(app_i18n.counted(STRINGS, key, params))
    if pair is None:
        return app_i18n.t(key, lang, **params)
    text = pair[1] if normalize_lang(lang) == "en" else pair[0]
    return string.Formatter().vformat(text, (), _Lenient(params)) if params else text

_add({
    # -- the board
    "list_unassigned": ("待派单", "Unassigned"),
    "list_dispatched": ("已派未接", "Not accepted"),
    "list_in_progress": ("处理中", "In progress"),
    "list_overdue": ("超时", "Overdue"),
    "list_stalled": ("停滞", "Stalled"),
    "list_awaiting_confirmation": ("待客户确认", "Awaiting confirmation"),
    "station": ("供电所", "Station"),
    "area": ("台区", "Area"),
    "kind": ("类型", "Kind"),
    "priority": ("优先级", "Priority"),
    "search_board": ("搜索：工单号、户号、电话、地址", "Search: code, account, phone, address"),
    "refresh": ("刷新", "Refresh"),
    "col_code": ("工单号", "Code"),
    "col_kind": ("类型", "Kind"),
    "col_priority": ("优先级", "Priority"),
    "col_status": ("状态", "Status"),
    "col_area": ("台区", "Area"),
    "col_address": ("地址", "Address"),
    "col_age": ("已受理", "Age"),
    "col_sla": ("时限", "Deadline"),
    "col_assignee": ("处理人", "Assignee"),
    "col_flags": ("提示", "Flags"),
    "no_rows": ("此列表为空", "Nothing in this list"),
    "page_of": ("第 {a}–{b} 条，共 {n} 条", "{a}–{b} of {n}"),
    "prev_page": ("上一页", "Previous page"),
    "next_page": ("下一页", "Next page"),
    "stalled_because": ("停滞：{why}", "Stalled: {why}"),
    "help_requested": ("请求支援", "Help requested"),
    "n_selected": ("已选 {n} 单", "{n} selected"),
    "crew": ("人员", "Crew"),
    "bulk_assign": ("派给所选人员", "Assign to crew"),
    "bulk_priority": ("设优先级", "Set priority"),
    "bulk_cancel": ("撤销所选", "Cancel selected"),
    "bulk_done": ("完成 {done} 单，失败 {failed} 单", "{done} done, {failed} failed"),
    "bulk_failed": ("以下工单未能处理：", "These jobs were not changed:"),
    "reason": ("原因", "Reason"),
    "reason_needed": ("请填写原因", "Please give a reason"),
    "account": ("户号", "Account"),
    "contact": ("联系人", "Contact"),
    "description": ("描述", "Description"),
    "timeline": ("处理过程", "Timeline"),
    "suggested_crew": ("建议人选", "Suggested crew"),
    "assign_to": ("派给 {name}", "Assign to {name}"),
    "assign": ("派单", "Assign"),
    "on_duty": ("值班", "on duty"),
    "off_duty": ("未值班", "off duty"),
    "open_jobs_n": ("手头 {n} 单", "{n} open jobs"),
    "open_jobs_n_1": ("手头 1 单", "1 open job"),
    "same_area": ("同台区", "same area"),
    "cancel_job": ("撤销工单", "Cancel job"),
    "set_priority": ("优先级：", "Priority:"),
    "assigned_to": ("{code} 已派给 {name}", "{code} assigned to {name}"),
    "cancelled_job": ("{code} 已撤销", "{code} cancelled"),
    "priority_set": ("{code} 优先级改为 {p}", "{code} priority set to {p}"),
})

_add({
    # -- hotline
    "find_caller": ("查找来电客户", "Find the caller"),
    "search_accounts": ("户号、电话或姓名", "Account no., phone or name"),
    "search": ("查找", "Search"),
    "search_needed": ("请输入户号、电话或姓名", "Enter an account number, phone or name"),
    "no_accounts": ("没有找到客户", "No account found"),
    "account_needed": ("请先选择客户户号", "Choose the caller's account first"),
    "description_needed": ("请描述情况", "Please describe the problem"),
    "too_long": ("最多 {n} 个字", "At most {n} characters"),
    "phone_invalid": ("电话应为 5–20 位数字", "Phone must be 5–20 digits"),
    "new_job": ("新工单", "New job"),
    "report_channel_hotline": ("热线", "Hotline"),
    "report_channel_counter": ("柜台", "Counter"),
    "contact_name": ("联系人", "Contact name"),
    "contact_phone": ("联系电话", "Contact phone"),
    "address_field": ("地点", "Location / address"),
    "describe": ("情况描述", "Description"),
    "submit_report": ("受理并生成工单", "Create the job"),
    "report_created": ("已生成工单 {code}", "Job {code} created"),
    "open_on_board": ("在看板中派单", "Dispatch it on the board"),
    "next_call": ("受理下一个", "Next call"),
    "balance_short": ("余额 {b}", "balance {b}"),
    "care_list": ("关怀户", "care list"),
    "chosen_account": ("已选客户", "Caller's account"),
})

_add({
    # -- roster
    "role": ("岗位", "Role"),
    "duty": ("值班", "On duty"),
    "duty_why": ("依据", "Why"),
    "duty_by_manager": ("所长标记（当天）", "marked by a manager today"),
    "duty_by_sign_in": ("近期在手机上登录", "signed in on their phone recently"),
    "duty_none": ("今天未标记，也未登录", "no mark today, not signed in"),
    "open_jobs": ("手头工单", "Open jobs"),
    "last_position": ("最近位置", "Last known position"),
    "position_at": ("{lat}, {lon}（{when}到达现场时）", "{lat}, {lon} ({when}, on arrival)"),
    "no_position": ("暂无定位", "not known"),
    "phone": ("电话", "Phone"),
    "mark_on": ("标为值班", "Mark on duty"),
    "mark_off": ("标为休息", "Mark off duty"),
    "duty_yes": ("值班", "On duty"),
    "duty_no": ("休息", "Off duty"),
})

_add({
    # -- map
    "map_no_tiles": ("未配置地图瓦片服务：标记显示在空白底图上。",
                     "No map tile server is set: markers are shown on a plain background."),
    "map_tiles_failed": ("地图瓦片服务无法访问：标记显示在空白底图上。",
                         "The map tile server cannot be reached: markers are shown on a plain "
                         "background."),
    "map_truncated": ("只显示最紧急的 1000 个工单。", "Only the 1000 most urgent jobs are shown."),
    "legend_job": ("工单", "Job"),
    "legend_overdue": ("超时/停滞", "Overdue / stalled"),
    "legend_crew": ("人员最近位置", "Crew, last known position"),
    "jobs_n": ("{n} 个工单", "{n} jobs"),
    "jobs_n_1": ("1 个工单", "1 job"),
    "crews_n": ("{n} 名人员", "{n} crews"),
    "crews_n_1": ("1 名人员", "1 crew"),
})

_add({
    # -- admin
    "stall_rules": ("停滞与升级规则", "Stall and escalation rules"),
    "stall_rules_help": ("阈值为分钟（“多次返工”为次数）；停滞先通知所长，"
                         "持续超过升级时限后通知县调度。每张工单每级只通知一次。",
                         "Thresholds are minutes ('reopened repeatedly': times). A stalled job "
                         "is told to the station manager, and to the county dispatcher when it is "
                         "still stalled after the escalation delay; once per job and level."),
    "rule_trigger": ("规则", "Rule"),
    "rule_kind": ("工单类型", "Job kind"),
    "any_kind": ("全部类型", "every kind"),
    "threshold": ("阈值", "Threshold"),
    "escalate_after": ("升级时限（分钟）", "Escalate after (min)"),
    "rule_active": ("启用", "Active"),
    "save": ("保存", "Save"),
    "switch_off": ("停用", "Switch off"),
    "switch_on": ("启用", "Switch on"),
    "whole_number": ("请输入整数", "Enter a whole number"),
    "run_stall_now": ("立即检查停滞", "Check for stalls now"),
    "stall_run_result": ("检查 {checked} 单，停滞 {stalled} 单（新增 {newly_stalled}），"
                         "解除 {cleared} 单；通知所长 {level1_sent} 条、县调度 {level2_sent} 条",
                         "{checked} checked, {stalled} stalled ({newly_stalled} new), "
                         "{cleared} cleared; {level1_sent} level-1 and {level2_sent} "
                         "level-2 notices"),
    "scheduler": ("定时任务", "Scheduler"),
    "scheduler_missing": ("此服务器没有定时任务状态接口。", "This server has no scheduler status."),
    "job_name": ("任务", "Job"),
    "last_run": ("上次运行", "Last run"),
    "next_run": ("下次运行", "Next run"),
    "last_status": ("结果", "Result"),
    "last_error": ("最近错误", "Last error"),
    "runs": ("次数", "Runs"),
})

# planned outages and the cash hand-over sheet (issue 15)
_add({
    "page_outages": ("停电通知", "Outages"),
    "page_cash": ("收费交款", "Cash hand-over"),
    "outage_new": ("发布计划停电通知", "Publish a planned outage"),
    "outage_areas": ("台区", "Areas"),
    "outage_from": ("开始（年-月-日 时:分）", "From (YYYY-MM-DD HH:MM)"),
    "outage_to": ("结束（年-月-日 时:分）", "To (YYYY-MM-DD HH:MM)"),
    "outage_reason": ("停电原因", "Reason"),
    "outage_publish": ("发布并通知客户", "Publish and tell the customers"),
    "outage_published": ("已发布，已通知 {n} 户", "Published: {n} accounts told"),
    "outage_time_format": ("时间格式应为 年-月-日 时:分，如 2026-12-02 09:00",
                           "Times look like 2026-12-02 09:00"),
    "outage_list": ("未结束的停电通知", "Notices not over yet"),
    "outage_none": ("没有未结束的停电通知", "No notices"),
    "outage_when": ("时间", "When"),
    "outage_live": ("已发布", "Published"),
    "outage_cancelled": ("已取消", "Cancelled"),
    "outage_cancel": ("取消通知", "Cancel notice"),
    "handover_done": ("已确认 {name} 的交款", "Hand-over of {name} confirmed"),
    # cancelling a notice asks why (the customers are told it)
    "outage_cancel_title": ("取消停电通知", "Cancel a planned outage"),
    "outage_cancel_hint": ("请说明取消原因：已通知的客户会在取消消息中看到。",
                           "Say why it is cancelled: the customers told of the outage read "
                           "it in their notice."),
    "outage_cancel_reason": ("取消原因（必填）", "Reason for cancelling (required)"),
    "outage_keep": ("不取消", "Keep the notice"),
    "outage_cancel_confirm": ("确认取消", "Cancel the notice"),
    "outage_cancel_done": ("已取消 {areas} 的停电通知，已告知客户取消原因",
                           "Notice for {areas} cancelled; the customers are told why"),
    "outage_cancelled_why": ("已取消：{reason}", "Cancelled: {reason}"),
    # the hand-over: what the counter counted against what was recorded
    "handover_how": ("逐一清点收据和现金，输入清点结果：与记录一致即可确认，不一致须填写差异说明。",
                     "Count the receipts and the cash and enter what you counted: it must "
                     "match the records, or a note must explain the difference."),
    "handover_counted_receipts": ("清点收据（张）", "Receipts counted"),
    "handover_counted_cash": ("清点现金（元）", "Cash counted (yuan)"),
    "handover_enter_count": ("请输入清点的收据张数和现金金额",
                             "Enter the receipts and the cash you counted"),
    "handover_matches": ("与记录一致", "Matches the records"),
    "handover_differs": ("与记录不符：记录 {recorded}，清点 {counted}，差额 {difference}。"
                         "请重新清点，或填写差异说明后确认。",
                         "Does not match the records: recorded {recorded}, counted "
                         "{counted}, difference {difference}. Count again, or explain the "
                         "difference in a note."),
    "handover_tally": ("{n} 笔 {total}", "{n} receipts, {total}"),
    "handover_tally_1": ("1 笔 {total}", "1 receipt, {total}"),
    "handover_note": ("备注（选填）", "Note (optional)"),
    "handover_note_required": ("差异说明（必填）", "Why it differs (required)"),
    "handover_note_needed": ("请填写差异说明（{min}–{max} 个字）后再确认",
                             "Explain the difference here ({min}–{max} characters) to "
                             "confirm"),
    "handover_count_invalid": ("收据张数应为整数，现金金额最多两位小数。",
                               "Receipts are a whole number; cash is in yuan with at most "
                               "two decimals."),
    "confirm_with_discrepancy": ("按有差异确认", "Confirm with a discrepancy"),
    "handover_done_discrepancy": ("已按有差异确认 {name} 的交款",
                                  "Hand-over of {name} confirmed with a discrepancy"),
    "handover_confirmed_discrepancy": ("营业厅已按有差异确认（{by}）",
                                       "Confirmed by the counter with a discrepancy ({by})"),
    "handover_recorded_counted": ("记录 {recorded}；清点 {counted}；差额 {difference}",
                                  "Recorded {recorded}; counted {counted}; difference "
                                  "{difference}"),
    "handover_note_was": ("差异说明：{note}", "Note: {note}"),
})
