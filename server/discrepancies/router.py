"""``/api/v1/balance-discrepancies``: differences found at meter swaps, for the office.

Deciding one (settle / dismiss) takes two people: those endpoints live with the four-eyes
approvals (``server.supervision.router``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from server.deps import CurrentUser, SessionDep
from server.discrepancies import service
from server.discrepancies.models import BalanceDiscrepancy
from shared.enums import DiscrepancyStatus

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
