"""The work-order state machine, checked against a permissions table written out here.

The expected table below is written from the module docstring and product.md, *not* read
from ``TRANSITIONS``: if someone edits the code's table, these tests say what changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from shared.enums import Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.messages import translate
from shared.workorders.state_machine import (
    TRANSITIONS,
    Action,
    Actor,
    OrderFacts,
    allowed_actions,
    assignee_problem,
    check,
    check_report,
    office_covers,
    target_status,
)

S = WorkOrderStatus
K = WorkOrderKind
A = Action
E = ErrorCode

OPEN = frozenset({S.REPORTED, S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})
WORKING = frozenset({S.ACCEPTED, S.EN_ROUTE, S.ON_SITE})


# --------------------------------------------------------------------------------------
# The expected table.
#
# who:  "assignee" – the field worker (crew / meter tech / agent) the job is assigned to
#       "owner"    – the customer holding the job's account
#       "office"   – dispatcher / manager / admin covering the job's station
# from: the statuses the action may be taken in
# customer_from: narrower statuses for customers (None: same as ``from``)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    who: frozenset[str]
    from_: frozenset[WorkOrderStatus]
    customer_from: frozenset[WorkOrderStatus] | None = None


def rule(who: str, from_: set[WorkOrderStatus] | frozenset[WorkOrderStatus],
         customer_from: set[WorkOrderStatus] | None = None) -> Rule:
    return Rule(frozenset(who.split()), frozenset(from_),
                frozenset(customer_from) if customer_from is not None else None)


EXPECTED: dict[Action, Rule] = {
    # the office dispatches a freshly reported job
    A.DISPATCH: rule("office", {S.REPORTED}),
    # the office re-assigns a job that is dispatched or being worked
    A.REASSIGN: rule("office", {S.DISPATCHED, S.ACCEPTED, S.EN_ROUTE, S.ON_SITE}),
    # the assignee may decline a job only before accepting it
    A.DECLINE: rule("assignee", {S.DISPATCHED}),
    # accept: only the assignee, only from dispatched
    A.ACCEPT: rule("assignee", {S.DISPATCHED}),
    # set off: only the assignee, after accepting
    A.START_TRAVEL: rule("assignee", {S.ACCEPTED}),
    # arrive: only the assignee, after accepting (with or without "set off")
    A.ARRIVE: rule("assignee", {S.ACCEPTED, S.EN_ROUTE}),
    # notes and photos: anybody involved, while open or resolved (not after confirm/close)
    A.ADD_NOTE: rule("assignee office owner", OPEN | {S.RESOLVED}),
    A.ADD_PHOTO: rule("assignee office owner", OPEN | {S.RESOLVED}),
    # the assignee asks for help while working the job
    A.REQUEST_HELP: rule("assignee", WORKING),
    # the meter swap and the resolution are recorded on site, by the assignee
    A.RECORD_SWAP: rule("assignee", {S.ON_SITE}),
    A.RESOLVE: rule("assignee", {S.ON_SITE}),
    # customer or office reopen / confirm a resolved job
    A.REOPEN: rule("office owner", {S.RESOLVED}),
    A.CONFIRM: rule("office owner", {S.RESOLVED}),
    # the office archives a resolved or confirmed job
    A.CLOSE: rule("office", {S.RESOLVED, S.CONFIRMED}),
    # the office cancels any open job; a customer only while it is still just reported
    A.CANCEL: rule("office owner", OPEN, customer_from={S.REPORTED}),
}

EXPECTED_TARGET: dict[Action, WorkOrderStatus | None] = {
    A.REPORT: S.REPORTED,
    A.DISPATCH: S.DISPATCHED,
    A.REASSIGN: S.DISPATCHED,
    A.DECLINE: S.REPORTED,
    A.ACCEPT: S.ACCEPTED,
    A.START_TRAVEL: S.EN_ROUTE,
    A.ARRIVE: S.ON_SITE,
    A.ADD_NOTE: None,
    A.ADD_PHOTO: None,
    A.REQUEST_HELP: None,
    A.RECORD_SWAP: None,
    A.RESOLVE: S.RESOLVED,
    A.REOPEN: S.DISPATCHED,
    A.CONFIRM: S.CONFIRMED,
    A.CLOSE: S.CLOSED,
    A.CANCEL: S.CANCELLED,
}

EXPECTED_REASON_REQUIRED = {A.REASSIGN, A.DECLINE, A.REQUEST_HELP, A.REOPEN, A.CANCEL}

FIELD = {Role.CREW, Role.METER_TECH, Role.AGENT}
OFFICE = {Role.DISPATCHER, Role.MANAGER, Role.ADMIN}

#: The relationships each role can stand in to a job (job station is "st-A").
RELATIONSHIPS: dict[Role, tuple[str, ...]] = {
    Role.CREW: ("assignee", "not_assignee", "unassigned"),
    Role.METER_TECH: ("assignee", "not_assignee", "unassigned"),
    Role.AGENT: ("assignee", "not_assignee", "unassigned"),
    Role.CUSTOMER: ("owner", "not_owner"),
    Role.DISPATCHER: ("same_station", "other_station", "county_wide"),
    Role.MANAGER: ("same_station", "other_station", "county_wide"),
    Role.ADMIN: ("same_station", "other_station", "county_wide"),
}

JOB_STATION = "st-A"
ME = "u-me"


def make_case(role: Role, rel: str, status: WorkOrderStatus,
              kind: WorkOrderKind = K.METER_SWAP) -> tuple[OrderFacts, Actor]:
    assignee: str | None = "u-someone-else"
    account_ids: frozenset[str] = frozenset()
    station: str | None = JOB_STATION
    if rel == "assignee":
        assignee = ME
    elif rel == "unassigned":
        assignee = None
    elif rel == "owner":
        account_ids = frozenset({"acc-1", "acc-2"})
    elif rel == "not_owner":
        account_ids = frozenset({"acc-2"})
    elif rel == "other_station":
        station = "st-B"
    elif rel == "county_wide":
        station = None
    if role == Role.CUSTOMER:
        station = None
    order = OrderFacts(status=status, kind=kind, station_id=JOB_STATION,
                       assignee_id=assignee, account_id="acc-1")
    return order, Actor(user_id=ME, role=role, station_id=station, account_ids=account_ids)


def expected_outcome(action: Action, role: Role, status: WorkOrderStatus,
                     rel: str) -> ErrorCode | None:
    """None when allowed, else the error code, most fundamental reason first."""
    r = EXPECTED[action]
    as_party = "assignee" if role in FIELD else "owner" if role == Role.CUSTOMER else "office"
    if as_party not in r.who:
        return E.WO_ROLE_NOT_ALLOWED
    # who before what (issue 8, item 9): a reassigned crew hears WO_NOT_ASSIGNEE whatever
    # the job's status has become
    if role in FIELD and rel != "assignee":
        return E.WO_NOT_ASSIGNEE
    if role == Role.CUSTOMER and rel != "owner":
        return E.WO_NOT_OWNER
    # office: their own station or county-wide; an admin is county-wide whatever the station
    if role not in FIELD and role != Role.CUSTOMER and not (
            rel in ("same_station", "county_wide") or role == Role.ADMIN):
        return E.FORBIDDEN
    sources = r.customer_from if (role == Role.CUSTOMER and r.customer_from) else r.from_
    if status not in sources:
        return E.WO_TRANSITION_NOT_ALLOWED
    return None


def outcome(order: OrderFacts, actor: Actor, action: Action) -> ErrorCode | None:
    try:
        check(order, actor, action)
    except DomainError as exc:
        return exc.code
    return None


GRID = [
    pytest.param(action, role, status, rel, id=f"{action}-{role}-{status}-{rel}")
    for action in EXPECTED
    for role in Role
    for status in S
    for rel in RELATIONSHIPS[role]
]


# -- the table itself ------------------------------------------------------------------
def test_expected_table_covers_every_action_but_report() -> None:
    assert set(EXPECTED) | {A.REPORT} == set(Action)
    assert set(TRANSITIONS) == set(Action)


@pytest.mark.parametrize(("action", "role", "status", "rel"), GRID)
def test_check_matches_the_permissions_table(action: Action, role: Role,
                                             status: WorkOrderStatus, rel: str) -> None:
    order, actor = make_case(role, rel, status)
    want = expected_outcome(action, role, status, rel)
    try:
        t = check(order, actor, action)
    except DomainError as exc:
        assert want is not None, f"refused with {exc.code}, expected allowed"
        assert exc.code == want
        assert exc.details.get("action", action.value) == action.value
        if exc.code == E.WO_TRANSITION_NOT_ALLOWED:
            assert exc.details["status"] == status.value
        for lang in ("zh", "en"):
            assert "{" not in translate(exc.code, lang, **exc.details)
    else:
        assert want is None, f"allowed, expected {want}"
        assert t.action == action


@pytest.mark.parametrize("kind", [k for k in K if k != K.METER_SWAP])
def test_kind_does_not_change_permissions(kind: WorkOrderKind) -> None:
    """Apart from report (and record_swap, offered only on swaps), kind plays no part."""
    mismatches = []
    for action in EXPECTED:
        if action == A.RECORD_SWAP:
            continue
        for role in Role:
            for status in S:
                for rel in RELATIONSHIPS[role]:
                    order, actor = make_case(role, rel, status, kind)
                    got = outcome(order, actor, action)
                    want = expected_outcome(action, role, status, rel)
                    if got != want:
                        mismatches.append((action, role, status, rel, got, want))
    assert mismatches == []


# -- spot checks written out by hand (the table above could share a mistake) -----------
@pytest.mark.parametrize(
    ("action", "role", "rel", "status", "want"),
    [
        (A.ACCEPT, Role.CREW, "assignee", S.DISPATCHED, None),
        (A.ACCEPT, Role.CREW, "not_assignee", S.DISPATCHED, E.WO_NOT_ASSIGNEE),
        (A.ACCEPT, Role.CREW, "assignee", S.REPORTED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.ACCEPT, Role.CREW, "assignee", S.ACCEPTED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.ACCEPT, Role.DISPATCHER, "same_station", S.DISPATCHED, E.WO_ROLE_NOT_ALLOWED),
        (A.ACCEPT, Role.CUSTOMER, "owner", S.DISPATCHED, E.WO_ROLE_NOT_ALLOWED),
        (A.DISPATCH, Role.DISPATCHER, "same_station", S.REPORTED, None),
        (A.DISPATCH, Role.DISPATCHER, "other_station", S.REPORTED, E.FORBIDDEN),
        (A.DISPATCH, Role.MANAGER, "county_wide", S.REPORTED, None),
        (A.DISPATCH, Role.ADMIN, "other_station", S.REPORTED, None),
        (A.DISPATCH, Role.DISPATCHER, "same_station", S.DISPATCHED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.DISPATCH, Role.AGENT, "assignee", S.REPORTED, E.WO_ROLE_NOT_ALLOWED),
        (A.ARRIVE, Role.METER_TECH, "assignee", S.ACCEPTED, None),
        (A.ARRIVE, Role.METER_TECH, "assignee", S.EN_ROUTE, None),
        (A.ARRIVE, Role.METER_TECH, "assignee", S.ON_SITE, E.WO_TRANSITION_NOT_ALLOWED),
        (A.RESOLVE, Role.CREW, "assignee", S.EN_ROUTE, E.WO_TRANSITION_NOT_ALLOWED),
        (A.RESOLVE, Role.MANAGER, "same_station", S.ON_SITE, E.WO_ROLE_NOT_ALLOWED),
        (A.CANCEL, Role.CUSTOMER, "owner", S.REPORTED, None),
        (A.CANCEL, Role.CUSTOMER, "owner", S.DISPATCHED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.CANCEL, Role.CUSTOMER, "not_owner", S.REPORTED, E.WO_NOT_OWNER),
        (A.CANCEL, Role.DISPATCHER, "same_station", S.ON_SITE, None),
        (A.CANCEL, Role.DISPATCHER, "same_station", S.RESOLVED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.CANCEL, Role.CREW, "assignee", S.DISPATCHED, E.WO_ROLE_NOT_ALLOWED),
        (A.CONFIRM, Role.CUSTOMER, "owner", S.RESOLVED, None),
        (A.CONFIRM, Role.CUSTOMER, "owner", S.CONFIRMED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.REOPEN, Role.CUSTOMER, "not_owner", S.RESOLVED, E.WO_NOT_OWNER),
        (A.CLOSE, Role.CUSTOMER, "owner", S.CONFIRMED, E.WO_ROLE_NOT_ALLOWED),
        (A.CLOSE, Role.MANAGER, "same_station", S.RESOLVED, None),
        (A.CLOSE, Role.MANAGER, "same_station", S.CLOSED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.ADD_NOTE, Role.CUSTOMER, "owner", S.ON_SITE, None),
        (A.ADD_NOTE, Role.CREW, "not_assignee", S.ON_SITE, E.WO_NOT_ASSIGNEE),
        (A.ADD_NOTE, Role.DISPATCHER, "same_station", S.CLOSED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.ADD_PHOTO, Role.AGENT, "assignee", S.CONFIRMED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.REASSIGN, Role.DISPATCHER, "same_station", S.ON_SITE, None),
        (A.REASSIGN, Role.DISPATCHER, "same_station", S.REPORTED, E.WO_TRANSITION_NOT_ALLOWED),
        (A.DECLINE, Role.CREW, "assignee", S.ACCEPTED, E.WO_TRANSITION_NOT_ALLOWED),
    ],
)
def test_spot_checks(action: Action, role: Role, rel: str, status: WorkOrderStatus,
                     want: ErrorCode | None) -> None:
    order, actor = make_case(role, rel, status)
    assert outcome(order, actor, action) == want


def test_office_user_named_as_assignee_is_still_not_a_field_worker() -> None:
    order = OrderFacts(S.DISPATCHED, K.FAULT_REPAIR, JOB_STATION, assignee_id=ME)
    actor = Actor(ME, Role.DISPATCHER, JOB_STATION)
    assert outcome(order, actor, A.ACCEPT) == E.WO_ROLE_NOT_ALLOWED


def test_customer_without_the_account_on_a_job_with_no_account() -> None:
    order = OrderFacts(S.REPORTED, K.NEW_CONNECTION, JOB_STATION, account_id=None)
    actor = Actor(ME, Role.CUSTOMER, account_ids=frozenset({"acc-1"}))
    assert outcome(order, actor, A.CANCEL) == E.WO_NOT_OWNER


def test_job_without_a_station_is_covered_only_county_wide() -> None:
    order = OrderFacts(S.REPORTED, K.FAULT_REPAIR, None)
    assert outcome(order, Actor(ME, Role.DISPATCHER, None), A.DISPATCH) is None
    assert outcome(order, Actor(ME, Role.DISPATCHER, "st-A"), A.DISPATCH) == E.FORBIDDEN
    assert outcome(order, Actor(ME, Role.ADMIN, "st-A"), A.DISPATCH) is None


@pytest.mark.parametrize(
    ("role", "station", "job_station", "covers"),
    [
        (Role.DISPATCHER, "st-A", "st-A", True),
        (Role.DISPATCHER, "st-B", "st-A", False),
        (Role.DISPATCHER, None, "st-A", True),
        (Role.MANAGER, "st-B", "st-A", False),
        (Role.MANAGER, None, None, True),
        (Role.ADMIN, "st-B", "st-A", True),
        (Role.CREW, None, "st-A", False),
        (Role.AGENT, "st-A", "st-A", False),
        (Role.CUSTOMER, None, "st-A", False),
    ],
)
def test_office_covers(role: Role, station: str | None, job_station: str | None,
                       covers: bool) -> None:
    assert office_covers(Actor(ME, role, station), job_station) is covers


# -- structure -------------------------------------------------------------------------
def test_no_action_leaves_a_terminal_status() -> None:
    for t in TRANSITIONS.values():
        assert not t.sources & {S.CLOSED, S.CANCELLED}, t.action


@pytest.mark.parametrize("action", list(Action))
def test_target_status(action: Action) -> None:
    t = TRANSITIONS[action]
    want = EXPECTED_TARGET[action]
    for current in S:
        assert target_status(t, current) == (want if want is not None else current)


@pytest.mark.parametrize("action", list(Action))
def test_reason_required(action: Action) -> None:
    assert TRANSITIONS[action].reason_required is (action in EXPECTED_REASON_REQUIRED)


def test_every_transition_records_something_except_close() -> None:
    for action, t in TRANSITIONS.items():
        assert bool(t.records) is (action != A.CLOSE), action


# -- allowed_actions -------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(K))
def test_allowed_actions_agrees_with_check(kind: WorkOrderKind) -> None:
    for role in Role:
        for status in S:
            for rel in RELATIONSHIPS[role]:
                order, actor = make_case(role, rel, status, kind)
                got = allowed_actions(order, actor)
                want = [
                    a for a in Action
                    if a != A.REPORT
                    and (a != A.RECORD_SWAP or kind == K.METER_SWAP)
                    and outcome(order, actor, a) is None
                ]
                assert got == want, (role, status, rel)
                assert A.REPORT not in got


@pytest.mark.parametrize("kind", [k for k in K if k != K.METER_SWAP])
def test_record_swap_only_offered_on_meter_swap_jobs(kind: WorkOrderKind) -> None:
    on_site = OrderFacts(S.ON_SITE, kind, JOB_STATION, assignee_id=ME)
    swap = OrderFacts(S.ON_SITE, K.METER_SWAP, JOB_STATION, assignee_id=ME)
    tech = Actor(ME, Role.METER_TECH, JOB_STATION)
    assert A.RECORD_SWAP not in allowed_actions(on_site, tech)
    assert A.RECORD_SWAP in allowed_actions(swap, tech)


def test_allowed_actions_examples() -> None:
    crew = Actor(ME, Role.CREW, JOB_STATION)
    fault = OrderFacts(S.DISPATCHED, K.FAULT_REPAIR, JOB_STATION, assignee_id=ME,
                       account_id="acc-1")
    assert allowed_actions(fault, crew) == [A.DECLINE, A.ACCEPT, A.ADD_NOTE, A.ADD_PHOTO]
    on_site = OrderFacts(S.ON_SITE, K.FAULT_REPAIR, JOB_STATION, assignee_id=ME)
    assert allowed_actions(on_site, crew) == [A.ADD_NOTE, A.ADD_PHOTO, A.REQUEST_HELP,
                                              A.RESOLVE]
    owner = Actor("u-c", Role.CUSTOMER, account_ids=frozenset({"acc-1"}))
    assert allowed_actions(fault, owner) == [A.ADD_NOTE, A.ADD_PHOTO]
    reported = OrderFacts(S.REPORTED, K.FAULT_REPAIR, JOB_STATION, account_id="acc-1")
    assert allowed_actions(reported, owner) == [A.ADD_NOTE, A.ADD_PHOTO, A.CANCEL]
    resolved = OrderFacts(S.RESOLVED, K.FAULT_REPAIR, JOB_STATION, account_id="acc-1")
    assert allowed_actions(resolved, owner) == [A.ADD_NOTE, A.ADD_PHOTO, A.REOPEN, A.CONFIRM]
    dispatcher = Actor("u-d", Role.DISPATCHER, JOB_STATION)
    assert allowed_actions(resolved, dispatcher) == [A.ADD_NOTE, A.ADD_PHOTO, A.REOPEN,
                                                     A.CONFIRM, A.CLOSE]
    closed = OrderFacts(S.CLOSED, K.FAULT_REPAIR, JOB_STATION, account_id="acc-1")
    assert allowed_actions(closed, dispatcher) == []
    assert allowed_actions(resolved, Actor("u-d", Role.DISPATCHER, "st-B")) == []


# -- report ----------------------------------------------------------------------------
CUSTOMER_KINDS = {K.FAULT_REPAIR, K.NEW_CONNECTION, K.CAPACITY_CHANGE, K.ACCOUNT_CHANGE}


def report_outcome(kind: WorkOrderKind, account_id: str | None, actor: Actor) -> ErrorCode | None:
    try:
        t = check_report(kind=kind, account_id=account_id, actor=actor)
    except DomainError as exc:
        return exc.code
    assert t.action == A.REPORT
    return None


@pytest.mark.parametrize("kind", list(K))
def test_customer_reports_only_customer_kinds_on_own_account(kind: WorkOrderKind) -> None:
    customer = Actor(ME, Role.CUSTOMER, account_ids=frozenset({"acc-1"}))
    if kind not in CUSTOMER_KINDS:
        for account in ("acc-1", "acc-9", None):
            assert report_outcome(kind, account, customer) == E.WO_KIND_NOT_REPORTABLE
        return
    assert report_outcome(kind, "acc-1", customer) is None
    assert report_outcome(kind, "acc-9", customer) == E.WO_NOT_OWNER
    want_without = None if kind == K.NEW_CONNECTION else E.WO_ACCOUNT_REQUIRED
    assert report_outcome(kind, None, customer) == want_without


def test_customer_with_no_accounts_may_still_apply_for_a_new_connection() -> None:
    newcomer = Actor(ME, Role.CUSTOMER)
    assert report_outcome(K.NEW_CONNECTION, None, newcomer) is None
    assert report_outcome(K.FAULT_REPAIR, None, newcomer) == E.WO_ACCOUNT_REQUIRED
    assert report_outcome(K.FAULT_REPAIR, "acc-1", newcomer) == E.WO_NOT_OWNER


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.AGENT, Role.MANAGER, Role.ADMIN])
@pytest.mark.parametrize("kind", list(K))
def test_staff_reporters_may_raise_any_kind(role: Role, kind: WorkOrderKind) -> None:
    staff = Actor(ME, role, JOB_STATION)
    assert report_outcome(kind, "acc-1", staff) is None
    assert report_outcome(kind, None, staff) is None


@pytest.mark.parametrize("role", [Role.CREW, Role.METER_TECH])
@pytest.mark.parametrize("kind", list(K))
def test_crew_and_meter_tech_may_not_report(role: Role, kind: WorkOrderKind) -> None:
    assert report_outcome(kind, "acc-1", Actor(ME, role, JOB_STATION)) == E.WO_ROLE_NOT_ALLOWED


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("role", list(Role))
def test_check_report_is_what_check_does_for_report(status: WorkOrderStatus, role: Role) -> None:
    actor = Actor(ME, role, JOB_STATION, frozenset({"acc-1"}))
    for kind in K:
        for account in ("acc-1", "acc-9", None):
            order = OrderFacts(status, kind, JOB_STATION, account_id=account)
            assert outcome(order, actor, A.REPORT) == report_outcome(kind, account, actor)


# -- who may be assigned ---------------------------------------------------------------
EXPECTED_WORKERS: dict[WorkOrderKind, set[Role]] = {
    K.FAULT_REPAIR: {Role.CREW},
    K.METER_SWAP: {Role.METER_TECH},
    K.NEW_CONNECTION: {Role.METER_TECH, Role.AGENT, Role.CREW},  # crews survey (issue 13)
    K.CAPACITY_CHANGE: {Role.METER_TECH, Role.AGENT, Role.CREW},
    K.ACCOUNT_CHANGE: {Role.AGENT, Role.CREW},
    K.USAGE_INSPECTION: {Role.AGENT, Role.CREW},
    K.CARE_VISIT: {Role.AGENT},
}


@pytest.mark.parametrize("kind", list(K))
@pytest.mark.parametrize("role", list(Role))
def test_assignee_problem_by_role(kind: WorkOrderKind, role: Role) -> None:
    problem = assignee_problem(kind, role=role, active=True, station_id="st-A",
                               job_station_id="st-A")
    if role in EXPECTED_WORKERS[kind]:
        assert problem is None
    else:
        assert problem is not None
        assert role.value in problem
        assert kind.value in problem


def test_office_and_customers_are_never_assignable() -> None:
    for workers in EXPECTED_WORKERS.values():
        assert not workers & (OFFICE | {Role.CUSTOMER})


def test_assignee_problem_inactive_and_station() -> None:
    kw = {"role": Role.CREW, "station_id": "st-A", "job_station_id": "st-A"}
    assert assignee_problem(K.FAULT_REPAIR, active=True, **kw) is None  # type: ignore[arg-type]
    assert assignee_problem(K.FAULT_REPAIR, active=False, **kw) == "inactive user"  # type: ignore[arg-type]
    other = assignee_problem(K.FAULT_REPAIR, role=Role.CREW, active=True, station_id="st-B",
                             job_station_id="st-A")
    assert other is not None and "station" in other
    unstationed = assignee_problem(K.FAULT_REPAIR, role=Role.CREW, active=True,
                                   station_id=None, job_station_id="st-A")
    assert unstationed is not None
    # an inactive user of the wrong role is reported as inactive first
    assert assignee_problem(K.FAULT_REPAIR, role=Role.AGENT, active=False, station_id="st-B",
                            job_station_id="st-A") == "inactive user"
