"""A balance discrepancy: the remaining balance read off a meter at a swap differs from the
account's ledger. The ledger's figure went to the new meter; the difference waits here
for the office to settle (an audited ``adjustment`` entry) or dismiss."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, when


class BalanceDiscrepancy(SQLModel, table=True):
    __tablename__ = "balance_discrepancy"

    id: str = id_field()
    swap_id: str = Field(foreign_key="meter_swap.id", unique=True, max_length=36)
    work_order_id: str = fk("work_order.id", index=False)
    account_id: str = fk("account.id")
    station_id: str = fk("station.id")
    meter_id: str = fk("meter.id", index=False)  # the old meter, whose face was read
    ledger_fen: int  # the account's ledger balance at the swap (carried to the new meter)
    reported_fen: int  # what the technician read off the old meter (evidence)
    difference_fen: int  # reported - ledger: what settling credits (negative: debits)
    status: str = Field(default="open", max_length=12, index=True)  # open|settled|dismissed
    reported_by: str = fk("user.id", index=False)  # the technician
    reported_at: datetime = when(nullable=False)  # the swap's (device) time
    created_at: datetime = when(now=True)
    proposed_by: str | None = fk("user.id", nullable=True, index=False)  # who proposed the
    # decision (today the one who makes it; with four eyes, the first of the two)
    resolved_by: str | None = fk("user.id", nullable=True, index=False)
    resolved_at: datetime | None = when()
    resolution_reason: str | None = Field(default=None, max_length=500)
    ledger_entry_id: str | None = Field(default=None, max_length=36)  # the adjustment
    version: int = 1
