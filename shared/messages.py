"""The message catalogue: every error code, status, kind and role in Chinese and English.

``translate(key, lang, **params)`` fills ``{placeholders}`` from ``params``; a missing
parameter is left as written rather than failing, so a message is always shown.
"""

from __future__ import annotations

import string
from typing import Any

from shared.enums import Priority, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import ErrorCode

Lang = str  # "zh" or "en"
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

E = ErrorCode
ERRORS: dict[ErrorCode, tuple[str, str]] = {
    E.VALIDATION_ERROR: ("提交的数据有误：{summary}", "The submitted data is invalid: {summary}"),
    E.MALFORMED_JSON: ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    E.PAYLOAD_TOO_LARGE: (
        "请求内容过大（上限 {limit} 字节）。",
        "The request is too large (limit {limit} bytes).",
    ),
    E.NOT_FOUND: ("找不到请求的内容。", "The requested resource was not found."),
    E.METHOD_NOT_ALLOWED: ("不支持该操作方式。", "This method is not allowed here."),
    E.VERSION_CONFLICT: (
        "数据已被他人修改，请刷新后重试。",
        "Someone else changed this record; refresh and try again.",
    ),
    E.IDEMPOTENCY_CONFLICT: (
        "同一编号的提交内容不一致，已拒绝。",
        "A submission with this id was already made with different content.",
    ),
    E.INTERNAL_ERROR: ("服务器内部错误，请稍后重试。", "Internal server error; please try again."),
    E.AUTH_REQUIRED: ("请先登录。", "Please sign in first."),
    E.AUTH_INVALID_CREDENTIALS: ("用户名或密码错误。", "Wrong user name or password."),
    E.AUTH_TOKEN_EXPIRED: ("登录已过期，请重新登录。", "Your session has expired; sign in again."),
    E.AUTH_TOKEN_INVALID: ("登录凭证无效。", "The sign-in token is not valid."),
    E.AUTH_REFRESH_REUSED: (
        "登录凭证已被使用过，为安全起见请重新登录。",
        "This refresh token was already used; sign in again for your safety.",
    ),
    E.AUTH_USER_DISABLED: ("该账号已停用。", "This user account is disabled."),
    E.AUTH_SESSION_REVOKED: (
        "此次登录已结束（已退出，或凭证被重复使用而被注销），请重新登录。",
        "This sign-in has ended (signed out, or revoked after its token was reused); "
        "sign in again.",
    ),
    E.AUTH_DEVICE_REVOKED: (
        "此设备已被停用（如遗失或被盗），请联系管理员；未上传的操作已交办公室处理。",
        "This device was revoked (lost or stolen); contact the office. Changes it had not "
        "sent are kept for the office to review.",
    ),
    E.FORBIDDEN: ("您没有权限执行此操作。", "You are not allowed to do this."),
    E.ACCOUNT_NOT_FOUND: ("找不到用电户 {account}。", "Customer account {account} not found."),
    E.METER_NOT_FOUND: ("找不到电表 {meter}。", "Meter {meter} not found."),
    E.USER_NOT_FOUND: ("找不到用户 {user}。", "User {user} not found."),
    E.WORK_ORDER_NOT_FOUND: ("找不到工单 {work_order}。", "Work order {work_order} not found."),
    E.STATION_NOT_FOUND: ("找不到供电所 {station}。", "Supply station {station} not found."),
    E.WO_TRANSITION_NOT_ALLOWED: (
        "工单当前状态为“{status_label}”，不能执行“{action_label}”。",
        "The work order is '{status_label}'; '{action_label}' is not possible now.",
    ),
    E.WO_ROLE_NOT_ALLOWED: (
        "您的岗位不能对工单执行“{action_label}”。",
        "Your role may not '{action_label}' a work order.",
    ),
    E.WO_NOT_ASSIGNEE: (
        "该工单已派给其他人员，您不能执行“{action_label}”。",
        "This job is assigned to someone else; you cannot '{action_label}' it.",
    ),
    E.WO_NOT_OWNER: ("这不是您的工单。", "This is not your work order."),
    E.WO_REASON_REQUIRED: ("请填写原因。", "Please give a reason."),
    E.WO_TEXT_REQUIRED: ("请填写内容。", "Please write something first."),
    E.WO_ASSIGNEE_INVALID: (
        "不能派给该人员：{reason}",
        "This person cannot take the job: {reason}",
    ),
    E.WO_RATING_INVALID: ("评分必须是 1 到 5 的整数。", "The rating must be a whole number 1–5."),
    E.WO_ACCOUNT_REQUIRED: ("请选择用电户。", "Please choose the customer account."),
    E.WO_GPS_INVALID: (
        "定位数据无效（纬度 -90~90、经度 -180~180、精度 0~{max_accuracy} 米）。",
        "Invalid GPS fix (latitude -90..90, longitude -180..180, accuracy 0..{max_accuracy} m).",
    ),
    E.WO_RESOLUTION_REQUIRED: (
        "请填写处理情况。", "Please describe what was done."
    ),
    E.WO_SWAP_REQUIRED: (
        "换表工单须先录入换表记录才能完成。",
        "Record the meter swap before resolving a meter-swap job.",
    ),
    E.WO_KIND_NOT_REPORTABLE: (
        "客户不能直接提交此类工单。",
        "Customers cannot raise this kind of work order themselves.",
    ),
    E.READING_NEGATIVE: ("示数不能为负数。", "A reading cannot be negative."),
    E.READING_TOO_LARGE: (
        "示数超出电表量程（最大 {max}）。",
        "The reading is beyond the meter's register (max {max}).",
    ),
    E.READING_BELOW_LAST: (
        "示数 {value} 小于上次记录的示数 {last}。",
        "The reading {value} is below the last recorded reading {last}.",
    ),
    E.READING_IMPLAUSIBLE_JUMP: (
        "示数比上次增加 {delta} 千瓦时，平均每天 {per_day} 千瓦时，超过合理范围，请核对。",
        "The reading rose by {delta} kWh ({per_day} kWh a day) since the last one; "
        "please check it.",
    ),
    E.READING_IN_FUTURE: ("抄表时间不能晚于当前时间。", "The reading time is in the future."),
    E.SWAP_WRONG_KIND: (
        "只能在换表工单上录入换表记录。", "A meter swap can only be recorded on a meter-swap job."
    ),
    E.SWAP_WRONG_STATUS: (
        "须到达现场后才能录入换表记录（当前：{status_label}）。",
        "Arrive on site before recording the swap (now: {status_label}).",
    ),
    E.SWAP_OLD_METER_MISMATCH: (
        "旧表表号 {given} 与工单上的表号 {expected} 不一致。",
        "Old meter number {given} does not match the job's meter {expected}.",
    ),
    E.SWAP_NEW_METER_UNKNOWN: (
        "新表 {meter} 不在电表档案中。", "New meter {meter} is not in the meter register."
    ),
    E.SWAP_NEW_METER_NOT_IN_STOCK: (
        "新表 {meter} 不是库存状态（当前：{status}），不能安装。",
        "New meter {meter} is not in stock (now: {status}); it cannot be installed.",
    ),
    E.SWAP_NEW_METER_SAME: ("新表不能与旧表相同。", "The new meter must differ from the old one."),
    E.SWAP_NEW_START_TOO_HIGH: (
        "新表起始示数应在 0 到 {max} 之间。",
        "The new meter's start reading must be between 0 and {max}.",
    ),
    E.SWAP_BALANCE_ABSURD: (
        "剩余金额超出合理范围（{min} 至 {max} 元）。",
        "The remaining balance is outside the plausible range ({min} to {max} yuan).",
    ),
    E.SWAP_CARD_INVALID: (
        "购电卡号应为 {min_len}–{max_len} 位数字。",
        "The prepayment card number must be {min_len}–{max_len} digits.",
    ),
    E.SWAP_SEAL_INVALID: (
        "封印号格式不正确：{seal}", "A seal number is not valid: {seal}"
    ),
    E.SWAP_PHOTOS_REQUIRED: (
        "须拍摄新旧电表表面照片。", "Photos of both the old and the new meter face are required."
    ),
    E.SWAP_ALREADY_RECORDED: (
        "该工单已录入过换表记录。", "A meter swap is already recorded for this job."
    ),
    # -- billing (issue 5)
    E.BILLING_AMOUNT_INVALID: (
        "充值金额应在 {min} 至 {max} 元之间（以分为单位的整数）。",
        "A recharge must be between {min} and {max} yuan (a whole number of fen).",
    ),
    E.BILLING_CORRECTION_INVALID: (
        "调整金额不能为零，且不超过 {max} 元。",
        "A correction must not be zero and at most {max} yuan either way.",
    ),
    E.BILLING_REFUND_EXCEEDS_BALANCE: (
        "退款金额 {amount} 分超过当前余额 {balance} 分。",
        "The refund of {amount} fen exceeds the balance of {balance} fen.",
    ),
    E.BILLING_NO_INSTALLED_METER: (
        "用电户 {account} 没有在装电表。", "Account {account} has no installed meter."
    ),
    E.TARIFF_INVALID: ("电价数据有误：{reason}", "Invalid tariff data: {reason}"),
    E.TARIFF_EFFECTIVE_IN_PAST: (
        "新电价版本只能从明天起生效（{effective_from} 不可用）。",
        "A new tariff version can only take effect from tomorrow ({effective_from} is too "
        "early).",
    ),
    E.TARIFF_VERSION_EXISTS: (
        "该类用户在 {effective_from} 已有电价版本。",
        "A tariff version for this customer type already starts on {effective_from}.",
    ),
    E.READING_FIELD_INVALID: (
        "字段 {field} 有误：{problem}", "Field {field} is invalid: {problem}"
    ),
    E.READING_SOURCE_INVALID: (
        "示数来源应为 actual、estimated 或 manual（收到：{source}）。",
        "The reading source must be actual, estimated or manual (got: {source}).",
    ),
    E.READING_METER_NOT_INSTALLED: (
        "抄表时间电表 {meter} 未装在用电户处。",
        "Meter {meter} was not installed at a customer at the reading time.",
    ),
    E.READING_ABOVE_NEXT: (
        "示数 {value} 大于之后已记录的示数 {next}。",
        "The reading {value} is above the later recorded reading {next}.",
    ),
    E.READING_DUPLICATE_IN_FILE: (
        "与第 {first} 行重复（同一电表、同一天、同一来源）。",
        "Repeats row {first} (same meter, day and source).",
    ),
    E.READING_CSV_INVALID: ("CSV 文件格式有误：{reason}", "The CSV file is not usable: {reason}"),
    E.CASH_RECEIPT_INVALID: (
        "收据号应为 6 到 32 位字母、数字或连字符。",
        "A receipt number is 6 to 32 letters, digits or hyphens.",
    ),
    E.CASH_RECEIPT_REUSED: (
        "收据号 {receipt_no} 已用于另一笔收款。",
        "Receipt number {receipt_no} was already used for another payment.",
    ),
    E.PAYMENT_ORDER_NOT_FOUND: ("找不到支付单 {order}。", "Payment order {order} not found."),
    E.PAYMENT_ORDER_CLOSED: (
        "支付单状态为 {status}，不能再支付。", "The payment order is {status}; it cannot be paid."
    ),
    E.PAYMENT_CALLBACK_SIGNATURE_INVALID: (
        "支付通知签名无效，已拒绝并记录。",
        "The payment notification's signature is not valid; refused and recorded.",
    ),
    E.PAYMENT_CALLBACK_STALE: (
        "支付通知的时间戳缺失或已过期（疑似重放），已拒绝并记录。",
        "The payment notification's timestamp is missing or too old (a replay?); refused "
        "and recorded.",
    ),
    E.PAYMENT_CALLBACK_MISMATCH: (
        "支付通知与支付单不符（{field}），已拒绝并记录。",
        "The payment notification does not match the order ({field}); refused and recorded.",
    ),
    E.PURCHASE_COUNT_INVALID: (
        "购电次数应为 0 到 {max} 的整数。", "A purchase count is a whole number from 0 to {max}."
    ),
    E.PURCHASE_COUNT_STALE: (
        "购电次数已是 {actual}（您看到的是 {expected}），请刷新后重试。",
        "The purchase count is now {actual} (you saw {expected}); refresh and try again.",
    ),
    E.PURCHASE_COUNT_UNCHANGED: (
        "新的购电次数与当前相同。", "The new purchase count equals the current one."
    ),
    E.METER_COMMAND_NOT_FOUND: ("找不到电表指令 {command}。", "Meter command {command} not found."),
    E.METER_COMMAND_NOT_ALLOWED: (
        "电表指令当前状态为 {state}，不能执行此操作。",
        "The meter command is {state}; this is not possible now.",
    ),
    E.METER_ACK_SIGNATURE_INVALID: (
        "电表回执签名无效，已拒绝并记录。",
        "The meter acknowledgement's signature is not valid; refused and recorded.",
    ),
    E.NOTIFICATION_NOT_FOUND: ("找不到消息 {notification}。", "Message {notification} not found."),
    # -- dispatch desk (issue 10)
    E.STALL_RULE_NOT_FOUND: ("找不到停滞规则 {rule}。", "Stall rule {rule} not found."),
    E.STALL_RULE_INVALID: ("停滞规则的 {field} 不可用：{value}。",
                           "The stall rule's {field} cannot be {value}."),
    E.DUTY_NOT_FIELD_USER: ("只有抢修、装表和营业人员有值班状态。",
                            "Only field crews, meter technicians and agents go on duty."),
    E.INTERVAL_FIELD_INVALID: (
        "字段 {field} 有误：{problem}", "Field {field} is invalid: {problem}"
    ),
    E.INTERVAL_DUPLICATE_IN_FILE: (
        "与第 {first} 行重复（同一电表、同一时段），但数值不同。",
        "Repeats row {first} (same meter and interval) with another value.",
    ),
    E.INTERVAL_ESTIMATE_OVER_ACTUAL: (
        "该时段已有实抄数据，估算值不能覆盖它。",
        "This interval already holds an actual reading; an estimate cannot replace it.",
    ),
    E.INTERVAL_ENERGY_IMPLAUSIBLE: (
        "15 分钟电量 {value} kWh 不可信（上限 {max} kWh）。",
        "{value} kWh in 15 minutes is implausible (at most {max} kWh).",
    ),
    E.SUPPLY_METER_INVALID: ("台区总表设置有误：{reason}", "Invalid area master meter: {reason}"),
    E.AREA_NOT_FOUND: ("找不到台区 {area}。", "Transformer area {area} not found."),
    E.ANOMALY_NOT_FOUND: ("找不到异常记录 {anomaly}。", "Anomaly {anomaly} not found."),
    E.MONITORING_POLICY_INVALID: (
        "监测参数有误：{reason}", "Invalid monitoring settings: {reason}"
    ),
    E.MONITORING_RANGE_INVALID: ("日期范围有误：{reason}", "Invalid date range: {reason}"),
    E.FINDING_FIELD_INVALID: (
        "检查结果的字段 {field} 有误：{problem}",
        "Field {field} of the finding is invalid: {problem}",
    ),
    E.FINDING_NOTE_REQUIRED: (
        "请说明现场发现的情况。", "Please describe in a note what you found."
    ),
    E.FINDING_PHOTO_REQUIRED: (
        "发现窃电须拍照取证。", "Tampering needs at least one photo as evidence."
    ),
    E.FINDING_WRONG_KIND: (
        "只有用电检查工单可以录入检查结果。",
        "Only a usage-inspection job takes an inspection finding.",
    ),
    E.FINDING_ALREADY_RECORDED: (
        "该工单已录入检查结果。", "A finding was already recorded for this job."
    ),
    E.FINDING_AREA_INVALID: (
        "无法更正台区：{reason}", "The customer's area cannot be corrected: {reason}"
    ),
    E.DISCREPANCY_NOT_FOUND: ("找不到余额差异记录 {discrepancy}。",
                              "Balance discrepancy {discrepancy} not found."),
    E.DISCREPANCY_CLOSED: ("该余额差异已处理（{status}），不能再改。",
                           "This balance discrepancy was already decided ({status})."),
    E.DEVICE_NOT_FOUND: ("找不到设备 {device}。", "Device {device} not found."),
    E.AUTH_RATE_LIMITED: (
        "登录失败次数过多，请 {retry_after} 秒后再试。",
        "Too many failed sign-ins; try again in {retry_after} seconds.",
    ),
    E.RATE_LIMITED: (
        "请求过于频繁（每 {window_s} 秒最多 {limit} 次），请 {retry_after} 秒后再试。",
        "Too many requests (at most {limit} per {window_s} seconds); try again in "
        "{retry_after} seconds.",
    ),
    E.NOT_READY: (
        "服务暂不可用：{failed}。", "The service is not ready: {failed}.",
    ),
    E.APPROVAL_NOT_FOUND: ("找不到审批申请 {approval}。", "Approval request {approval} not found."),
    E.APPROVAL_OWN_REQUEST: ("不能审批自己提交的申请，须由另一位有权限的人员审批。",
                             "You cannot approve or reject your own request: another person "
                             "with the right role must."),
    E.APPROVAL_CLOSED: ("该申请已处理（{status}），不能再改。",
                        "This request was already decided ({status})."),
    E.APPROVAL_DUPLICATE: ("已有一份待审批的申请：{approval}。",
                           "A request for this is already waiting for approval: {approval}."),
    E.REVIEW_NOT_PENDING: ("该工单不在待审核队列中（未处理完毕或已审核）。",
                           "This job is not waiting for review (not resolved, or already "
                           "reviewed)."),
    E.OUTAGE_INVALID: (
        "停电通知填写有误（{field}）：请选择台区，结束时间晚于开始时间且未过去，时长不超过 72 "
        "小时，并填写原因。",
        "The outage notice is not valid ({field}): choose the areas, an end after the start "
        "and not yet past, at most 72 hours long, and give a reason.",
    ),
    E.OUTAGE_NOT_FOUND: ("找不到停电通知 {outage}。", "Outage notice {outage} not found."),
    E.OUTAGE_CANCEL_REASON_INVALID: (
        "请填写取消停电的原因（{min}–{max} 个字），客户会在通知中看到。",
        "Give the reason for cancelling ({min}–{max} characters): the customers read it in "
        "their notice."),
    E.HANDOVER_NOTHING_RECORDED: ("{day} 没有该收费员的现金收款记录，无需交款。",
                                  "No cash was recorded for this agent on {day}: nothing "
                                  "to hand over."),
    E.HANDOVER_NOTE_REQUIRED: (
        "清点结果与记录不符（记录 {recorded_count} 笔 {recorded_total}，清点 {counted_count} "
        "笔 {counted_total}，差额 {difference}）。请重新清点，或填写差异说明（{min}–{max} "
        "个字）后按有差异确认。",
        "The count does not match the records (receipts recorded: {recorded_count}, "
        "{recorded_total}; counted: {counted_count}, {counted_total}; difference "
        "{difference}). Count again, or explain the difference in a note ({min}–{max} "
        "characters) to confirm it with a discrepancy."),
    E.HANDOVER_INVALID: ("交款汇总有误：{summary}", "The cash hand-over is not valid: {summary}"),
    E.HANDOVER_NOT_FOUND: ("找不到交款记录 {handover}。", "Cash hand-over {handover} not found."),
    E.HANDOVER_CONFIRMED: ("该交款已由 {by} 确认。",
                           "This hand-over was already confirmed by {by}."),
    # -- business applications and the care list (issue 13)
    E.APP_NOT_FOUND: ("找不到该业务申请。", "The application was not found."),
    E.APP_FIELD_INVALID: ("申请内容有误：{field}（{reason}）",
                          "Invalid application field {field}: {reason}"),
    E.APP_DOCUMENT_MISSING: ("缺少证件照片：{documents}", "Document photos missing: {documents}"),
    E.APP_DOCUMENTS_NOT_RECEIVED: (
        "证件照片尚未完整上传：{documents}。请等待上传完成，或退回客户补正。",
        "Document photos not fully received yet: {documents}. Wait for the upload, or "
        "return the application to the customer."),
    E.APP_TRANSITION_NOT_ALLOWED: (
        "申请当前状态（{status}，{step}）不能执行“{action}”。",
        "The application ({status}, step {step}) does not allow '{action}' now."),
    E.APP_ROLE_NOT_ALLOWED: ("您无权对该申请执行“{action}”。",
                             "You may not '{action}' this application."),
    E.APP_REASON_REQUIRED: ("请填写原因。", "Please give a reason."),
    E.APP_AREA_REQUIRED: ("受理新装申请时请选择台区。",
                          "Choose the transformer area when accepting a new connection."),
    E.APP_ALREADY_RATED: ("该申请已评价。", "This application was already rated."),
    E.APP_INSTALL_REQUIRED: ("请先录入装表信息再完成装表工单。",
                             "Record the meter installation before finishing this job."),
    E.APP_ALREADY_INSTALLED: ("该申请已装表。", "The meter of this application is installed."),
    E.APP_METER_NOT_IN_STOCK: ("电表 {meter} 不在本所库存中。",
                               "Meter {meter} is not in this station's stock."),
    E.APP_CLOSE_IN_ARREARS: ("用电户 {account} 尚欠电费 {amount} 元，结清后才能销户。",
                             "Account {account} owes {amount} yuan: it can be closed once "
                             "that is paid."),
    E.ACCOUNT_CLOSED: ("用电户 {account} 已销户，不能再充值或办理业务。",
                       "Account {account} is closed: it takes no recharges or "
                       "applications."),
    E.CARE_NOT_FOUND: ("找不到该关怀记录或申请。", "The care-list request was not found."),
    E.CARE_FIELD_INVALID: ("关怀名单内容有误：{field}（{reason}）",
                           "Invalid care-list field {field}: {reason}"),
    E.CARE_ALREADY_LISTED: ("该用户已在关怀名单中。", "The account is already on the care list."),
    E.CARE_NOT_LISTED: ("该用户不在关怀名单中。", "The account is not on the care list."),
    E.CARE_OWN_REQUEST: ("不能审批自己提交的申请，需由他人审批。",
                         "You cannot approve your own request: another person must."),
    E.CARE_REQUEST_CLOSED: ("该申请已处理。", "This request was already decided."),
    E.CARE_REQUEST_PENDING: ("该用户已有待审批的关怀名单变更。",
                             "The account already has a care-list change waiting for "
                             "approval."),
    E.WEBAPP_NOT_BUILT: (
        "手机应用尚未构建：请在服务器上运行 {command}。",
        "The phone app has not been built: run {command} on the server.",
    ),
}

