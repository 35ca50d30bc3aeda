"""Laying the user's unsynced ops over a server row: what the phone shows until the server
has decided. Pure functions, no I/O.

Each op is decided by the shared rules (``shared.workorders.rules.decide``) on the row as
shown so far, exactly as the server will decide it: a refusal means the op is no longer
possible on the row as it is now (a pulled change may have made it impossible — the op is
then marked as a likely conflict and not laid over); otherwise the decision's changes are
stored on the shown row (``apply``), as the server stores them on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from shared.enums import AreaClass, Priority, ReportChannel, Role, WorkOrderKind, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.monitoring.findings import decide_finding
from shared.workorders import deadlines
from shared.workorders.rules import Decision, JobState, decide
from shared.workorders.state_machine import Action, Actor, check_report
from sync.client.outbox import OutboxEntry
from sync.client.timefmt import to_iso
from sync.protocol import ACTION_OF, FINDING_RESOLVES, OpType

S = WorkOrderStatus
T = OpType

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


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Enum):
        return value.value
    return value


def apply(row: dict[str, Any], decision: Decision) -> None:
    """Store a decision on a row as the phone keeps it (JSON values). A new assignee's
    name and phone, which the server adds to its rows, are not known here."""
    before = row.get("assignee_id")
    for name, value in decision.changes.items():
        row[name] = _json(value)
    if row.get("assignee_id") != before:
        row["assignee_name"] = row["assignee_phone"] = None


def step(row: dict[str, Any], action: Action, payload: dict[str, Any], actor: Actor | None,
         at: datetime, *, has_swap: bool = False) -> Decision:
    """Decide one action on ``row`` and store it there (raises the rules' refusal)."""
    decision = decide(JobState.of(row, has_swap=has_swap), actor, action, payload, at)
    apply(row, decision)
    return decision


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
             lookup: Lookup = lambda _e, _i: None, *, has_swap: bool = False
             ) -> tuple[dict[str, Any] | None, list[Effect]]:
    """Apply ``ops`` (one work order's live ops, oldest first) to a copy of ``row``.

    ``has_swap``: the job's meter swap is recorded (pulled); a swap op laid over counts
    for the ops after it. Returns the row as the user should see it and one ``Effect``
    per op.
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
        if op.type == T.INSPECTION_FINDING:
            action = FINDING_RESOLVES
        if action is None:  # an op type this read model does not know: shown, not laid
            effects.append(Effect(op, None, None, None, False))
            continue
        if shown is None:
            effects.append(Effect(op, action, None, None, False, DomainError(
                ErrorCode.WORK_ORDER_NOT_FOUND, work_order=op.entity_id)))
            continue
        before = S(shown["status"])
        try:
            if op.type == T.INSPECTION_FINDING:  # resolves the job, decided as the server will
                _, decision = decide_finding(JobState.of(shown), actor, op.payload,
                                             op.created_at)
                apply(shown, decision)
            else:
                decision = step(shown, action, op.payload, actor, op.created_at,
                                has_swap=has_swap)
        except DomainError as exc:
            effects.append(Effect(op, action, before, before, False, exc))
            continue
        has_swap = has_swap or action == Action.RECORD_SWAP
        effects.append(Effect(op, action, before, decision.to_status, True))
    return shown, effects
