"""The app's strings for notices, outages, bills, receipts and the field screens' fixes
(issue 15), zh and en. Merged into ``mobile.i18n.STRINGS`` (no app imports here)."""

from __future__ import annotations

PHONE_STRINGS: dict[str, tuple[str, str]] = {
    # -- inbox
    "unread_n": ("{n} 条未读", "{n} unread"),
    "mark_all_read": ("全部标为已读", "Mark all read"),
    "unread": ("未读", "Unread"),
    "open_job": ("查看工单", "Open the job"),
    # -- planned outages
    "outage_title": ("计划停电", "Planned outage"),
    "outage_line": ("{start} 至 {end}：{reason}", "{start} to {end}: {reason}"),
    "outage_cancelled": ("已取消", "Cancelled"),
    "outage_report_warning": (
        "您所在台区有计划停电（{start} 至 {end}，{reason}）。如果停电是因为它，无需报修；"
        "如有其他故障，仍可提交。",
        "A planned outage covers your area ({start} to {end}: {reason}). If that is why your "
        "power is off, there is no need to report it; for any other fault, send the report."),
    # -- customer job screen
    "still_not_fixed": ("仍未修好", "Still not fixed"),
    "reopen_reason": ("哪里还没修好？", "What is still not fixed?"),
    "submit_reopen": ("提交，请再来处理", "Send: please come back"),
    "cancel_reason": ("取消原因", "Reason for cancelling"),
    "submit_cancel_report": ("确认取消报修", "Cancel the report"),
    "keep_report": ("不取消", "Keep the report"),
    "rating_needed": ("请点选 1–5 颗星再提交。", "Tap 1 to 5 stars, then submit."),
    "star_1": ("1 星", "1 star"),
    # -- field phones
    "call": ("拨打 {phone}", "Call {phone}"),
    "me": ("我", "Me"),
    "the_office": ("调度中心", "The office"),
    "in_app_map": ("地图", "Map"),
    "navigate": ("导航", "Navigate"),
    "map_hide": ("收起地图", "Hide map"),
    "map_no_tiles_phone": ("未设置地图瓦片服务，仅显示位置",
                           "no tile server set: the position only"),
    "full_photo": ("查看原图", "Full photo"),
    "close": ("关闭", "Close"),
    "loading_photo": ("正在下载照片…", "Downloading the photo…"),
    "photo_unavailable": ("照片暂时无法下载（离线或尚未上传）。",
                          "The photo cannot be downloaded now (offline, or not uploaded "
                          "yet)."),
    "gps_denied": ("没有定位权限：请在设置中允许本应用使用位置", "Location permission is off: "
                   "allow this app to use your location in the settings"),
    "gps_timeout": ("定位超时，请到开阔处再试", "No location fix in time: try again in the "
                    "open"),
    "gps_off": ("定位服务未开启", "Location services are off"),
    "gps_other": ("定位失败", "Location failed"),
    # -- meter swap
    "swap_title": ("换表", "Meter swap"),
    "register_size_1": ("本机表库 1 块库存表", "1 meter in stock on this phone"),
    "stock_search": ("搜索库存表号", "Search stock by meter number"),
    "stock_none": ("本站库存中没有匹配的表", "No meter in the station's stock matches"),
    "stock_pick": ("选用 {no}", "Use {no}"),
    "type_meter_no": ("库存中找不到？手动输入表号", "Not in the list? Type the number"),
    "meter_in_stock": ("在库", "In stock"),
    "meter_installed": ("已安装", "Installed"),
    "meter_removed": ("已拆除", "Removed"),
    "meter_retired": ("已报废", "Retired"),
    # -- bills
    "bill": ("月度账单", "Monthly bill"),
    "bill_month": ("账单月份", "Month"),
    "bill_opening": ("期初余额", "Opening balance"),
    "bill_closing": ("期末余额", "Closing balance"),
    "bill_usage": ("用电量", "Usage"),
    "bill_charges": ("电费", "Charges"),
    "bill_recharges": ("充值", "Recharges"),
    "bill_other": ("其他调整", "Other adjustments"),
    "bill_tier_line": ("第{n}档 {kwh} 千瓦时 × {price} 元", "Tier {n}: {kwh} kWh × {price} yuan"),
    "bill_pdf": ("下载 PDF", "Download PDF"),
    "bill_saved": ("已保存：{path}", "Saved: {path}"),
    "bill_none": ("该月没有记录", "Nothing recorded that month"),
    "prev_month": ("上个月", "Previous month"),
    "next_month": ("下个月", "Next month"),
    # -- agents
    "cash_customer": ("{name} · {address} · 余额 {balance}", "{name} · {address} · balance "
                      "{balance}"),
    "cash_receipt_title": ("现金收据", "Cash receipt"),
    "agent": ("收费员", "Agent"),
    "collected_at": ("收款时间", "Time"),
    "balance_after_est": ("预计充值后余额", "Balance after (expected)"),
    "already_recorded": ("该收据已记录，未重复收费", "Already recorded: not charged twice"),
    "handover": ("交款汇总", "Cash hand-over"),
    "handover_day": ("{day}：{n} 笔，合计 {total}", "{day}: {n} receipts, total {total}"),
    "handover_day_1": ("{day}：1 笔，合计 {total}", "{day}: 1 receipt, total {total}"),
    "handover_confirmed": ("营业厅已确认（{by}）", "Confirmed by the counter ({by})"),
    "handover_open": ("待营业厅确认", "Waiting for the counter to confirm"),
    # how the counter confirmed a day, as the agent's phone tells it (from the synced row)
    "handover_with_discrepancy": ("营业厅已确认，有差异（{by}）",
                                  "Confirmed with a discrepancy ({by})"),
    "handover_receipts": ("{n} 笔 {total}", "{n} receipts, {total}"),
    "handover_receipts_1": ("1 笔 {total}", "1 receipt, {total}"),
    "handover_counted_ok": ("清点 {counted}，与记录一致", "Counted {counted}: matches the records"),
    "handover_recorded_vs_counted": ("记录 {recorded}，清点 {counted}，差额 {difference}",
                                     "Recorded {recorded}; counted {counted}; difference "
                                     "{difference}"),
    "handover_counter_note": ("营业厅说明：{note}", "Counter's note: {note}"),
    "handover_later": ("{n} 笔尚未交款，共 {total}", "{n} receipts not yet handed over: {total}"),
    "handover_later_1": ("1 笔尚未交款，共 {total}", "1 receipt not yet handed over: {total}"),
    "handover_later_hint": ("营业厅确认之后才收取或上传，未计入本次确认：{receipts}",
                            "Taken or uploaded after the counter confirmed the day, so not "
                            "in that count: {receipts}"),
    "confirm_handover": ("确认收款", "Confirm hand-over"),
}
