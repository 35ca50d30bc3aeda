"""``/api/v1/outages``: the office publishes and cancels planned outage notices; everyone
signed in lists those that concern them (customers: their accounts' areas)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from server.deps import CurrentUser, DatabaseDep, SessionDep, require_roles
from server.outages import service
from server.outages.models import Outage
from server.outages.schemas import CancelIn, OutageIn, OutageOut
from server.uow import UnitOfWork
from shared.enums import Role

router = APIRouter(prefix="/api/v1/outages", tags=["outages"])
_OFFICE = require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN)


def out(o: Outage, told: int = 0) -> OutageOut:
    return OutageOut(**o.model_dump(warnings=False), accounts_told=told)


@router.post("", response_model=OutageOut, status_code=201, dependencies=[_OFFICE],
             summary="Publish a planned outage notice (office); the areas' customers are told")
def publish(body: OutageIn, user: CurrentUser, db: DatabaseDep) -> OutageOut:
    with UnitOfWork(db, user.actor) as uow:
        outage, told = service.publish(uow, actor=user.actor, data=body.model_dump())
        uow.commit()
    return out(outage, told)


@router.get("", response_model=list[OutageOut], summary="Notices that concern me")
def listing(user: CurrentUser, session: SessionDep, current: bool = True,
            limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[OutageOut]:
    return [out(o) for o in service.list_outages(session, actor=user.actor, current=current,
                                                 limit=limit)]


@router.post("/{outage_id}/cancel", response_model=OutageOut, dependencies=[_OFFICE],
             summary="Cancel a notice with a reason (office); the customers told are told "
                     "again, with the reason")
def cancel(outage_id: str, body: CancelIn, user: CurrentUser, db: DatabaseDep) -> OutageOut:
    with UnitOfWork(db, user.actor) as uow:
        outage = service.cancel(uow, actor=user.actor, outage_id=outage_id,
                                reason=body.reason)
        uow.commit()
    return out(outage)
