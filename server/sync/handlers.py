"""Op handlers: each op type validated and applied through the same domain services the
online API uses. A handler returns the entity it touched; it never commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from server.billing import recharges
from server.billing.schemas import CashRechargeOp
from server.meters import service as meters
from server.meters.schemas import SwapIn
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.schemas import ACTION_BODY, ReportIn
from shared.workorders.state_machine import Action, Actor
from sync.protocol import ACTION_OF, OpEnvelope, OpType


class PayloadError(Exception):
    def __init__(self, summary: str) -> None:
        super().__init__(summary)
        self.summary = summary


@dataclass(frozen=True)
class Applied:
    entity: str
    entity_id: str
    version: int


Handler = Callable[[UnitOfWork, Actor, OpEnvelope, Any, datetime], Applied]


@dataclass(frozen=True)
class OpSpec:
    model: type[BaseModel]
    apply: Handler


def _parse(model: type[BaseModel], payload: dict[str, Any]) -> Any:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                            for e in exc.errors()[:5])
        raise PayloadError(summary) from exc


def _action(action: Action) -> Handler:
    def apply(uow: UnitOfWork, actor: Actor, op: OpEnvelope, body: Any, at: datetime
              ) -> Applied:
        data = body.model_dump()
        data["event_id"] = op.op_id  # the op id doubles as the timeline event id
        result = work_orders.act(uow, actor=actor, order_id=op.entity_id, action=action,
                                 data=data, at=at)
        return Applied("work_order", result.order.id, result.order.version)
    return apply


def _report(uow: UnitOfWork, actor: Actor, op: OpEnvelope, body: Any, at: datetime
            ) -> Applied:
    data = body.model_dump()
    data["id"] = op.entity_id
    order, _ = work_orders.report(uow, actor=actor, data=data, at=at)
    return Applied("work_order", order.id, order.version)


def _swap(uow: UnitOfWork, actor: Actor, op: OpEnvelope, body: Any, at: datetime) -> Applied:
    result = meters.record_swap(uow, actor=actor, order_id=op.entity_id,
                                data=body.model_dump(mode="python"), at=at)
    return Applied("meter_swap", result.swap.id, 1)


def _cash(uow: UnitOfWork, actor: Actor, op: OpEnvelope, body: Any, at: datetime) -> Applied:
    """Field cash recharge: the envelope's entity_id is the recharge's id (made on the
    device); the receipt number makes a second op for the same receipt a no-op too."""
    result = recharges.record_cash(uow, actor=actor, receipt_id=op.entity_id,
                                   account_id=body.account_id, amount_fen=body.amount_fen,
                                   receipt_no=body.receipt_no, at=at, op_id=op.op_id)
    return Applied("ledger_entry", result.entry.id, result.entry.version)


class _ReportPayload(ReportIn):
    """``id`` comes from the envelope's entity_id."""


HANDLERS: dict[str, OpSpec] = {
    **{op: OpSpec(ACTION_BODY[action], _action(action)) for op, action in ACTION_OF.items()
       if action in ACTION_BODY},
    OpType.WO_REPORT: OpSpec(_ReportPayload, _report),
    OpType.METER_SWAP_RECORD: OpSpec(SwapIn, _swap),
    OpType.RECHARGE_CASH: OpSpec(CashRechargeOp, _cash),
}


def parse(op: OpEnvelope) -> tuple[OpSpec, Any]:
    spec = HANDLERS.get(op.type)
    if spec is None:
        raise KeyError(op.type)
    return spec, _parse(spec.model, op.payload)
