"""Stalled jobs and their escalation, as data and pure functions.

A **rule** says when an open job counts as stalled: a trigger, the kind it applies to
(``*``: every kind), a threshold, and how long a stall may last at level 1 before it goes
up to level 2. Triggers:

* ``not_accepted``    — dispatched, not accepted ``threshold`` minutes after dispatch;
* ``no_progress``     — nothing on the timeline for ``threshold`` minutes;
* ``past_arrival``    — not on site ``threshold`` minutes after the arrival deadline;
* ``past_completion`` — open ``threshold`` minutes after the completion deadline;
* ``reopened``        — reopened ``threshold`` times or more (``threshold`` is a count).

For each trigger, a rule of the job's own kind replaces the ``*`` rule. ``evaluate`` lists
the reasons a job is stalled now; ``decide`` compares them with what was recorded before
and says what to record and whom to tell: level 1 (the station manager) when a job is
first found stalled, level 2 (the county dispatcher) when it is still stalled
``escalate_after_min`` after it stalled. Each level is told **once per job**, never again
on later ticks (nor when the same job stalls again after moving on).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.enums import OPEN_STATUSES, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode

S = WorkOrderStatus
ANY_KIND = "*"
#: Limits of a rule's numbers (minutes; ``reopened`` counts times).
MAX_THRESHOLD_MIN = 60 * 24 * 60
MAX_REOPEN_COUNT = 20


class Trigger(StrEnum):
    NOT_ACCEPTED = "not_accepted"
    NO_PROGRESS = "no_progress"
    PAST_ARRIVAL = "past_arrival"
    PAST_COMPLETION = "past_completion"
    REOPENED = "reopened"


_NOT_ARRIVED = frozenset({S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE})


@dataclass(frozen=True)
class Rule:
    id: str
    trigger: Trigger
    kind: str  # a WorkOrderKind value or ANY_KIND
    threshold: int  # minutes (reopened: a count)
    escalate_after_min: int
    active: bool = True


@dataclass(frozen=True)
class JobFacts:
    """What the rules read of a job."""

    id: str
    kind: WorkOrderKind
    status: WorkOrderStatus
    last_activity_at: datetime
    complete_by: datetime
    dispatched_at: datetime | None = None
    arrive_by: datetime | None = None
    reopen_count: int = 0


@dataclass(frozen=True)
class Reason:
    trigger: Trigger
    rule_id: str
    since: datetime  # when the condition became true
    escalate_after_min: int

    def as_dict(self) -> dict[str, Any]:
        return {"trigger": self.trigger.value, "rule_id": self.rule_id,
                "since": self.since.isoformat(), "escalate_after_min": self.escalate_after_min}


def check_rule(*, trigger: str, kind: str, threshold: int, escalate_after_min: int) -> None:
    """Refuse a rule that cannot work (STALL_RULE_INVALID, with the field at fault)."""
    if trigger not in Trigger.__members__.values():
        raise DomainError(ErrorCode.STALL_RULE_INVALID, field="trigger", value=trigger)
    if kind != ANY_KIND and kind not in WorkOrderKind.__members__.values():
        raise DomainError(ErrorCode.STALL_RULE_INVALID, field="kind", value=kind)
    top = MAX_REOPEN_COUNT if trigger == Trigger.REOPENED else MAX_THRESHOLD_MIN
    low = 1 if trigger in (Trigger.REOPENED, Trigger.NOT_ACCEPTED, Trigger.NO_PROGRESS) else 0
    if not low <= threshold <= top:
        raise DomainError(ErrorCode.STALL_RULE_INVALID, field="threshold", value=threshold)
    if not 1 <= escalate_after_min <= MAX_THRESHOLD_MIN:
        raise DomainError(ErrorCode.STALL_RULE_INVALID, field="escalate_after_min",
                          value=escalate_after_min)


def rules_for(kind: WorkOrderKind | str, rules: Iterable[Rule]) -> dict[Trigger, Rule]:
    """The rule that applies to ``kind`` for each trigger (a kind's own rule wins over ``*``);
    an inactive rule of the kind switches the trigger off for that kind."""
    rules = list(rules)
    chosen = {r.trigger: r for r in rules if r.kind == ANY_KIND}
    chosen.update({r.trigger: r for r in rules if r.kind == kind})
    return {t: r for t, r in chosen.items() if r.active}


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def evaluate(job: JobFacts, rules: Iterable[Rule], now: datetime) -> list[Reason]:
    """Why ``job`` is stalled at ``now`` (empty: it is not), in trigger order."""
    if job.status not in OPEN_STATUSES:
        return []
    out: list[Reason] = []
    for trigger, rule in sorted(rules_for(job.kind, rules).items()):
        since: datetime | None = None
        if trigger == Trigger.NOT_ACCEPTED:
            if job.status == S.DISPATCHED and job.dispatched_at is not None:
                since = job.dispatched_at + _minutes(rule.threshold)
        elif trigger == Trigger.NO_PROGRESS:
            since = job.last_activity_at + _minutes(rule.threshold)
        elif trigger == Trigger.PAST_ARRIVAL:
            if job.arrive_by is not None and job.status in _NOT_ARRIVED:
                since = job.arrive_by + _minutes(rule.threshold)
        elif trigger == Trigger.PAST_COMPLETION:
            since = job.complete_by + _minutes(rule.threshold)
        elif trigger == Trigger.REOPENED and job.reopen_count >= rule.threshold:
            since = job.last_activity_at
        if since is not None and since <= now:
            out.append(Reason(trigger, rule.id, since, rule.escalate_after_min))
    return out


@dataclass(frozen=True)
class Recorded:
    """What was recorded about a job's stall on earlier ticks."""

    active: bool = False
    stalled_since: datetime | None = None
    reasons: tuple[str, ...] = ()  # trigger values
    level1_at: datetime | None = None
    level2_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    reasons: list[Reason] = field(default_factory=list)
    active: bool = False
    stalled_since: datetime | None = None
    notify_level1: bool = False
    notify_level2: bool = False
    #: the record changes (reasons, active flag, a level told): write it
    changed: bool = False

    @property
    def level(self) -> int:
        return 2 if self.notify_level2 else 1 if self.notify_level1 else 0


def decide(job: JobFacts, rules: Iterable[Rule], recorded: Recorded, now: datetime
           ) -> Decision:
    reasons = evaluate(job, rules, now)
    if not reasons:
        return Decision(changed=recorded.active)
    since = (recorded.stalled_since if recorded.active and recorded.stalled_since
             else min(r.since for r in reasons))
    delay = _minutes(min(r.escalate_after_min for r in reasons))
    level1 = recorded.level1_at is None
    level2 = recorded.level2_at is None and now >= since + delay
    triggers = tuple(r.trigger.value for r in reasons)
    changed = (not recorded.active or triggers != recorded.reasons or level1 or level2)
    return Decision(reasons, True, since, level1, level2, changed)


# -- what the people told read --------------------------------------------------------------
TRIGGER_LABELS: dict[Trigger, tuple[str, str]] = {
    Trigger.NOT_ACCEPTED: ("派单后未接单", "not accepted after dispatch"),
    Trigger.NO_PROGRESS: ("长时间无进展", "no progress"),
    Trigger.PAST_ARRIVAL: ("超过到场时限", "past the arrival deadline"),
    Trigger.PAST_COMPLETION: ("超过完成时限", "past the completion deadline"),
    Trigger.REOPENED: ("多次返工", "reopened repeatedly"),
}


def reason_text(triggers: Iterable[str], lang: str) -> str:
    en = lang.startswith("en")
    parts = [TRIGGER_LABELS[Trigger(t)][1 if en else 0] for t in triggers]
    return (", " if en else "、").join(parts)


def render_notice(*, level: int, code: str, kind_label: str, address: str,
                  triggers: Iterable[str], lang: str) -> tuple[str, str]:
    """(title, body) of the stall notice for ``level`` in ``lang``."""
    why = reason_text(list(triggers), lang)
    if lang.startswith("en"):
        title = (f"Job {code} stalled" if level == 1
                 else f"Job {code} still stalled: escalated")
        body = f"{kind_label}, {address or 'no address'}: {why}."
        if level == 2:
            body += " The station has not moved it on; please follow it up."
        return title[:100], body[:500]
    title = f"工单 {code} 停滞" if level == 1 else f"工单 {code} 持续停滞，已升级"
    body = f"{kind_label}，{address or '无地址'}：{why}。"
    if level == 2:
        body += "供电所仍未推进，请督办。"
    return title[:100], body[:500]


#: The rules a new database starts with (editable by the administrator).
DEFAULT_RULES: tuple[tuple[Trigger, str, int, int], ...] = (
    # trigger, kind, threshold, escalate after (minutes)
    (Trigger.NOT_ACCEPTED, WorkOrderKind.FAULT_REPAIR.value, 10, 30),
    (Trigger.NOT_ACCEPTED, ANY_KIND, 240, 480),
    (Trigger.NO_PROGRESS, WorkOrderKind.FAULT_REPAIR.value, 60, 60),
    (Trigger.NO_PROGRESS, ANY_KIND, 24 * 60, 24 * 60),
    (Trigger.PAST_ARRIVAL, ANY_KIND, 0, 30),
    (Trigger.PAST_COMPLETION, ANY_KIND, 0, 120),
    (Trigger.REOPENED, ANY_KIND, 2, 240),
)
