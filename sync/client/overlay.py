"""Laying the user's unsynced ops over a server row: what the phone shows until the server
has decided. Pure functions, no I/O.

Each op goes through the shared state machine (``shared.workorders.state_machine``), so
the phone computes the same status the server will: ``check`` says whether the op is
still possible on the row as it is now (a pulled change may have made it impossible — the
op is then marked as a likely conflict and not laid over), ``target_status`` says where
it leads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.enums import AreaClass, Priority, ReportChannel, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.timeutil import ensure_aware
from shared.workorders import deadlines
from shared.workorders.state_machine import (
    TRANSITIONS,
    Action,
    Actor,
    OrderFacts,
    check,
    check_report,
    target_status,
)
from sync.client.outbox import OutboxEntry
from sync.client.timefmt import to_iso
from sync.protocol import OpType

S = WorkOrderStatus
T = OpType

#: Op type -> state-machine action (report and swap have their own handling).
ACTION_OF: dict[str, Action] = {
    T.WO_REPORT: Action.REPORT, T.WO_ACCEPT: Action.ACCEPT, T.WO_DECLINE: Action.DECLINE,
    T.WO_START_TRAVEL: Action.START_TRAVEL, T.WO_ARRIVE: Action.ARRIVE,
    T.WO_ADD_NOTE: Action.ADD_NOTE, T.WO_ADD_PHOTO: Action.ADD_PHOTO,
    T.WO_REQUEST_HELP: Action.REQUEST_HELP, T.WO_RESOLVE: Action.RESOLVE,
    T.WO_CONFIRM: Action.CONFIRM, T.WO_CANCEL: Action.CANCEL,
    T.METER_SWAP_RECORD: Action.RECORD_SWAP,
}
#: The timestamp a status sets on the row (as the server's services do).
STATUS_TIME = {
    S.DISPATCHED: "dispatched_at", S.ACCEPTED: "accepted_at", S.ON_SITE: "arrived_at",
    S.RESOLVED: "resolved_at", S.CONFIRMED: "confirmed_at", S.CLOSED: "closed_at",
    S.CANCELLED: "cancelled_at",
}

Lookup = Callable[[str, str], dict[str, Any] | None]


@dataclass(frozen=True)
class Effect:
    """What one op did to the shown row."""

    op: OutboxEntry
    action: Action | None
    from_status: WorkOrderStatus | None
    to_status: WorkOrderStatus | None
    laid: bool  # False: not possible on the row as it is (see ``problem``)
    problem: DomainError | None = None


def facts(row: dict[str, Any]) -> OrderFacts:
    return OrderFacts(S(row["status"]), WorkOrderKind(row["kind"]), row.get("station_id"),
                      row.get("assignee_id"), row.get("account_id"))


def _later(a: str | None, b: datetime) -> str:
    if a is None:
        return to_iso(b)
    return max(a, to_iso(b), key=lambda v: ensure_aware(datetime.fromisoformat(v)))


def _fields(action: Action, row: dict[str, Any], p: dict[str, Any]) -> None:
    """The row fields an action changes besides its status (mirrors the server)."""
    if action == Action.DECLINE:
        row["assignee_id"] = None
        row["assignee_name"] = None
    elif action == Action.REQUEST_HELP:
        row["help_requested"] = True
    elif action == Action.RESOLVE:
        row["resolution"] = p.get("resolution")
        row["cause"] = p.get("cause")
        row["help_requested"] = False
    elif action == Action.CONFIRM:
        row["rating"] = p.get("rating")
        row["rating_comment"] = p.get("comment")
    elif action == Action.CANCEL:
        row["cancel_reason"] = p.get("reason")


def new_report_row(op: OutboxEntry, actor: Actor | None, lookup: Lookup) -> dict[str, Any]:
    """The job a pending report will create, as far as the phone can tell."""
    p = op.payload
    kind = WorkOrderKind(p["kind"])
    account = lookup("account", p["account_id"]) if p.get("account_id") else None
    area = lookup("transformer_area", account["area_id"]) if account else None
    loc = p.get("location") or {}
    row: dict[str, Any] = {
        "id": op.entity_id, "code": None, "kind": kind.value, "status": S.REPORTED.value,
        "priority": Priority.NORMAL.value,
        "channel": (ReportChannel.APP if actor is None or actor.role == Role.CUSTOMER
                    else ReportChannel.HOTLINE).value,
        "station_id": account.get("station_id") if account else None,
        "area_id": account.get("area_id") if account else None,
        "area_class": area.get("area_class") if area else None,
        "account_id": p.get("account_id"), "meter_id": None,
        "reporter_id": actor.user_id if actor else op.user_id, "assignee_id": None,
        "description": p.get("description"), "address": account.get("address") if account
        else None, "lat": loc.get("lat", account.get("lat") if account else None),
        "lon": loc.get("lon", account.get("lon") if account else None),
        "reported_at": to_iso(op.created_at), "arrive_by": None, "complete_by": None,
        "last_activity_at": to_iso(op.created_at), "help_requested": False, "version": 0,
    }
    if area is not None:
        dl = deadlines.compute_deadlines(kind=kind, area_class=AreaClass(area["area_class"]),
                                         reported_at=op.created_at)
        row["arrive_by"] = to_iso(dl.arrive_by) if dl.arrive_by else None
        row["complete_by"] = to_iso(dl.complete_by)
    return row


def lay_over(row: dict[str, Any] | None, ops: Sequence[OutboxEntry], actor: Actor | None,
             lookup: Lookup = lambda _e, _i: None) -> tuple[dict[str, Any] | None, list[Effect]]:
    """Apply ``ops`` (one work order's live ops, oldest first) to a copy of ``row``.

    Returns the row as the user should see it and one ``Effect`` per op.
    """
    shown = dict(row) if row is not None else None
    effects: list[Effect] = []
    for op in ops:
        action = ACTION_OF.get(op.type)
        if op.type == T.WO_REPORT:
            if shown is not None:  # the server's row already exists: it wins
                effects.append(Effect(op, action, None, S(shown["status"]), False))
                continue
            try:
                if actor is not None:
                    check_report(kind=WorkOrderKind(op.payload["kind"]),
                                 account_id=op.payload.get("account_id"), actor=actor)
            except DomainError as exc:
                effects.append(Effect(op, action, None, None, False, exc))
                continue
            shown = new_report_row(op, actor, lookup)
            effects.append(Effect(op, action, None, S.REPORTED, True))
            continue
        if action is None:  # an op type this read model does not know: shown, not laid
            effects.append(Effect(op, None, None, None, False))
            continue
        if shown is None:
            effects.append(Effect(op, action, None, None, False, DomainError(
                ErrorCode.WORK_ORDER_NOT_FOUND, work_order=op.entity_id)))
            continue
        before = S(shown["status"])
        try:
            if actor is not None:
                check(facts(shown), actor, action)
        except DomainError as exc:
            effects.append(Effect(op, action, before, before, False, exc))
            continue
        after = target_status(TRANSITIONS[action], before)
        _fields(action, shown, op.payload)
        shown["status"] = after.value
        if after != before and after in STATUS_TIME:
            shown[STATUS_TIME[after]] = to_iso(op.created_at)
        shown["last_activity_at"] = _later(shown.get("last_activity_at"), op.created_at)
        effects.append(Effect(op, action, before, after, True))
    return shown, effects
