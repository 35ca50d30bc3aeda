"""Business applications and their archive records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when


class Application(SQLModel, table=True):
    """One application (新装, 增容/减容, 过户, 变更, 销户) and where it stands.

    ``steps`` is its workflow as the customer follows it: one entry per step reached,
    with its holder, when it started, its deadline and when and by whom it ended.
    ``documents`` is every document photo sent, in order (a resubmission adds to it;
    nothing sent is dropped). ID numbers are kept only as a keyed digest and a masked
    form."""

    __table_args__ = (Index("ix_application_station_status", "station_id", "status"),)

    id: str = id_field()  # made on the device (or the desk): the idempotency key
    code: str = Field(max_length=24, unique=True)
    kind: str = Field(max_length=24, index=True)
    status: str = Field(max_length=12, index=True)
    step: str = Field(max_length=16)
    channel: str = Field(max_length=12)  # app | counter
    station_id: str = fk("station.id")
    area_id: str | None = fk("transformer_area.id", nullable=True)
    account_id: str | None = fk("account.id", nullable=True)
    applicant_user_id: str | None = fk("user.id", nullable=True)
    submitted_by: str = fk("user.id")
    applicant_name: str = Field(max_length=64)
    contact_phone: str = Field(max_length=20)
    address: str = Field(max_length=200)
    lat: float | None = None
    lon: float | None = None
    gps_accuracy_m: float | None = None
    capacity_kw: int | None = None
    note: str | None = Field(default=None, max_length=1000)
    id_card_digest: str = Field(max_length=64, index=True)
    id_card_masked: str = Field(max_length=24)
    documents: list[Any] = json_field(list)
    steps: list[Any] = json_field(list)
    return_reason: str | None = Field(default=None, max_length=500)
    returned_documents: list[Any] = json_field(list)
    outcome_reason: str | None = Field(default=None, max_length=500)
    survey_order_id: str | None = fk("work_order.id", nullable=True)
    install_order_id: str | None = fk("work_order.id", nullable=True)
    findings: str | None = Field(default=None, max_length=1000)
    opening_fen: int = 0
    meter_id: str | None = fk("meter.id", nullable=True)
    installed_at: datetime | None = when()
    rating: int | None = None
    rating_comment: str | None = Field(default=None, max_length=1000)
    submitted_at: datetime = when(nullable=False)  # device time
    completed_at: datetime | None = when()
    created_at: datetime = when(now=True)
    updated_at: datetime = when(now=True)
    version: int = 1


class ApplicationArchive(SQLModel, table=True):
    """The immutable record of a completed application: its documents (content hashes,
    who sent them, when) and every decision (who, when, what), and the SHA-256 of that
    record. Written once; the database refuses updates and deletes."""

    __tablename__ = "application_archive"

    id: str = id_field()
    application_id: str = Field(foreign_key="application.id", unique=True, max_length=36)
    station_id: str = fk("station.id")
    record: dict[str, Any] = json_field(dict)
    record_sha256: str = Field(max_length=64)
    archived_by: str | None = fk("user.id", nullable=True)
    archived_at: datetime = when(now=True)
