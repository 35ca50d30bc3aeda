"""Request and response schemas of the applications API (and the sync ops' payloads).

Bodies are checked for shape and size here; the rules (``shared.applications.rules``)
decide the rest, with the same codes on the phone and the server."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from server.work_orders.schemas import GpsFix, Strict
from shared.text import OneLine, Paragraphs

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                                r"[0-9a-f]{4}-[0-9a-f]{12}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Line = Annotated[str, StringConstraints(max_length=200), OneLine]
Note = Annotated[str, StringConstraints(max_length=1000), Paragraphs]
DocName = Annotated[str, StringConstraints(max_length=24)]


class SubmitOp(Strict):
    """``application.submit@1``'s payload (the envelope's entity_id is the id)."""

    kind: Annotated[str, StringConstraints(max_length=24)]
    applicant_name: Line
    contact_phone: Annotated[str, StringConstraints(max_length=20)]
    address: Line
    id_card_no: Annotated[str, StringConstraints(max_length=24)]
    capacity_kw: int | None = Field(default=None, ge=0, le=1_000_000)
    station_id: Uuid | None = None
    account_id: Uuid | None = None
    location: GpsFix | None = None
    documents: dict[DocName, Sha256] = Field(default_factory=dict, max_length=6)
    note: Note | None = None


class ApplicationIn(SubmitOp):
    """Apply online, or take a walk-in application at the counter (``applicant_user_id``:
    the customer's login, when the applicant has one)."""

    id: Uuid
    applicant_user_id: Uuid | None = None


class ActionIn(Strict):
    """The fields of a step's decision; each action reads its own (see the rules)."""

    reason: Note | None = None
    note: Note | None = None
    area_id: Uuid | None = None
    assignee_id: Uuid | None = None
    opening_fen: int | None = Field(default=None, ge=0, le=10_000_000)
    rating: int | None = Field(default=None, ge=-100, le=100)
    comment: Note | None = None
    documents: list[DocName] | dict[DocName, Sha256] | None = Field(default=None)


class ResubmitOp(Strict):
    documents: dict[DocName, Sha256] = Field(default_factory=dict, max_length=6)
    note: Note | None = None


class RateOp(Strict):
    rating: int = Field(ge=-100, le=100)
    comment: Note | None = None


class InstallIn(Strict):
    """``application.install@1`` (entity_id: the installation work order)."""

    meter_no: Annotated[str, StringConstraints(max_length=24)]
    start_kwh: Annotated[str, StringConstraints(max_length=16)]
    card_no: Annotated[str, StringConstraints(max_length=24)]


class ApplicationOut(BaseModel):
    id: str
    code: str
    kind: str
    status: str
    step: str
    channel: str
    station_id: str
    area_id: str | None
    account_id: str | None
    account_no: str | None = None
    applicant_user_id: str | None
    applicant_name: str
    contact_phone: str
    address: str
    lat: float | None
    lon: float | None
    capacity_kw: int | None
    note: str | None
    id_card_masked: str
    documents: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    return_reason: str | None
    returned_documents: list[Any]
    outcome_reason: str | None
    survey_order_id: str | None
    install_order_id: str | None
    findings: str | None
    opening_fen: int
    meter_id: str | None
    installed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    submitted_at: datetime
    completed_at: datetime | None
    version: int


class ApplicationPage(BaseModel):
    items: list[ApplicationOut]
    total: int


class ArchiveOut(BaseModel):
    application_id: str
    record: dict[str, Any]
    record_sha256: str
    verified: bool = Field(description="The record still hashes to record_sha256")
    archived_by: str | None
    archived_at: datetime


class WorkerOut(BaseModel):
    id: str
    display_name: str
    role: str