#: Codes of the sync layer (``sync.protocol.SyncErrorCode`` values).
SYNC_ERRORS: dict[str, tuple[str, str]] = {
    "SYNC_UNKNOWN_OP_TYPE": ("不支持的操作类型：{type}", "Unknown op type: {type}"),
    "SYNC_BAD_PAYLOAD": ("操作内容有误：{summary}", "Invalid op payload: {summary}"),
    "SYNC_OP_ID_REUSED": ("操作编号重复但内容不同。",
                          "This op id was already used for different content."),
    "SYNC_LANE_PREDECESSOR_MISSING": ("等待同一工单的前一操作先上传。",
                                      "Waiting for the previous change of this job."),
    "SYNC_LANE_PREDECESSOR_REJECTED": ("同一工单的前一操作被拒绝，此操作暂缓。",
                                       "Held: an earlier change of this job was rejected."),
    "SYNC_DEVICE_MISMATCH": ("操作不属于该设备。", "The change belongs to another device."),
    "SYNC_CURSOR_RESET": ("同步位置失效，将重新下载数据（未上传的操作会保留）。",
                          "Sync position expired; data is downloaded again (your pending "
                          "changes are kept)."),
    "SYNC_CLIENT_TOO_OLD": ("应用版本过旧，请升级。",
                            "This app version is too old; please update."),
    "SYNC_TRANSIENT": ("服务器繁忙，稍后自动重试。",
                       "Server busy; it will be retried automatically."),
    "SYNC_PHOTO_HASH_MISMATCH": ("照片校验失败，已丢弃上传内容。",
                                 "The photo failed its checksum; the upload was discarded."),
    "SYNC_PHOTO_NOT_IMAGE": ("上传的文件不是有效图片。", "The uploaded file is not a valid image."),
    "SYNC_PHOTO_OFFSET_MISMATCH": ("照片续传位置不一致，服务器已收到 {received} 字节。",
                                   "Upload offset mismatch; the server holds {received} bytes."),
    "SYNC_PHOTO_TOO_LARGE": ("照片或分片过大（上限 {limit} 字节）。",
                             "Photo or chunk too large (limit {limit} bytes)."),
    "SYNC_PHOTO_SIZE_MISMATCH": ("照片大小与首次上传时声明的 {size} 字节不一致。",
                                 "The photo size differs from the {size} bytes declared by "
                                 "its first chunk."),
    "SYNC_OP_INVALID": ("操作格式有误，已拒绝：{summary}",
                        "This change is malformed and was refused: {summary}"),
    "SYNC_DEVICE_SEQ_NOT_INCREASING": (
        "操作序号 {device_seq} 不大于同批前一操作的序号 {previous}，已拒绝。",
        "Refused: its sequence number {device_seq} is not above the previous change's "
        "({previous})."),
    "SYNC_DEVICE_SEQ_REUSED": ("本设备的操作序号 {device_seq} 已被另一操作使用，已拒绝。",
                               "Refused: this device already used sequence number "
                               "{device_seq} for another change."),
    "SYNC_CLIENT_TOO_NEW": ("应用使用的同步协议比服务器新（服务器支持 {minimum}–{maximum}），"
                            "请稍后再试。",
                            "This app speaks a newer sync protocol than the server "
                            "(it supports {minimum}-{maximum}); try again later."),
}

