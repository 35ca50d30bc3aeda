"""Decide, then apply: what a work-order action does, as one pure function.

``decide(state, actor, action, data, at)`` takes the job as it is (``JobState``: the
row's fields the rules read, and whether a meter swap is recorded), who acts, the
action and its fields, and the time it happened, and returns a ``Decision``:

* ``changes`` — the row's new values, field by field: the status, the timestamp the
  new status sets (``STATUS_TIME``), ``last_activity_at`` and what the action itself
  changes (the assignee, ``help_requested``, the resolution, the rating …);
* ``data`` — what the timeline event records (``event_data``: without the empty values);
* ``fields`` — the action's input, checked and normalised (what a phone's op carries);

or raises a ``DomainError`` with the same code wherever it runs. The order of refusals
is fixed: the swap's own preconditions (``record_swap``), then the state machine (role,
relationship, status), then what the job lacks (a swap before ``resolve``), then the
reason where the state machine's table says one is required, then the other fields.

It is called by the server's service (``server.work_orders.service.act`` and the meter
swap), by the phone's overlay (``sync.client.overlay``) and actions
(``sync.client.actions``), and through them by the app's screens. They differ only in
how they load the state and store the decision. What only the server can know is
checked around the decision, by the server: that an assignee exists and may take the
job, the photo and swap records, audit. The row's ``version`` and ``updated_at`` are the
store's business (the server bumps them on every write).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple

from shared.enums import Priority, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.timeutil import as_utc
from shared.workorders import fields as f
from shared.workorders.state_machine import (
    TRANSITIONS,
    Action,
    Actor,
    OrderFacts,
    Transition,
    allowed_actions,
    check,
)

S = WorkOrderStatus

#: The timestamp a status sets on the row when the job enters it.
STATUS_TIME: dict[WorkOrderStatus, str] = {
    S.DISPATCHED: "dispatched_at", S.ACCEPTED: "accepted_at", S.ON_SITE: "arrived_at",
    S.RESOLVED: "resolved_at", S.CONFIRMED: "confirmed_at", S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")


class JobState(NamedTuple):
    """What the rules read of a job: its row's fields, and whether a swap is recorded.
    (A ``NamedTuple``: one is built for every op a push decides, where a frozen
    dataclass's ``__init__`` cost ~1 µs more.)"""

    status: WorkOrderStatus
    kind: WorkOrderKind
    station_id: str | None = None
    assignee_id: str | None = None
    account_id: str | None = None
    priority: Priority = Priority.NORMAL
    last_activity_at: datetime | None = None
    reopen_count: int = 0
    has_swap: bool = False

    @classmethod
    def of(cls, row: Mapping[str, Any], *, has_swap: bool = False) -> JobState:
        """From a plain row (the server's JSON on a phone, or a dict of the table):
        times may be ``datetime`` or ISO text."""
        last = row.get("last_activity_at")
        if isinstance(last, str):
            last = datetime.fromisoformat(last)
        return cls(status=S(row["status"]), kind=WorkOrderKind(row["kind"]),
                   station_id=row.get("station_id"), assignee_id=row.get("assignee_id"),
                   account_id=row.get("account_id"),
                   priority=Priority(row.get("priority") or Priority.NORMAL),
                   last_activity_at=as_utc(last) if last is not None else None,
                   reopen_count=int(row.get("reopen_count") or 0), has_swap=has_swap)

    @property
    def facts(self) -> OrderFacts:
        return OrderFacts(self.status, self.kind, self.station_id, self.assignee_id,
                          self.account_id)


class Decision(NamedTuple):
    """What an action does (``decide``): the row's changes, the event's data, the
    checked fields. A ``NamedTuple``, as ``JobState``."""

    action: Action
    from_status: WorkOrderStatus
    to_status: WorkOrderStatus
    changes: dict[str, Any]
    data: dict[str, Any]
    fields: dict[str, Any]

    @property
    def event_data(self) -> dict[str, Any]:
        """What the timeline event stores (empty values are not recorded)."""
        return {k: v for k, v in self.data.items() if v is not None}


# -- per action: (checked fields, row changes besides status and times, event data) -------
_Step = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
_Rule = Callable[[JobState, Actor | None, Mapping[str, Any], datetime], _Step]


def _nothing(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
             ) -> _Step:
    return {}, {}, {}


def _assignee(data: Mapping[str, Any]) -> str:
    assignee = data.get("assignee_id")
    if not isinstance(assignee, str) or not assignee:
        raise DomainError(ErrorCode.WO_ASSIGNEE_INVALID, field="assignee_id",
                          reason="no assignee given")
    return assignee


def _dispatch(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
              ) -> _Step:
    assignee = _assignee(data)
    try:
        priority = Priority(data["priority"]) if data.get("priority") else None
    except ValueError:
        raise DomainError(ErrorCode.VALIDATION_ERROR, field="priority",
                          summary="priority: unknown") from None
    changes: dict[str, Any] = {"assignee_id": assignee}
    if priority is not None:
        changes["priority"] = priority
    return ({"assignee_id": assignee, "priority": priority}, changes,
            {"assignee_id": assignee, "priority": priority or state.priority})


def _reassign(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
              ) -> _Step:
    assignee = _assignee(data)
    if assignee == state.assignee_id:
        raise DomainError(ErrorCode.WO_ASSIGNEE_INVALID, field="assignee_id",
                          reason="already assigned to them")
    why = data["reason"]
    return ({"assignee_id": assignee, "reason": why},
            {"assignee_id": assignee, "dispatched_at": at, "help_requested": False},
            {"previous_assignee_id": state.assignee_id, "assignee_id": assignee,
             "reason": why})


def _reason_only(change: Callable[[JobState, str], dict[str, Any]]) -> _Rule:
    def rule(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
             ) -> _Step:
        why = data["reason"]
        return {"reason": why}, change(state, why), {"reason": why}
    return rule


def _arrive(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
            ) -> _Step:
    gps = f.check_gps(data.get("gps"))
    if gps is None:
        return {"gps": None}, {}, {"location": "manual"}
    return {"gps": gps}, {}, {"gps": gps, "gps_quality": f.gps_quality(gps["accuracy_m"])}


def _note(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
          ) -> _Step:
    text = f.required_text(data.get("text"), field="text", code=ErrorCode.WO_TEXT_REQUIRED,
                           limit=f.MAX_TEXT)
    return {"text": text}, {}, {"text": text}


def _photo(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
           ) -> _Step:
    sha = data.get("sha256")
    if not isinstance(sha, str) or not _SHA256.match(sha):
        raise DomainError(ErrorCode.VALIDATION_ERROR, field="sha256",
                          summary="sha256: 64 lowercase hex digits")
    caption = f.optional_text(data.get("caption"), field="caption", limit=f.MAX_CAPTION,
                              one_line=True)
    return {"sha256": sha, "caption": caption}, {}, {"sha256": sha, "caption": caption}


def _resolve(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
             ) -> _Step:
    resolution = f.required_text(data.get("resolution"), field="resolution",
                                 code=ErrorCode.WO_RESOLUTION_REQUIRED, limit=f.MAX_TEXT)
    cause = f.optional_text(data.get("cause"), field="cause", limit=f.MAX_CAUSE,
                            one_line=True)
    return ({"resolution": resolution, "cause": cause},
            {"resolution": resolution, "cause": cause, "help_requested": False},
            {"resolution": resolution, "cause": cause})


def _confirm(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
             ) -> _Step:
    customer = actor is not None and actor.role == Role.CUSTOMER
    rating = f.check_rating(data.get("rating"), required=customer)
    comment = f.optional_text(data.get("comment"), field="comment", limit=f.MAX_COMMENT)
    return ({"rating": rating, "comment": comment},
            {"rating": rating, "rating_comment": comment},
            {"rating": rating, "comment": comment, "on_behalf": not customer})


def _record_swap(state: JobState, actor: Actor | None, data: Mapping[str, Any], at: datetime
                 ) -> _Step:
    """The swap's own values are checked against the meters where they are known
    (``shared.meter_rules.validate_swap``); here only what the timeline records."""
    return dict(data), {}, {
        "swap_id": data.get("id"), "old_meter_no": str(data.get("old_meter_no", "")).strip(),
        "new_meter_no": str(data.get("new_meter_no", "")).strip(),
        "old_final_kwh": str(data.get("old_final_kwh")),
        # what the technician read off the old meter: evidence; the server adds what was
        # carried (the ledger's balance) and records any difference as a discrepancy
        "reported_fen": int(data.get("old_remaining_fen") or 0),
        "new_start_kwh": str(data.get("new_start_kwh"))}


_RULES: dict[Action, _Rule] = {
    Action.DISPATCH: _dispatch,
    Action.REASSIGN: _reassign,
    Action.DECLINE: _reason_only(lambda s, why: {"assignee_id": None}),
    Action.ACCEPT: _nothing,
    Action.START_TRAVEL: _nothing,
    Action.ARRIVE: _arrive,
    Action.ADD_NOTE: _note,
    Action.ADD_PHOTO: _photo,
    Action.REQUEST_HELP: _reason_only(lambda s, why: {"help_requested": True}),
    Action.RECORD_SWAP: _record_swap,
    Action.RESOLVE: _resolve,
    Action.REOPEN: _reason_only(lambda s, why: {"reopen_count": s.reopen_count + 1,
                                                "resolved_at": None}),
    Action.CONFIRM: _confirm,
    Action.CLOSE: _nothing,
    Action.CANCEL: _reason_only(lambda s, why: {"cancel_reason": why}),
}


def _swap_preconditions(state: JobState) -> None:
    if state.has_swap:
        raise DomainError(ErrorCode.SWAP_ALREADY_RECORDED)
    if state.kind != WorkOrderKind.METER_SWAP:
        raise DomainError(ErrorCode.SWAP_WRONG_KIND)
    if state.status != S.ON_SITE:
        raise DomainError(ErrorCode.SWAP_WRONG_STATUS, status=state.status.value)


#: The state machine's verdicts given lately, by everything ``check`` reads (the job's
#: facts, the actor's user id, role, station and accounts, the action): a pure function
#: of them, asked once per op decided, and a push's ops ask it again and again about the
#: same few jobs (a pushed note: 1.6 µs to check, 0.4 µs to look up). Refusals are not
#: kept (they raise). Bounded: cleared when full.
_VERDICTS: dict[tuple[Any, ...], Transition] = {}
_MAX_VERDICTS = 4096


def _transition(state: JobState, actor: Actor | None, action: Action) -> Transition:
    """The state machine's verdict. Without an actor (a device nobody is signed in on,
    showing its queued work) only the status is checked."""
    if actor is not None:
        # the actor's fields, not the actor: a dataclass's hash is a Python call
        key = (state.status, state.kind, state.station_id, state.assignee_id,
               state.account_id, actor.user_id, actor.role, actor.station_id,
               actor.account_ids, action)
        verdict = _VERDICTS.get(key)
        if verdict is None:
            verdict = check(state.facts, actor, action)
            if len(_VERDICTS) >= _MAX_VERDICTS:
                _VERDICTS.clear()
            _VERDICTS[key] = verdict
        return verdict
    t = TRANSITIONS[action]
    if state.status not in t.sources:
        raise DomainError(ErrorCode.WO_TRANSITION_NOT_ALLOWED, action=action.value,
                          status=state.status.value)
    return t


def decide(state: JobState, actor: Actor | None, action: Action, data: Mapping[str, Any],
           at: datetime) -> Decision:
    """What ``action`` by ``actor`` at ``at`` does to the job, or a coded refusal.

    ``data`` holds the action's fields; other keys (a client-made event id, an expected
    version) are ignored. A report is not decided here (``state_machine.check_report``:
    there is no job yet)."""
    if action == Action.REPORT:
        raise ValueError("a report creates the job: see state_machine.check_report")
    if action == Action.RECORD_SWAP:
        _swap_preconditions(state)
    t = _transition(state, actor, action)
    if (action == Action.RESOLVE and state.kind == WorkOrderKind.METER_SWAP
            and not state.has_swap):
        raise DomainError(ErrorCode.WO_SWAP_REQUIRED)
    if t.reason_required:  # checked first, then the action's own fields
        data = {**data, "reason": f.reason(data)}
    checked, own, recorded = _RULES[action](state, actor, data, at)
    after = t.target if t.target is not None else state.status
    changes: dict[str, Any] = {**own, "status": after}
    if after != state.status and after in STATUS_TIME:
        changes[STATUS_TIME[after]] = at
    last = state.last_activity_at
    changes["last_activity_at"] = at if last is None else max(last, at)
    return Decision(action, state.status, after, changes, recorded, checked)


def available_actions(state: JobState, actor: Actor) -> list[Action]:
    """The actions to offer ``actor`` on the job now: the state machine's, less a swap
    already recorded."""
    return [a for a in allowed_actions(state.facts, actor)
            if not (a == Action.RECORD_SWAP and state.has_swap)]
