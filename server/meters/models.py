"""Meters, their readings and meter-swap records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when
from shared.enums import MeterStatus, ReadingSource


class Meter(SQLModel, table=True):
    id: str = id_field()
    meter_no: str = Field(max_length=24, unique=True, index=True)
    model: str = Field(max_length=40)
    status: MeterStatus = Field(sa_type=String(12), index=True)
    account_id: str | None = fk("account.id", nullable=True)
    area_id: str | None = fk("transformer_area.id", nullable=True)
    station_id: str = fk("station.id")  # where it is installed or kept in stock
    purchase_count: int = 0
    balance_fen: int = 0  # remaining balance held on the meter
    card_no: str | None = Field(default=None, max_length=24)
    last_reading_centi: int | None = None  # kWh x 100
    last_reading_at: datetime | None = when()
    installed_at: datetime | None = when()
    removed_at: datetime | None = when()
    updated_at: datetime = when(now=True)
    version: int = 1


class MeterReading(SQLModel, table=True):
    __tablename__ = "meter_reading"
    __table_args__ = (UniqueConstraint("meter_id", "read_date", "source"),)

    id: str = id_field()
    meter_id: str = fk("meter.id")
    account_id: str | None = fk("account.id", nullable=True)
    read_date: date = Field(index=True)
    read_at: datetime = when(nullable=False)
    value_centi: int  # kWh x 100
    source: ReadingSource = Field(sa_type=String(12))
    created_at: datetime = when(now=True)


class MeterSwap(SQLModel, table=True):
    __tablename__ = "meter_swap"

    id: str = id_field()  # made on the device: the idempotency key
    work_order_id: str = Field(foreign_key="work_order.id", unique=True, max_length=36)
    account_id: str = fk("account.id")
    old_meter_id: str = fk("meter.id")
    new_meter_id: str = fk("meter.id")
    old_final_centi: int
    old_remaining_fen: int
    new_start_centi: int
    new_card_no: str = Field(max_length=24)
    seal_numbers: list[Any] = json_field(list)
    old_face_photo: str = Field(max_length=64)
    new_face_photo: str = Field(max_length=64)
    carried_fen: int
    recorded_by: str = fk("user.id")
    recorded_at: datetime = when(nullable=False)  # device time
    received_at: datetime = when(now=True)  # server time