#: PAYLOAD_TOO_LARGE for a push with more ops than allowed (the body limit is in bytes).
PUSH_TOO_MANY_OPS = ("一次上传的操作过多（上限 {limit} 个），请分批上传。",
                     "Too many changes in one push (limit {limit}); split the batch.")

STATUS_LABELS: dict[WorkOrderStatus, tuple[str, str]] = {
    WorkOrderStatus.REPORTED: ("已受理", "Reported"),
    WorkOrderStatus.DISPATCHED: ("已派单", "Dispatched"),
    WorkOrderStatus.ACCEPTED: ("已接单", "Accepted"),
    WorkOrderStatus.EN_ROUTE: ("在途", "En route"),
    WorkOrderStatus.ON_SITE: ("已到达现场", "On site"),
    WorkOrderStatus.RESOLVED: ("已处理", "Resolved"),
    WorkOrderStatus.CONFIRMED: ("客户已确认", "Confirmed"),
    WorkOrderStatus.CLOSED: ("已归档", "Closed"),
    WorkOrderStatus.CANCELLED: ("已撤销", "Cancelled"),
}

KIND_LABELS: dict[WorkOrderKind, tuple[str, str]] = {
    WorkOrderKind.FAULT_REPAIR: ("故障抢修", "Fault repair"),
    WorkOrderKind.METER_SWAP: ("换表", "Meter swap"),
    WorkOrderKind.NEW_CONNECTION: ("新装", "New connection"),
    WorkOrderKind.CAPACITY_CHANGE: ("增容", "Capacity change"),
    WorkOrderKind.ACCOUNT_CHANGE: ("变更", "Account change"),
    WorkOrderKind.USAGE_INSPECTION: ("用电检查", "Usage inspection"),
    WorkOrderKind.CARE_VISIT: ("用电关怀", "Care visit"),
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.CUSTOMER: ("客户", "Customer"),
    Role.CREW: ("抢修人员", "Repair crew"),
    Role.METER_TECH: ("装表人员", "Meter technician"),
    Role.AGENT: ("营业员", "Agent"),
    Role.DISPATCHER: ("调度员", "Dispatcher"),
    Role.MANAGER: ("所长", "Station manager"),
    Role.ADMIN: ("管理员", "Administrator"),
}

