"""The phone's work-summary strings (zh, en); the office desk's are in
``mobile/office/i18n_appraisal.py``."""

from __future__ import annotations

from shared.appraisal.figures import FIGURE_NAMES

APPRAISAL_STRINGS: dict[str, tuple[str, str]] = {
    "my_summary": ("我的工作小结", "My work summary"),
    "my_summary_open": ("查看我的工作小结", "Open my work summary"),
    "summary_as_of": ("未联网：显示 {when} 取得的小结", "Offline: the summary as of {when}"),
    "summary_offline": ("工作小结需要联网查看，请稍后再试",
                        "The work summary needs a connection; try again later"),
    "summary_jobs": ("完成工单 {n} 单", "Jobs resolved: {n}"),
    "summary_from_n": ("依据 {n} 单", "from {n} jobs"),
    "summary_from_n_1": ("依据 1 单", "from 1 job"),
    "summary_prev": ("上个月", "Previous month"),
    "summary_next": ("下个月", "Next month"),
    **{f"fig_{k}": v for k, v in FIGURE_NAMES.items()},
}
