"""The work-order decision (``shared.workorders.rules.decide``): what each action changes on
the row and records on the timeline, and which refusal comes first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.enums import Priority, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.workorders import fields
from shared.workorders.rules import STATUS_TIME, Decision, JobState, available_actions, decide
from shared.workorders.state_machine import Action, Actor

S = WorkOrderStatus
A = Action
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AT = T0 + timedelta(minutes=30)
CREW = Actor("crew-1", Role.CREW, "st1")
OTHER_CREW = Actor("crew-2", Role.CREW, "st1")
OFFICE = Actor("disp-1", Role.DISPATCHER, "st1")
OWNER = Actor("cust-1", Role.CUSTOMER, None, frozenset({"acc-1"}))
SHA = "a" * 64


def job(status: S = S.DISPATCHED, **kw: Any) -> JobState:
    base: dict[str, Any] = dict(status=status, kind=WorkOrderKind.FAULT_REPAIR,
                                station_id="st1", assignee_id=CREW.user_id,
                                account_id="acc-1", last_activity_at=T0)
    base.update(kw)
    return JobState(**base)


def refused(state: JobState, actor: Actor | None, action: Action, data: dict[str, Any]
            ) -> DomainError:
    with pytest.raises(DomainError) as err:
        decide(state, actor, action, data, AT)
    return err.value


@pytest.mark.parametrize(("state", "actor", "action", "data", "changes", "recorded"), [
    (job(S.REPORTED, assignee_id=None), OFFICE, A.DISPATCH,
     {"assignee_id": "crew-9", "priority": "urgent"},
     {"assignee_id": "crew-9", "priority": Priority.URGENT, "dispatched_at": AT},
     {"assignee_id": "crew-9", "priority": Priority.URGENT}),
    (job(S.ON_SITE), OFFICE, A.REASSIGN, {"assignee_id": "crew-9", "reason": " sick "},
     {"assignee_id": "crew-9", "dispatched_at": AT, "help_requested": False},
     {"previous_assignee_id": CREW.user_id, "assignee_id": "crew-9", "reason": "sick"}),
    (job(), CREW, A.DECLINE, {"reason": "too far"}, {"assignee_id": None},
     {"reason": "too far"}),
    (job(), CREW, A.ACCEPT, {}, {"accepted_at": AT}, {}),
    (job(S.ACCEPTED), CREW, A.START_TRAVEL, {}, {}, {}),
    (job(S.EN_ROUTE), CREW, A.ARRIVE, {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 150}},
     {"arrived_at": AT},
     {"gps": {"lat": 27.8, "lon": 112.9, "accuracy_m": 150.0}, "gps_quality": "poor"}),
    (job(S.ACCEPTED), CREW, A.ARRIVE, {"gps": None}, {"arrived_at": AT},
     {"location": "manual"}),
    (job(S.ON_SITE), OWNER, A.ADD_NOTE, {"text": " call first "}, {}, {"text": "call first"}),
    (job(S.ON_SITE), CREW, A.ADD_PHOTO, {"sha256": SHA}, {}, {"sha256": SHA}),
    (job(S.EN_ROUTE), CREW, A.REQUEST_HELP, {"reason": "ladder"}, {"help_requested": True},
     {"reason": "ladder"}),
    (job(S.ON_SITE), CREW, A.RESOLVE, {"resolution": "fuse", "cause": ""},
     {"resolution": "fuse", "cause": None, "help_requested": False, "resolved_at": AT},
     {"resolution": "fuse"}),
    (job(S.RESOLVED, reopen_count=1), OWNER, A.REOPEN, {"reason": "dark again"},
     {"reopen_count": 2, "resolved_at": None, "dispatched_at": AT}, {"reason": "dark again"}),
    (job(S.RESOLVED), OWNER, A.CONFIRM, {"rating": 4, "comment": "ok"},
     {"rating": 4, "rating_comment": "ok", "confirmed_at": AT},
     {"rating": 4, "comment": "ok", "on_behalf": False}),
    (job(S.RESOLVED), OFFICE, A.CONFIRM, {}, {"rating": None, "rating_comment": None,
                                             "confirmed_at": AT}, {"on_behalf": True}),
    (job(S.CONFIRMED), OFFICE, A.CLOSE, {}, {"closed_at": AT}, {}),
    (job(S.REPORTED), OWNER, A.CANCEL, {"reason": "fixed myself"},
     {"cancel_reason": "fixed myself", "cancelled_at": AT}, {"reason": "fixed myself"}),
])
def test_each_action_changes_the_row_and_records_its_event(
        state: JobState, actor: Actor, action: Action, data: dict[str, Any],
        changes: dict[str, Any], recorded: dict[str, Any]) -> None:
    d = decide(state, actor, action, data, AT)
    target = d.to_status
    assert d.changes == {**changes, "status": target, "last_activity_at": AT}
    assert d.event_data == recorded
    assert (d.action, d.from_status) == (action, state.status)


def test_entering_a_status_stamps_its_time_and_activity_never_goes_back() -> None:
    for status, name in STATUS_TIME.items():
        assert name.endswith("_at") and status != S.REPORTED
    late_device = decide(job(), CREW, A.ACCEPT, {}, T0 - timedelta(hours=1))
    assert late_device.changes["last_activity_at"] == T0  # the device's clock was behind
    assert late_device.changes["accepted_at"] == T0 - timedelta(hours=1)
    note = decide(job(S.ON_SITE), CREW, A.ADD_NOTE, {"text": "x"}, AT)
    assert set(note.changes) == {"status", "last_activity_at"} and note.to_status == S.ON_SITE


def test_the_order_of_refusals_is_fixed() -> None:
    # the swap's own preconditions come before the state machine
    done = job(S.ON_SITE, kind=WorkOrderKind.METER_SWAP, has_swap=True)
    assert refused(done, OTHER_CREW, A.RECORD_SWAP, {}).code == ErrorCode.SWAP_ALREADY_RECORDED
    assert refused(job(S.ON_SITE), CREW, A.RECORD_SWAP, {}).code == ErrorCode.SWAP_WRONG_KIND
    swap_job = job(S.EN_ROUTE, kind=WorkOrderKind.METER_SWAP)
    assert refused(swap_job, CREW, A.RECORD_SWAP, {}).code == ErrorCode.SWAP_WRONG_STATUS
    # the state machine comes before the fields
    assert refused(job(), CREW, A.RESOLVE, {}).code == ErrorCode.WO_TRANSITION_NOT_ALLOWED
    assert refused(job(), OTHER_CREW, A.DECLINE, {}).code == ErrorCode.WO_NOT_ASSIGNEE
    # what the job lacks before the fields
    no_swap = job(S.ON_SITE, kind=WorkOrderKind.METER_SWAP)
    assert refused(no_swap, CREW, A.RESOLVE, {}).code == ErrorCode.WO_SWAP_REQUIRED
    assert decide(job(S.ON_SITE, kind=WorkOrderKind.METER_SWAP, has_swap=True), CREW,
                  A.RESOLVE, {"resolution": "swapped"}, AT).to_status == S.RESOLVED
    # the reason before the other fields
    err = refused(job(S.ACCEPTED), OFFICE, A.REASSIGN, {"assignee_id": CREW.user_id})
    assert (err.code, err.details["field"]) == (ErrorCode.WO_REASON_REQUIRED, "reason")
    err = refused(job(S.ACCEPTED), OFFICE, A.REASSIGN,
                  {"assignee_id": CREW.user_id, "reason": "r"})
    assert (err.code, err.details["reason"]) == (ErrorCode.WO_ASSIGNEE_INVALID,
                                                 "already assigned to them")


@pytest.mark.parametrize(("action", "data", "code", "field"), [
    (A.REQUEST_HELP, {"reason": " "}, ErrorCode.WO_REASON_REQUIRED, "reason"),
    (A.REQUEST_HELP, {"reason": "x" * (fields.MAX_REASON + 1)}, ErrorCode.VALIDATION_ERROR,
     "reason"),
    (A.ADD_NOTE, {"text": ""}, ErrorCode.WO_TEXT_REQUIRED, "text"),
    (A.ADD_NOTE, {"text": "x" * (fields.MAX_TEXT + 1)}, ErrorCode.VALIDATION_ERROR, "text"),
    (A.ADD_PHOTO, {"sha256": "nope"}, ErrorCode.VALIDATION_ERROR, "sha256"),
    (A.ADD_PHOTO, {"sha256": SHA, "caption": "x" * (fields.MAX_CAPTION + 1)},
     ErrorCode.VALIDATION_ERROR, "caption"),
    (A.ARRIVE, {"gps": {"lat": 91, "lon": 0, "accuracy_m": 5}}, ErrorCode.WO_GPS_INVALID, "gps"),
    (A.ARRIVE, {"gps": {"lat": 1, "lon": 1, "accuracy_m": fields.GPS_MAX_ACCURACY_M + 1}},
     ErrorCode.WO_GPS_INVALID, "gps"),
    (A.ARRIVE, {"gps": {"lat": True, "lon": 1, "accuracy_m": 1}}, ErrorCode.WO_GPS_INVALID,
     "gps"),
    (A.ARRIVE, {"gps": {"lat": 1}}, ErrorCode.WO_GPS_INVALID, "gps"),
])
def test_field_refusals_name_their_field(action: Action, data: dict[str, Any], code: ErrorCode,
                                         field: str) -> None:
    status = S.ACCEPTED if action in (A.REQUEST_HELP, A.ARRIVE) else S.ON_SITE
    err = refused(job(status), CREW, action, data)
    assert (err.code, err.details.get("field")) == (code, field)


@pytest.mark.parametrize("rating", [None, 0, 6, 4.5, True, "5"])
def test_a_customer_must_rate_1_to_5(rating: Any) -> None:
    err = refused(job(S.RESOLVED), OWNER, A.CONFIRM, {"rating": rating})
    assert (err.code, err.details["field"]) == (ErrorCode.WO_RATING_INVALID, "rating")


def test_without_an_actor_only_the_status_is_checked() -> None:
    d = decide(job(assignee_id="someone-else"), None, A.ACCEPT, {}, AT)
    assert d.to_status == S.ACCEPTED
    assert refused(job(), None, A.RESOLVE, {"resolution": "x"}).code == (
        ErrorCode.WO_TRANSITION_NOT_ALLOWED)


def test_a_report_is_not_decided_here() -> None:
    with pytest.raises(ValueError):
        decide(job(), OWNER, A.REPORT, {}, AT)


def test_a_recorded_swap_is_not_offered_again() -> None:
    swap_job = job(S.ON_SITE, kind=WorkOrderKind.METER_SWAP)
    assert A.RECORD_SWAP in available_actions(swap_job, CREW)
    done = swap_job._replace(has_swap=True)
    assert A.RECORD_SWAP not in available_actions(done, CREW)
    assert A.RESOLVE in available_actions(done, CREW)


def test_a_job_state_reads_a_plain_row() -> None:
    row = {"status": "on_site", "kind": "meter_swap", "station_id": "st1",
           "assignee_id": "u", "account_id": "a", "priority": "urgent",
           "last_activity_at": "2026-11-27T09:00:00.000000+00:00", "reopen_count": 2}
    state = JobState.of(row, has_swap=True)
    assert state == JobState(S.ON_SITE, WorkOrderKind.METER_SWAP, "st1", "u", "a",
                             Priority.URGENT, T0, 2, True)
    minimal = JobState.of({"status": "reported", "kind": "fault_repair"})
    assert (minimal.priority, minimal.last_activity_at, minimal.reopen_count) == (
        Priority.NORMAL, None, 0)


def test_a_swap_event_records_what_was_swapped() -> None:
    d: Decision = decide(
        job(S.ON_SITE, kind=WorkOrderKind.METER_SWAP), CREW, A.RECORD_SWAP,
        {"id": "sw-1", "old_meter_no": " M-1 ", "new_meter_no": "M-2",
         "old_final_kwh": "1012.50", "old_remaining_fen": 2345, "new_start_kwh": "0.50"}, AT)
    assert d.event_data == {"swap_id": "sw-1", "old_meter_no": "M-1", "new_meter_no": "M-2",
                            "old_final_kwh": "1012.50", "reported_fen": 2345,
                            "new_start_kwh": "0.50"}
    assert d.changes == {"status": S.ON_SITE, "last_activity_at": AT}


def test_gps_quality_marks_poor_fixes() -> None:
    assert fields.gps_quality(fields.GPS_POOR_M) == "good"
    assert fields.gps_quality(fields.GPS_POOR_M + 0.1) == "poor"
    assert fields.check_gps({"lat": "27.8", "lon": 112, "accuracy_m": 3}) == {
        "lat": 27.8, "lon": 112.0, "accuracy_m": 3.0}


def test_a_kept_verdict_is_the_state_machine_s_own_for_every_job_actor_and_action() -> None:
    """``decide`` keeps the state machine's verdicts (``rules._VERDICTS``): whatever was
    asked before, each answer (a transition or a coded refusal) is what ``check`` gives
    for that job, actor and action; a refusal is never kept; an actor with the same user
    id but another role or station is asked about on its own."""
    import itertools
    import random

    from shared.workorders import rules
    from shared.workorders.state_machine import OrderFacts, check

    rng = random.Random(7)
    actors = [Actor("crew-1", Role.CREW, "st-1"), Actor("crew-1", Role.DISPATCHER, "st-1"),
              Actor("crew-1", Role.CREW, "st-2"), Actor("crew-2", Role.CREW, "st-1"),
              Actor("cust-1", Role.CUSTOMER, None, frozenset({"acc-1"})),
              Actor("cust-1", Role.CUSTOMER, None, frozenset({"acc-2"}))]
    states = [JobState(status, kind, "st-1", assignee, account)
              for status, kind, assignee, account in itertools.product(
                  WorkOrderStatus, (WorkOrderKind.FAULT_REPAIR, WorkOrderKind.METER_SWAP),
                  (None, "crew-1", "crew-2"), (None, "acc-1"))]
    actions = [a for a in Action if a not in (Action.REPORT, Action.RECORD_SWAP)]
    rules._VERDICTS.clear()
    for _ in range(3000):
        state, actor, action = rng.choice(states), rng.choice(actors), rng.choice(actions)
        facts = OrderFacts(state.status, state.kind, state.station_id, state.assignee_id,
                           state.account_id)
        try:
            expected: Any = check(facts, actor, action)
        except DomainError as exc:
            expected = (exc.code, exc.details)
        try:
            got: Any = rules._transition(state, actor, action)
        except DomainError as exc:
            got = (exc.code, exc.details)
        assert got == expected, (state, actor, action)
    assert rules._VERDICTS  # some were kept …
    assert all(not isinstance(v, tuple) for v in rules._VERDICTS.values())  # … no refusal