PRIORITY_LABELS: dict[Priority, tuple[str, str]] = {
    Priority.URGENT: ("紧急", "Urgent"),
    Priority.HIGH: ("高", "High"),
    Priority.NORMAL: ("普通", "Normal"),
    Priority.LOW: ("低", "Low"),
}

ACTION_LABELS: dict[str, tuple[str, str]] = {
    "report": ("报修", "report"),
    "dispatch": ("派单", "dispatch"),
    "reassign": ("改派", "reassign"),
    "decline": ("退单", "decline"),
    "accept": ("接单", "accept"),
    "start_travel": ("出发", "set off"),
    "arrive": ("到达现场", "arrive"),
    "add_note": ("添加备注", "add a note"),
    "add_photo": ("添加照片", "add a photo"),
    "request_help": ("请求支援", "request help"),
    "record_swap": ("录入换表", "record the meter swap"),
    "resolve": ("完成处理", "resolve"),
    "reopen": ("重新处理", "reopen"),
    "confirm": ("确认并评价", "confirm"),
    "close": ("归档", "close"),
    "cancel": ("撤销", "cancel"),
}


#: Timeline events that are not state-machine actions (the office's own steps).
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "set_priority": ("调整优先级", "set the priority"),
    "finding": ("录入检查结果", "record the finding"),  # inspection.finding@1 on the phone
    "read": ("标记消息已读", "mark a message read"),  # notification.read@1 on the phone
}


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def normalize_lang(lang: str | None) -> Lang:
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


