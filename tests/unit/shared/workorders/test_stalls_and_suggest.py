"""The stall rules and the suggested crew as pure functions: which rule applies to a kind,
when each trigger fires, once per level, and the ranking of candidates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.enums import Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.workorders import stalls
from shared.workorders.stalls import ANY_KIND, JobFacts, Recorded, Rule, Trigger
from shared.workorders.suggest import Candidate, JobSpot, distance_km, rank

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
K = WorkOrderKind
S = WorkOrderStatus
RULES = [Rule(f"r{i}", t, k, n, e) for i, (t, k, n, e) in enumerate(stalls.DEFAULT_RULES)]


def job(**kw) -> JobFacts:
    base = {"id": "j", "kind": K.FAULT_REPAIR, "status": S.DISPATCHED, "last_activity_at": T0,
            "complete_by": T0 + timedelta(hours=3), "dispatched_at": T0,
            "arrive_by": T0 + timedelta(minutes=45)}
    return JobFacts(**{**base, **kw})


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def triggers(j: JobFacts, now: datetime, rules=RULES) -> list[str]:
    return [r.trigger.value for r in stalls.evaluate(j, rules, now)]


def test_a_kinds_own_rule_replaces_the_generic_one() -> None:
    chosen = stalls.rules_for(K.FAULT_REPAIR, RULES)
    assert chosen[Trigger.NOT_ACCEPTED].threshold == 10
    assert stalls.rules_for(K.METER_SWAP, RULES)[Trigger.NOT_ACCEPTED].threshold == 240
    off = [*RULES, Rule("x", Trigger.REOPENED, K.METER_SWAP.value, 2, 60, active=False)]
    assert Trigger.REOPENED not in stalls.rules_for(K.METER_SWAP, off)
    assert Trigger.REOPENED in stalls.rules_for(K.FAULT_REPAIR, off)


def test_each_trigger_fires_at_its_threshold() -> None:
    assert triggers(job(), at(9)) == []
    assert triggers(job(), at(10)) == ["not_accepted"]
    accepted = job(status=S.ACCEPTED, last_activity_at=at(5))
    assert triggers(accepted, at(44)) == []
    assert triggers(accepted, at(46)) == ["past_arrival"]
    assert triggers(accepted, at(66)) == ["no_progress", "past_arrival"]
    on_site = job(status=S.ON_SITE, last_activity_at=at(170))
    assert triggers(on_site, at(181)) == ["past_completion"]
    reopened = job(status=S.DISPATCHED, reopen_count=2, dispatched_at=at(100),
                   last_activity_at=at(100))
    assert "reopened" in triggers(reopened, at(101))
    assert triggers(job(status=S.RESOLVED), at(600)) == []  # only open jobs stall


def test_decide_tells_each_level_once() -> None:
    j = job()
    d = stalls.decide(j, RULES, Recorded(), at(12))
    assert d.active and d.notify_level1 and not d.notify_level2 and d.changed
    assert d.stalled_since == at(10)
    told = Recorded(active=True, stalled_since=at(10), reasons=("not_accepted",),
                    level1_at=at(12))
    d = stalls.decide(j, RULES, told, at(20))
    assert not d.notify_level1 and not d.notify_level2 and not d.changed
    d = stalls.decide(j, RULES, told, at(40))  # 10 + 30 minutes for faults
    assert d.notify_level2 and not d.notify_level1
    both = Recorded(active=True, stalled_since=at(10), reasons=("not_accepted",),
                    level1_at=at(12), level2_at=at(40))
    assert not stalls.decide(j, RULES, both, at(44)).changed
    # a new reason is recorded (not told again)
    d = stalls.decide(j, RULES, both, at(46))
    assert d.changed and not d.notify_level1 and not d.notify_level2
    # progress clears it; stalling again later tells nobody at level 1 again
    moved = job(status=S.ON_SITE, last_activity_at=at(47))
    assert stalls.decide(moved, RULES, both, at(47)) == stalls.Decision(changed=True)


@pytest.mark.parametrize(("trigger", "kind", "threshold", "escalate", "field"), [
    ("napping", ANY_KIND, 5, 5, "trigger"),
    ("no_progress", "picnic", 5, 5, "kind"),
    ("no_progress", ANY_KIND, 0, 5, "threshold"),
    ("reopened", ANY_KIND, 21, 5, "threshold"),
    ("past_arrival", ANY_KIND, -1, 5, "threshold"),
    ("past_arrival", ANY_KIND, 0, 0, "escalate_after_min"),
])
def test_rules_that_cannot_work_are_refused(trigger, kind, threshold, escalate, field) -> None:
    with pytest.raises(DomainError) as exc:
        stalls.check_rule(trigger=trigger, kind=kind, threshold=threshold,
                          escalate_after_min=escalate)
    assert exc.value.code == ErrorCode.STALL_RULE_INVALID and exc.value.details["field"] == field


def test_the_notice_reads_in_both_languages() -> None:
    zh = stalls.render_notice(level=2, code="WO1", kind_label="故障抢修", address="城关路 1 号",
                              triggers=["not_accepted", "past_arrival"], lang="zh")
    assert zh[0] == "工单 WO1 持续停滞，已升级" and "派单后未接单、超过到场时限" in zh[1]
    en = stalls.render_notice(level=1, code="WO1", kind_label="Fault repair", address="",
                              triggers=["no_progress"], lang="en")
    assert en == ("Job WO1 stalled", "Fault repair, no address: no progress.")


# -- the suggested crew --------------------------------------------------------------------
SPOT = JobSpot(kind=K.FAULT_REPAIR, station_id="s1", area_id="a1", lat=27.8, lon=112.9)


def crew(name: str, **kw) -> Candidate:
    return Candidate(user_id=name, display_name=name, role=kw.pop("role", Role.CREW),
                     station_id=kw.pop("station_id", "s1"), **kw)


def test_candidates_rank_by_duty_area_load_then_distance() -> None:
    pool = [
        crew("far", on_duty=True, last_lat=28.2, last_lon=112.9),
        crew("near", on_duty=True, last_lat=27.81, last_lon=112.9),
        crew("busy", on_duty=True, open_jobs=3, last_area_id="a1"),
        crew("local", on_duty=True, open_jobs=1, open_areas=frozenset({"a1"})),
        crew("idle_off", open_jobs=0),
        crew("unknown", on_duty=True),
    ]
    assert [r.candidate.user_id for r in rank(SPOT, pool)] == [
        "local", "busy", "near", "far", "unknown", "idle_off"]
    got = {r.candidate.user_id: r for r in rank(SPOT, pool)}
    assert got["local"].same_area and not got["near"].same_area
    assert got["near"].distance_km == pytest.approx(1.11, abs=0.01)


def test_only_people_who_may_take_the_job_are_candidates() -> None:
    pool = [crew("ok"), crew("tech", role=Role.METER_TECH), crew("elsewhere", station_id="s2"),
            crew("gone", active=False)]
    assert [r.candidate.user_id for r in rank(SPOT, pool)] == ["ok"]
    swap = JobSpot(kind=K.METER_SWAP, station_id="s1", area_id=None, lat=None, lon=None)
    assert [r.candidate.user_id for r in rank(swap, pool)] == ["tech"]


def test_distance() -> None:
    assert distance_km(27.8, 112.9, 27.8, 112.9) == 0.0
    assert distance_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)
