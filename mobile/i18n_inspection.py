"""The app's strings for an inspection job's finding form (zh, en).

Merged into ``mobile.i18n.STRINGS`` (keep this module free of app imports)."""

from __future__ import annotations

INSPECTION_STRINGS: dict[str, tuple[str, str]] = {
    "inspection_form": ("录入检查结果", "Record finding"),
    "outcome": ("检查结论", "Outcome"),
    "outcome_meter_ok": ("电表正常", "Meter OK"),
    "outcome_meter_fault": ("电表故障", "Meter fault"),
    "outcome_tampering": ("发现窃电/私改计量", "Tampering found"),
    "outcome_wiring_or_mapping": ("接线或户变关系错误", "Wiring or mapping error"),
    "outcome_nothing_found": ("未发现异常", "Nothing found"),
    "register_kwh": ("现场电表示数 (kWh)", "Register reading (kWh)"),
    "measured_load_kw": ("钳形表实测负荷 (kW)", "Measured load (kW)"),
    "finding_note": ("现场情况说明", "What was seen"),
    "finding_note_hint": ("故障、窃电、接线错误须说明所见", "Required for a fault, tampering "
                          "or a wiring error"),
    "correct_area": ("实际供电台区", "Area really feeding the customer"),
    "correct_area_hint": ("台区登记错误时选择（本所台区）", "When the register has the wrong "
                          "area (this station's areas)"),
    "finding_photos": ("现场照片（最多 {n} 张）", "Photos (up to {n})"),
    "tampering_photo_hint": ("发现窃电须拍照取证", "Tampering needs a photo as evidence"),
    "save_finding": ("保存检查结果", "Save finding"),
    "finding_recorded": ("检查结果", "Finding"),
    "finding_waiting": ("待上传：联网后自动提交", "Waiting: sent when online"),
    "follow_up": ("后续工单", "Follow-up job"),
    "evidence": ("监测依据", "Evidence"),
    "choose_outcome": ("请选择检查结论", "Choose an outcome"),
}
