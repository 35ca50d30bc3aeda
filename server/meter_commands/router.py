"""``/api/v1/meter-commands``: remote disconnect / reconnect commands, by hand (managers,
e.g. for a care-list account after a visit) and the head-end's signed acknowledgements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from server.billing.ledger import installed_meter, lock_account
from server.customers import service as customers
from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, SessionDep, require_roles
from server.meter_commands import service
from server.meter_commands.models import MeterCommand
from server.uow import UnitOfWork
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.text import Paragraphs
from shared.timeutil import utcnow

router = APIRouter(prefix="/api/v1/meter-commands", tags=["meter commands"])
_OFFICE = require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN)
_MANAGER = require_roles(Role.MANAGER)


class CommandOut(BaseModel):
    id: str
    meter_id: str
    account_id: str
    seq: int
    kind: str
    state: str
    origin: str
    reason: str
    balance_fen: int
    requested_by: str | None
    attempts: int
    next_attempt_at: datetime
    last_sent_at: datetime | None
    acknowledged_at: datetime | None
    failed_at: datetime | None
    error: str | None
    created_at: datetime


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: Annotated[str, StringConstraints(max_length=36)]
    kind: Literal["disconnect", "reconnect"]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]


class AckOut(BaseModel):
    verdict: str


def command_out(c: MeterCommand) -> CommandOut:
    return CommandOut(**c.model_dump(warnings=False))


@router.get("", response_model=list[CommandOut], dependencies=[_OFFICE],
            summary="Meter commands of accounts I may see, newest first")
def list_commands(user: CurrentUser, session: SessionDep,
                  account_id: Annotated[str | None, Query(max_length=36)] = None,
                  state: Annotated[str | None, Query(max_length=12)] = None,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CommandOut]:
    stmt = select(MeterCommand).where(col(MeterCommand.account_id).in_(
        select(Account.id).where(customers.visible_clause(user.actor))))
    if account_id:
        stmt = stmt.where(MeterCommand.account_id == account_id)
    if state:
        stmt = stmt.where(MeterCommand.state == state)
    rows = session.exec(stmt.order_by(col(MeterCommand.created_at).desc()).limit(limit)).all()
    return [command_out(c) for c in rows]


@router.post("", response_model=CommandOut, status_code=201, dependencies=[_MANAGER],
             summary="Disconnect or reconnect by hand, with a reason (managers)")
def request_command(body: CommandIn, user: CurrentUser, db: DatabaseDep) -> CommandOut:
    """The only way a care-list account is disconnected: a person decides."""
    with UnitOfWork(db, user.actor) as uow:
        account = customers.get_visible(uow.session, actor=user.actor,
                                        account_id=body.account_id)
        account = lock_account(uow.session, account.id)
        meter = installed_meter(uow.session, account.id)
        if meter is None:
            raise DomainError(ErrorCode.BILLING_NO_INSTALLED_METER, account=account.id)
        cmd = service.request(uow, account=account, meter=meter, kind=body.kind,
                              reason=body.reason, origin="manual", at=utcnow(),
                              actor=user.actor)
        uow.commit()
    return command_out(cmd)


@router.post("/{command_id}/retry", response_model=CommandOut, dependencies=[_MANAGER],
             summary="Send a failed command again (managers)")
def retry(command_id: str, user: CurrentUser, db: DatabaseDep) -> CommandOut:
    with UnitOfWork(db, user.actor) as uow:
        visible = uow.session.exec(select(MeterCommand.id).where(
            MeterCommand.id == command_id, col(MeterCommand.account_id).in_(
                select(Account.id).where(customers.visible_clause(user.actor))))).first()
        if visible is None:
            raise DomainError(ErrorCode.METER_COMMAND_NOT_FOUND, command=command_id)
        cmd = service.retry(uow, command_id=command_id, actor=user.actor)
        uow.commit()
    return command_out(cmd)


@router.post("/acks", response_model=AckOut,
             summary="The metering head-end's signed acknowledgement (no user sign-in)",
             openapi_extra={"requestBody": {"content": {"application/json": {"schema": {
                 "type": "object"}}}, "required": True}})
async def ack(request: Request, db: DatabaseDep,
              x_signature: Annotated[str | None, Header()] = None) -> AckOut:
    """``{"command_id", "seq", "result": ok|stale|failed, "relay"}``, signed like the
    payment callbacks. Late, repeated and out-of-order acknowledgements are normal."""
    body = await request.body()
    verdict = await run_in_threadpool(service.handle_ack, db, key=request.app.state.headend_key,
                                      body=body, signature=x_signature)
    return AckOut(verdict=verdict)
