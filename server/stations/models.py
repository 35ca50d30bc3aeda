"""Supply stations (供电所) and transformer areas (台区)."""

from __future__ import annotations

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field
from shared.enums import AreaClass


class Station(SQLModel, table=True):
    id: str = id_field()
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=64)
    county: str = Field(max_length=64)
    version: int = 1


class TransformerArea(SQLModel, table=True):
    __tablename__ = "transformer_area"

    id: str = id_field()
    code: str = Field(max_length=24, unique=True)
    name: str = Field(max_length=64)
    station_id: str = fk("station.id")
    rated_kva: int = Field(gt=0)
    area_class: AreaClass = Field(sa_type=String(8))
    version: int = 1
