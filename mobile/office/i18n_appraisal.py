"""The appraisal screens' strings (zh, en); merged into ``mobile.office.i18n``."""

from __future__ import annotations

from shared.appraisal.figures import FIGURE_NAMES

STRINGS: dict[str, tuple[str, str]] = {
    "page_appraisal": ("绩效考核", "Appraisal"),
    "ap_month": ("月份", "Month"),
    "ap_people": ("人员", "People"),
    "ap_stations": ("供电所", "Stations"),
    "ap_rank_by": ("排名依据", "Rank by"),
    "ap_rank": ("排名", "Rank"),
    "ap_name": ("姓名/站所", "Name"),
    "ap_role": ("角色", "Role"),
    "ap_export_csv": ("导出 CSV", "Export CSV"),
    "ap_export_xlsx": ("导出 Excel", "Export XLSX"),
    "ap_exported": ("已导出 {name}", "Exported {name}"),
    "ap_trend": ("近 6 个月趋势", "Last 6 months"),
    "ap_how": ("计算方法", "How it is computed"),
    "ap_from_n": ("依据 {n} 单", "from {n} jobs"),
    "ap_from_n_1": ("依据 1 单", "from 1 job"),
    "ap_drill": ("查看 {n} 单", "Show {n} jobs"),
    "ap_drill_1": ("查看 1 单", "Show 1 job"),
    "ap_jobs_of": ("{figure} · {name} · {month}", "{figure} · {name} · {month}"),
    "ap_no_jobs": ("本期没有工单", "No jobs in this period"),
    "ap_pick": ("点击一行查看记分卡、趋势和工单", "Click a row for its scorecard, trend and jobs"),
    "ap_by_kind": ("按类型", "By kind"),
    "ap_prev": ("上个月", "Previous month"),
    "ap_next": ("下个月", "Next month"),
    "ap_my_title": ("我的工作小结", "My work summary"),
    "ap_my_offline": ("工作小结需要联网查看", "The work summary needs a connection"),
    **{f"fig_{k}": v for k, v in FIGURE_NAMES.items()},
}
