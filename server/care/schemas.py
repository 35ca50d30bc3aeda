"""Request and response schemas of the care-list API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, StringConstraints

from server.work_orders.schemas import Strict
from shared.text import Paragraphs

Reason = Annotated[str, StringConstraints(max_length=200), Paragraphs]


class CareRequestIn(Strict):
    """Add (category, reason, review date) or remove (reason) an account."""

    account_id: Annotated[str, StringConstraints(max_length=36)]
    change: Annotated[str, StringConstraints(max_length=8)]
    category: Annotated[str, StringConstraints(max_length=24)] | None = None
    reason: Reason
    review_on: Annotated[str, StringConstraints(max_length=10)] | None = None


class CareDecisionIn(Strict):
    approve: bool
    note: Reason | None = None


class CareRequestOut(BaseModel):
    id: str
    account_id: str
    account_no: str
    account_name: str
    change: str
    category: str | None
    reason: str
    review_on: date | None
    status: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    requested_by_name: str | None = None
    decided_by_name: str | None = None


class CareEntryOut(BaseModel):
    account_id: str
    account_no: str
    account_name: str
    category: str
    reason: str
    review_on: date
    added_by: str
    approved_by: str
    since: datetime
    review_order_id: str | None
    added_by_name: str | None = None
    approved_by_name: str | None = None
