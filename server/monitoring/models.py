"""Grid-monitoring tables: what the metering system (AMI) reads, its interval data, the
daily results computed from it, the thresholds, the anomalies and inspection findings.

Interval data is the big table (96 rows per meter per day): its rows are kept narrow —
an integer metering point, the local day, the slot of the day (0..95), integer Wh and
an estimated flag — with the day first in the key, so a day's analytics read one key
range and the table can be partitioned by day (``docs/monitoring.md``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, SmallInteger
from sqlmodel import Field, SQLModel

from server.columns import fk, id_field, json_field, when


class MeteringPoint(SQLModel, table=True):
    """A meter the AMI reads: a customer meter (``meter_id``) or an area's master (supply)
    meter (``area_id``, with the power factor its load rate is computed with)."""

    __tablename__ = "metering_point"

    id: int | None = Field(default=None, primary_key=True)
    meter_no: str = Field(max_length=24, unique=True)
    kind: str = Field(max_length=8)  # customer | supply
    meter_id: str | None = Field(default=None, foreign_key="meter.id", unique=True,
                                 max_length=36)
    area_id: str | None = fk("transformer_area.id", nullable=True)  # supply points only
    power_factor: float | None = Field(default=None, sa_type=Float)
    created_at: datetime = when(now=True)


class IntervalReading(SQLModel, table=True):
    """Energy of one 15-minute interval of one metering point (local day, slot 0..95)."""

    __tablename__ = "interval_reading"
    __table_args__ = ({"sqlite_with_rowid": False},)

    day: date = Field(primary_key=True)
    point_id: int = Field(primary_key=True, foreign_key="metering_point.id")
    slot: int = Field(primary_key=True, sa_type=SmallInteger)
    energy_wh: int
    estimated: bool = Field(default=False, sa_type=Boolean)


class MeterDay(SQLModel, table=True):
    """One metering point's day, summed from its intervals (recomputed with the day)."""

    __tablename__ = "meter_day"
    __table_args__ = (Index("ix_meter_day_point_day", "point_id", "day"),)

    day: date = Field(primary_key=True)
    point_id: int = Field(primary_key=True, foreign_key="metering_point.id")
    energy_wh: int
    actual_n: int  # intervals read
    estimated_n: int  # intervals filled in by the head-end
    last_actual_slot: int | None = None


class AreaDay(SQLModel, table=True):
    """A transformer area's day: collection, line loss and load (recomputed with the day)."""

    __tablename__ = "area_day"

    day: date = Field(primary_key=True)
    area_id: str = Field(primary_key=True, foreign_key="transformer_area.id", max_length=36)
    station_id: str = fk("station.id")
    meters_due: int
    meters_read: int
    meters_estimated: int  # due meters with estimated intervals (and not read)
    supply_wh: int | None = None  # None: the master meter sent nothing
    supply_complete: bool = False
    sales_wh: int = 0
    loss_rate: float | None = Field(default=None, sa_type=Float)
    baseline_loss: float | None = Field(default=None, sa_type=Float)
    loss_flag: str = Field(max_length=12)  # shared.monitoring.formulas.LossFlag
    loss_jump: bool = False
    reliable: bool = False
    peak_load_rate: float | None = Field(default=None, sa_type=Float)
    heavy_minutes: int = 0
    overload_minutes: int = 0
    load_flag: str = Field(max_length=12)  # shared.monitoring.formulas.LoadFlag
    computed_at: datetime = when(now=True)


class MonitoringDay(SQLModel, table=True):
    """Days whose data changed since they were last computed (late data makes them dirty)."""

    __tablename__ = "monitoring_day"

    day: date = Field(primary_key=True)
    dirty: bool = True
    changed_at: datetime = when(now=True)
    computed_at: datetime | None = when()


class MonitoringPolicy(SQLModel, table=True):
    """The thresholds, as data (one row, ``id='default'``)."""

    __tablename__ = "monitoring_policy"

    id: str = Field(default="default", primary_key=True, max_length=16)
    collection_target: float = Field(default=0.98, sa_type=Float)
    failing_days: int = 3
    heavy_rate: float = Field(default=0.8, sa_type=Float)
    overload_rate: float = Field(default=1.0, sa_type=Float)
    sustained_minutes: int = 120
    power_factor: float = Field(default=0.9, sa_type=Float)  # for new master meters
    unreliable_share: float = Field(default=0.02, sa_type=Float)
    baseline_days: int = 14
    stopped_days: int = 3
    recent_days: int = 7
    history_days: int = 28
    quiet_days: int = 30
    auto_dispatch: bool = True
    updated_at: datetime = when(now=True)
    version: int = 1


class LossNormRow(SQLModel, table=True):
    """The normal line-loss band of an area type (fractions: 0.1 is 10 %)."""

    __tablename__ = "loss_norm"

    area_class: str = Field(primary_key=True, max_length=8)
    low: float = Field(default=0.0, sa_type=Float)
    high: float = Field(default=0.10, sa_type=Float)
    jump: float = Field(default=0.05, sa_type=Float)
    updated_at: datetime = when(now=True)


class Anomaly(SQLModel, table=True):
    """Something the detector saw, kept once: while it is open (``open_key`` set) seeing it
    again on later days only moves ``last_day`` and refreshes the evidence."""

    __tablename__ = "monitoring_anomaly"

    id: str = id_field()
    kind: str = Field(max_length=24, index=True)
    status: str = Field(max_length=12, index=True)  # open | job | resolved | cleared
    open_key: str | None = Field(default=None, max_length=120, unique=True)
    station_id: str = fk("station.id")
    area_id: str = fk("transformer_area.id")
    meter_id: str | None = fk("meter.id", nullable=True)
    account_id: str | None = fk("account.id", nullable=True)
    first_day: date
    last_day: date = Field(index=True)
    score: float | None = Field(default=None, sa_type=Float)
    evidence: dict[str, Any] = json_field(dict)
    work_order_id: str | None = fk("work_order.id", nullable=True)
    follow_up_work_order_id: str | None = fk("work_order.id", nullable=True)
    finding_outcome: str | None = Field(default=None, max_length=20)
    created_at: datetime = when(now=True)
    updated_at: datetime = when(now=True)
    closed_at: datetime | None = when()
    version: int = 1


class InspectionFinding(SQLModel, table=True):
    """What the crew found on an inspection job (``id`` made on the device)."""

    __tablename__ = "inspection_finding"

    id: str = id_field()
    work_order_id: str = Field(foreign_key="work_order.id", unique=True, max_length=36)
    anomaly_id: str | None = fk("monitoring_anomaly.id", nullable=True)
    account_id: str | None = fk("account.id", nullable=True)
    outcome: str = Field(max_length=20)
    register_centi: int | None = None
    measured_load_w: int | None = None
    photos: list[Any] = json_field(list)
    note: str = Field(default="", max_length=2000)
    previous_area_id: str | None = fk("transformer_area.id", nullable=True)
    correct_area_id: str | None = fk("transformer_area.id", nullable=True)
    follow_up_work_order_id: str | None = fk("work_order.id", nullable=True)
    recorded_by: str = fk("user.id")
    recorded_at: datetime = when(nullable=False)  # device time
    received_at: datetime = when(now=True)  # server time
    version: int = 1
