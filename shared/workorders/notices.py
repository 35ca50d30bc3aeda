"""What a customer is told as their job moves (inbox and SMS), in zh and en.

``JOB_NOTICES`` maps an action on a job to the notice it sends; the texts are merged into
``shared.billing.notices`` (one table of notices, one ``render``)."""

from __future__ import annotations

from shared.workorders.state_machine import Action

#: action -> notice kind (value of ``shared.billing.notices.NoticeKind``)
JOB_NOTICES: dict[Action, str] = {
    Action.DISPATCH: "job_dispatched",
    Action.REASSIGN: "job_dispatched",
    Action.START_TRAVEL: "job_en_route",
    Action.ARRIVE: "job_arrived",
    Action.RESOLVE: "job_resolved",
    Action.REOPEN: "job_reopened",
}

JOB_TEXTS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "job_dispatched": (
        ("已派单", "您的工单 {code} 已派给 {crew}，抢修人员将尽快联系您。"),
        ("Crew assigned", "Your job {code} has been given to {crew}; they will be in touch "
                          "soon."),
    ),
    "job_en_route": (
        ("抢修人员已出发", "{crew} 已出发前往处理工单 {code}。"),
        ("Crew on the way", "{crew} has set off for your job {code}."),
    ),
    "job_arrived": (
        ("抢修人员已到达", "{crew} 已到达现场处理工单 {code}。"),
        ("Crew arrived", "{crew} has arrived on site for your job {code}."),
    ),
    "job_resolved": (
        ("故障已处理", "工单 {code} 已处理完毕：{resolution}。请确认并评价，若仍未修好，"
                       "请点“仍未修好”。"),
        ("Fault resolved", "Job {code} is resolved: {resolution}. Please confirm and rate "
                           "it, or tap \"Still not fixed\" if it is not."),
    ),
    "job_reopened": (
        ("工单已重新处理", "工单 {code} 已重新打开：{reason}。我们会再次派人处理。"),
        ("Job reopened", "Job {code} has been reopened: {reason}. A crew will come again."),
    ),
}
