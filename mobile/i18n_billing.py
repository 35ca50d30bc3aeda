"""The app's strings for balances, recharges, cash and purchase counts (zh, en).

Merged into ``mobile.i18n.STRINGS`` (keep this module free of app imports)."""

from __future__ import annotations

BILLING_STRINGS: dict[str, tuple[str, str]] = {
    # -- tabs and titles
    "tab_inbox": ("消息", "Inbox"),
    "tab_cash": ("收费", "Cash"),
    "recharge_title": ("充值", "Recharge"),
    "history_title": ("充值记录与用电", "History and usage"),
    "count_fix_title": ("购电次数更正", "Purchase count"),
    # -- balance card
    "alert_ok": ("余额正常", "Balance OK"),
    "alert_low": ("余额不足，请及时充值", "Low balance: please recharge"),
    "alert_arrears": ("已欠费，请尽快充值", "In arrears: please recharge"),
    "supply_off": ("已停电：充值到账后自动恢复供电", "Supply is off: it is restored after a "
                   "recharge is credited"),
    "supply_off_care": ("已欠费。您在关怀名单上，不会自动停电。", "In arrears. You are on the "
                        "care list: supply is not cut automatically."),
    "recharge": ("充值", "Recharge"),
    "history": ("记录", "History"),
    "purchase_count": ("购电次数", "Purchase count"),
    # -- recharge flow
    "amount_yuan": ("充值金额（元）", "Amount (yuan)"),
    "amount_invalid": ("金额应为 {min}–{max} 元，最多两位小数",
                       "Enter {min}–{max} yuan, at most two decimals"),
    "pay_online": ("在线支付", "Pay online"),
    "needs_connection": ("在线支付需要网络连接。现在离线，请联网后再试。",
                         "Online payment needs a connection. You are offline: try again "
                         "when online."),
    "creating_order": ("正在创建订单…", "Creating the order…"),
    "open_pay_page": ("打开支付页面", "Open payment page"),
    "pay_hint": ("请在支付页面完成付款，本页会自动更新。",
                 "Pay on the payment page; this screen updates by itself."),
    "step_pending": ("待支付", "Pending"),
    "step_paid": ("已支付", "Paid"),
    "step_credited": ("已到账", "Credited"),
    "step_declined": ("支付未成功", "Payment declined"),
    "receipt": ("充值凭证", "Receipt"),
    "receipt_no": ("凭证号", "Receipt number"),
    "amount": ("金额", "Amount"),
    "balance_after": ("充值后余额", "Balance after"),
    "paid_at": ("到账时间", "Credited at"),
    "new_recharge": ("再充一笔", "Another recharge"),
    "done": ("完成", "Done"),
    "checking_payment": ("正在查询支付状态…", "Checking the payment…"),
    # -- history, usage
    "no_entries": ("暂无记录", "Nothing yet"),
    "kind_usage_charge": ("电费扣款", "Usage charge"),
    "kind_recharge_online": ("在线充值", "Online recharge"),
    "kind_recharge_cash": ("现金充值", "Cash recharge"),
    "kind_swap_carry_over": ("换表结转", "Meter swap carry-over"),
    "kind_correction": ("调账", "Correction"),
    "kind_refund": ("退款", "Refund"),
    "kind_opening_balance": ("期初余额", "Opening balance"),
    "kind_adjustment": ("换表余额差异调整", "Meter swap balance adjustment"),
    "by_day": ("按日", "By day"),
    "by_month": ("按月", "By month"),
    "tier_n": ("第{n}档", "Tier {n}"),
    "month_usage": ("{month}：{kwh} 千瓦时，{tier}", "{month}: {kwh} kWh, {tier}"),
    "tier_legend": ("颜色表示当月累计用电所在阶梯", "Colour: the month's tier reached"),
    "recharges": ("充值与扣款记录", "Recharges and charges"),
    "usage_chart": ("用电量（千瓦时）", "Usage (kWh)"),
    # -- inbox
    "no_messages": ("暂无消息", "No messages"),
    # -- agent cash
    "cash_new": ("现金充值", "Cash recharge"),
    "account_no_field": ("户号", "Account number"),
    "receipt_no_field": ("收据号", "Receipt number"),
    "record_cash": ("记录现金充值", "Record cash recharge"),
    "cash_saved": ("已记录，将自动上传", "Recorded; it uploads automatically"),
    "cash_unknown_account": ("本机没有户号 {no}。请先同步，或联系营业厅。",
                             "Account {no} is not on this phone. Sync first, or ask the "
                             "office."),
    "my_accounts_hint": ("本机户号：{list}", "Accounts on this phone: {list}"),
    "today_summary": ("今日现金汇总", "Today's cash"),
    "summary_line": ("{n} 笔，合计 {total}", "Receipts: {n} · total {total}"),
    "summary_pending": ("其中 {n} 笔待上传", "{n} not uploaded yet"),
    "cash_pending": ("待上传", "Pending"),
    "cash_sent": ("已上传", "Sent"),
    "cash_synced": ("已入账", "Credited"),
    "cash_rejected": ("被拒绝", "Refused"),
    "correct_count": ("更正购电次数", "Correct a purchase count"),
    # -- purchase count
    "meter_or_account": ("表号或户号", "Meter or account number"),
    "new_count": ("新的购电次数", "New purchase count"),
    "reason": ("原因", "Reason"),
    "current_count": ("当前购电次数：{n}", "Current purchase count: {n}"),
    "submit_count": ("提交更正", "Submit correction"),
    "count_changed": ("已更正：{old} → {new}", "Corrected: {old} → {new}"),
    "count_invalid": ("请输入 0–65535 的整数", "Enter a whole number 0–65535"),
    "count_unknown_meter": ("本机没有表号或户号 {no}", "No meter or account {no} on this phone"),
    "online_only": ("需要网络连接", "Needs a connection"),
}