def negotiate(accept_language: str | None) -> Lang:
    """Pick zh or en from an Accept-Language header (by q-value); default Chinese."""
    if not accept_language:
        return DEFAULT_LANG
    best: tuple[float, Lang] | None = None
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip().lower()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        tag = tag.strip().lower()
        lang = "en" if tag.startswith("en") else "zh" if tag.startswith("zh") else None
        # q=0 means "not acceptable" (RFC 9110); q > 0 is also False for NaN
        if lang and q > 0 and (best is None or q > best[0]):
            best = (q, lang)
    return best[1] if best else DEFAULT_LANG


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[1] if normalize_lang(lang) == "en" else pair[0]


def label(value: WorkOrderStatus | WorkOrderKind | Role | Priority | str, lang: Lang) -> str:
    """Human label for a status, kind, role, priority or action name."""
    for table in (STATUS_LABELS, KIND_LABELS, ROLE_LABELS, PRIORITY_LABELS, ACTION_LABELS,
                  EVENT_LABELS):
        if value in table:
            return _pick(table[value], lang)  # type: ignore[index]
    return str(value)


def fill(pair: tuple[str, str], lang: Lang, **params: Any) -> str:
    """A message pair's text in ``lang`` with ``{placeholders}`` filled in."""
    return string.Formatter().vformat(_pick(pair, lang), (), _Lenient(params))


def translate(code: ErrorCode | str, lang: Lang, **params: Any) -> str:
    """The message for an error code in ``lang``, with ``{placeholders}`` filled in."""
    try:
        pair = ERRORS[ErrorCode(code)]
    except ValueError:
        if str(code) not in SYNC_ERRORS:
            return str(code)
        pair = SYNC_ERRORS[str(code)]
    values = _Lenient(params)
    for key in ("status", "action"):
        if key in params and f"{key}_label" not in params:
            values[f"{key}_label"] = label(params[key], lang)
    return string.Formatter().vformat(_pick(pair, lang), (), values)
