"""The care-list page's strings (用电关怀): merged into ``mobile.office.i18n.STRINGS``."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "page_care": ("关怀户", "Care list"),
    "care_help": ("列入关怀名单的用户欠费时不会自动停电，余额不足时提前提醒并安排上门关怀；"
                  "到复核日期时生成回访工单。加入或移出须一人提交、另一人审批后才生效，"
                  "任何人不能审批自己的申请，每次变更均记入审计日志。",
                  "Accounts on the care list are never cut off automatically, are alerted "
                  "earlier and get a care visit when the balance runs low; their review date "
                  "raises a visit job. Adding or removing takes two people: one asks, another "
                  "approves, nobody approves their own request, and every change is audited."),
    # -- categories
    "care_cat_elderly_alone": ("独居老人", "Elderly living alone"),
    "care_cat_disability": ("残疾人", "Disability"),
    "care_cat_medical_equipment": ("家用医疗设备", "Home medical equipment"),
    "care_cat_low_income": ("低保户", "Low income"),
    "care_cat_other": ("其他", "Other"),
    # -- the list
    "care_entries": ("关怀名单（{n} 户）", "On the care list ({n})"),
    "care_filter": ("按户号或姓名筛选", "Filter by account no. or name"),
    "care_all_categories": ("全部类别", "All categories"),
    "care_col_account": ("户号", "Account no."),
    "care_col_customer": ("客户", "Customer"),
    "care_col_category": ("类别", "Category"),
    "care_col_reason": ("原因", "Reason"),
    "care_col_review": ("复核日期", "Review date"),
    "care_col_added": ("提交人", "Added by"),
    "care_col_approved": ("批准人", "Approved by"),
    "care_overdue": ("{day}（已到期）", "{day} (review due)"),
    "care_remove": ("移出名单", "Remove"),
    "care_empty": ("名单中没有用户", "Nobody is on the list"),
    "care_no_match": ("没有符合筛选条件的用户", "Nobody matches the filter"),
    # -- the form
    "care_add_title": ("加入关怀名单", "Add to the care list"),
    "care_remove_title": ("移出关怀名单", "Remove from the care list"),
    "care_account_no": ("户号", "Account no."),
    "care_find": ("查户", "Look up"),
    "care_account_line": ("{no} {name} · {address}", "{no} {name} · {address}"),
    "care_category": ("关怀类别", "Category"),
    "care_reason": ("原因", "Reason"),
    "care_review_on": ("复核日期（年-月-日）", "Review date (YYYY-MM-DD)"),
    "care_review_help": ("明天至 {max} 之间", "after today, by {max}"),
    "care_ask_add": ("提交加入申请", "Ask to add"),
    "care_ask_remove": ("提交移出申请", "Ask to remove"),
    "care_back_to_add": ("改为加入其他用户", "Add another account instead"),
    "care_sent": ("已提交：须由另一人审批后生效", "Recorded: it takes effect when another "
                  "person approves it"),
    # -- field errors
    "care_need_account": ("请输入户号", "Enter the account number"),
    "care_no_account": ("找不到户号 {no}", "No account {no}"),
    "care_need_reason": ("请填写原因（最多 {n} 个字）", "Give a reason (at most {n} characters)"),
    "care_need_category": ("请选择关怀类别", "Choose a category"),
    "care_bad_date": ("日期格式应为 年-月-日，如 {example}", "A date like {example}"),
    "care_date_range": ("复核日期须在明天至 {max} 之间", "The review date must be after today "
                        "and no later than {max}"),
    # -- requests
    "care_requests": ("变更申请", "Requests"),
    "care_st_pending": ("待审批", "Pending"),
    "care_st_approved": ("已批准", "Approved"),
    "care_st_refused": ("已驳回", "Refused"),
    "care_change_add": ("加入名单", "Add to list"),
    "care_change_remove": ("移出名单", "Take off list"),
    "care_reason_line": ("原因：{reason}", "Reason: {reason}"),
    "care_asked_line": ("提交人：{who} · {when}", "Asked by: {who} · {when}"),
    "care_review_line": ("复核日期 {day}", "Review date {day}"),
    "care_approve": ("批准", "Approve"),
    "care_refuse": ("驳回", "Refuse"),
    "care_refuse_note": ("驳回原因", "Reason to refuse"),
    "care_refuse_needs_note": ("驳回时请填写原因", "Say why you refuse"),
    "care_approved_add": ("已批准：{no} {name} 已列入关怀名单",
                          "Approved: {no} {name} is on the care list"),
    "care_approved_remove": ("已批准：{no} {name} 已移出关怀名单",
                             "Approved: {no} {name} is off the care list"),
    "care_refused_ok": ("已驳回，名单未变", "Refused: the list is unchanged"),
    "care_no_requests": ("没有申请", "No requests"),
    "care_decided": ("审批人：{who} · {when}", "Decided by {who} · {when}"),
}
