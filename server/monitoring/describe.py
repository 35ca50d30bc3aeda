"""The text of a monitoring job: what was seen, in Chinese then English (the job's
description travels to the crew's phone with it, and to the customer's when the job is on
their account: those texts name no suspicion)."""

from __future__ import annotations

from typing import Any


def _pct(value: Any) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def describe(kind: str, ev: dict[str, Any], *, area_name: str, meter_no: str | None) -> str:
    day = ev.get("day", "")
    m = meter_no or ""
    if kind == "collection_failing":
        days = ev.get("failed_days") or f"≥{ev.get('failing_days', '')}"
        last = ev.get("last_data_at") or "无 none"
        reg = ev.get("last_register_kwh") or "—"
        return (f"【监测·采集失败】台区 {area_name} 电表 {m} 已连续 {days} 天未完整上报"
                f"（截至 {day}）；最后数据 {last}，最后示数 {reg} kWh。"
                "请检查电表通信模块与采集器。\n"
                f"Monitoring: meter {m} in {area_name} has not reported a full day for {days} "
                f"days (as of {day}); last data {last}, last register {reg} kWh. Check the "
                "meter's communication module and the concentrator.")
    if kind == "concentrator_silent":
        return (f"【监测·集中器离线】台区 {area_name} {ev.get('failing')}/{ev.get('due')} 块电表"
                f"连续 {ev.get('failing_days')} 天未上报（截至 {day}）。"
                "请检查集中器及其供电、信道。\n"
                f"Monitoring: {ev.get('failing')} of {ev.get('due')} meters in {area_name} "
                f"silent for {ev.get('failing_days')} days (as of {day}). Check the "
                "concentrator, its power and its channel.")
    if kind == "meter_stopped":
        return (f"【监测·电表停走】台区 {area_name} 电表 {m} 连续 {ev.get('zero_days')} 天"
                f"电量为零，此前日均 {ev.get('history_kwh_per_day')} kWh，"
                f"同台区用户正常用电（截至 {day}）。"
                "请现场核查表计是否故障。\n"
                f"Monitoring: meter {m} in {area_name} read zero for {ev.get('zero_days')} "
                f"days (before: {ev.get('history_kwh_per_day')} kWh a day) while its "
                f"neighbours use power (as of {day}). Check whether the meter is faulty.")
    # Jobs on a customer's account are visible to that customer: their text names no
    # suspicion (the figures stay in the monitoring record, for staff only).
    if kind == "loss_suspect":
        return (f"【用电检查】台区 {area_name} 线损偏高，请核查电表 {m} 的计量装置、封印与接线"
                "（依据见监测记录）。\n"
                f"Usage inspection: the line loss of {area_name} is high; check the metering, "
                f"seals and wiring of meter {m} (evidence in the monitoring record).")
    if kind == "mapping_suspect":
        return (f"【用电检查】请核实电表 {m} 实际由哪台配变供电（登记台区 {area_name}，"
                "依据见监测记录）。\n"
                f"Usage inspection: check which transformer really feeds meter {m} "
                f"(registered on {area_name}; evidence in the monitoring record).")
    if kind == "overload":
        return (f"【监测·配变过载】台区 {area_name} {day} 负载率峰值 "
                f"{_pct(ev.get('peak_load_rate'))}，过载持续 {ev.get('overload_minutes')} 分钟。"
                "请现场测量负荷、检查配变温升，"
                "并评估调荷或增容。\n"
                f"Monitoring: the transformer of {area_name} peaked at "
                f"{_pct(ev.get('peak_load_rate'))} on {day}, overloaded for "
                f"{ev.get('overload_minutes')} minutes. Measure the load, check its "
                "temperature, plan load transfer or a larger transformer.")
    return f"【监测】{kind} {area_name} {m} {day}\nMonitoring: {kind} in {area_name} {m} {day}"
