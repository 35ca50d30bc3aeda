"""``/api/v1/balance-discrepancies``: differences found at meter swaps, for the office."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints

from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.discrepancies import service
from server.discrepancies.models import BalanceDiscrepancy
from server.uow import UnitOfWork
from server.work_orders.schemas import Strict
from shared.enums import DiscrepancyStatus
from shared.text import Paragraphs

router = APIRouter(prefix="/api/v1/balance-discrepancies", tags=["billing"])


class DiscrepancyOut(BaseModel):
    id: str
    swap_id: str
    work_order_id: str
    account_id: str
    station_id: str
    meter_id: str
    ledger_fen: int = Field(description="The ledger's balance at the swap (the new meter got "
                                        "it)")
    reported_fen: int = Field(description="What the technician read off the old meter")
    difference_fen: int = Field(description="reported - ledger: what settling posts")
    status: DiscrepancyStatus
    reported_by: str
    reported_at: datetime
    created_at: datetime
    proposed_by: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    resolution_reason: str | None
    ledger_entry_id: str | None
    version: int


class DiscrepancyPage(BaseModel):
    items: list[DiscrepancyOut]
    total: int


class DecisionIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]
    expected_version: int | None = Field(default=None, ge=1, le=10**9,
                                         description="The version you reviewed (optional)")


def _out(row: BalanceDiscrepancy) -> DiscrepancyOut:
    return DiscrepancyOut(**row.model_dump(warnings=False))


@router.get("", response_model=DiscrepancyPage,
            summary="Balance discrepancies of my station (dispatchers, managers, admins)")
def list_discrepancies(
    user: CurrentUser, session: SessionDep, status: DiscrepancyStatus | None = None,
    account_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> DiscrepancyPage:
    rows, total = service.listing(session, actor=user.actor, status=status,
                                  account_id=account_id, limit=limit, offset=offset)
    return DiscrepancyPage(items=[_out(r) for r in rows], total=total)


@router.get("/{discrepancy_id}", response_model=DiscrepancyOut,
            summary="One balance discrepancy")
def get_discrepancy(discrepancy_id: str, user: CurrentUser, session: SessionDep
                    ) -> DiscrepancyOut:
    return _out(service.get(session, actor=user.actor, discrepancy_id=discrepancy_id))


def _decide(outcome: DiscrepancyStatus, discrepancy_id: str, body: DecisionIn,
            user: CurrentUser, db: DatabaseDep) -> DiscrepancyOut:
    """The same decision sent again (a lost answer) answers the same and changes nothing."""
    with UnitOfWork(db, user.actor) as uow:
        row, _ = service.resolve(uow, actor=user.actor, discrepancy_id=discrepancy_id,
                                 outcome=outcome, reason=body.reason,
                                 expected_version=body.expected_version)
        uow.commit()
    return _out(row)


@router.post("/{discrepancy_id}/settle", response_model=DiscrepancyOut,
             summary="The meter was right: post the difference as an adjustment (managers, "
                     "admins)", responses={409: {"description": "DISCREPANCY_CLOSED"}})
def settle(discrepancy_id: str, body: DecisionIn, user: CurrentUser, db: DatabaseDep
           ) -> DiscrepancyOut:
    return _decide(DiscrepancyStatus.SETTLED, discrepancy_id, body, user, db)


@router.post("/{discrepancy_id}/dismiss", response_model=DiscrepancyOut,
             summary="The ledger was right: close it without moving money (managers, "
                     "admins)", responses={409: {"description": "DISCREPANCY_CLOSED"}})
def dismiss(discrepancy_id: str, body: DecisionIn, user: CurrentUser, db: DatabaseDep
            ) -> DiscrepancyOut:
    return _decide(DiscrepancyStatus.DISMISSED, discrepancy_id, body, user, db)
