"""Request and response schemas of the monitoring API and the inspection finding."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from server.billing.schemas import ImportRowOut

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                                r"[0-9a-f]{4}-[0-9a-f]{12}$")]
#: Rows of one import request (a head-end batch; files of any size go through the CLI).
MAX_IMPORT_ROWS = 20_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- import ------------------------------------------------------------------------------
class IntervalRowIn(BaseModel):
    meter_no: str | None = None
    interval_start: str | None = None
    energy_kwh: str | StrictInt | None = None  # never a float (issue 8, item 7)
    source: str | None = None


class IntervalImportIn(Strict):
    rows: Annotated[list[IntervalRowIn], Field(min_length=1, max_length=MAX_IMPORT_ROWS)]


class IntervalImportOut(BaseModel):
    summary: dict[str, int]
    days_changed: list[date]
    rejected: list[ImportRowOut]
    rejected_listed: int = Field(description="How many rejections are listed (all counted)")


class RunIn(Strict):
    days: list[date] | None = Field(default=None, max_length=400,
                                    description="Days to recompute; default: changed days")


class RunOut(BaseModel):
    days: list[dict[str, Any]]
    as_of: date | None
    new: dict[str, int]
    jobs: list[str]
    cleared: int
    cancelled: list[str]


# -- settings ---------------------------------------------------------------------------
class PolicyOut(BaseModel):
    collection_target: float
    failing_days: int
    heavy_rate: float
    overload_rate: float
    sustained_minutes: int
    power_factor: float
    unreliable_share: float
    baseline_days: int
    stopped_days: int
    recent_days: int
    history_days: int
    quiet_days: int
    auto_dispatch: bool
    version: int


class PolicyIn(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)  # "yes" is not a boolean

    collection_target: float | None = None
    failing_days: int | None = None
    heavy_rate: float | None = None
    overload_rate: float | None = None
    sustained_minutes: int | None = None
    power_factor: float | None = None
    unreliable_share: float | None = None
    baseline_days: int | None = None
    stopped_days: int | None = None
    recent_days: int | None = None
    history_days: int | None = None
    quiet_days: int | None = None
    auto_dispatch: bool | None = None


class NormIn(Strict):
    model_config = ConfigDict(extra="forbid", strict=True)

    low: float
    high: float
    jump: float


class NormOut(NormIn):
    area_class: str


class MasterMeterIn(Strict):
    meter_no: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=24)]
    power_factor: float | None = None


class MasterMeterOut(BaseModel):
    area_id: str
    meter_no: str
    power_factor: float | None


# -- tables --------------------------------------------------------------------------------
class ColumnOut(BaseModel):
    key: str
    label: str


class TableOut(BaseModel):
    name: str
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


class OverviewOut(BaseModel):
    day: date
    county: dict[str, Any]
    stations: TableOut


class DayTableOut(BaseModel):
    day: date
    table: TableOut


class AreaDetailOut(BaseModel):
    day: date
    area: dict[str, Any]
    meters: TableOut
    anomalies: TableOut


class AnomalyPage(BaseModel):
    total: int
    table: TableOut


# -- inspection finding ---------------------------------------------------------------------
class FindingOp(Strict):
    """What the crew found: the payload of the phone's ``inspection.finding@1`` op (the
    envelope's ``entity_id`` is the job, its ``created_at`` the time recorded)."""

    id: Uuid = Field(description="Made by the client: sending it again is a no-op")
    outcome: str = Field(description="meter_ok | meter_fault | tampering | "
                                     "wiring_or_mapping | nothing_found")
    register_kwh: str | None = Field(default=None, description="Register on site, e.g. "
                                                               "\"1234.56\"")
    measured_load_kw: str | None = Field(default=None, description="Clamp-meter load")
    photos: list[str] = Field(default_factory=list, max_length=10,
                              description="SHA-256 of photos (uploaded separately)")
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
    correct_area_id: Uuid | None = Field(default=None, description="wiring_or_mapping: the "
                                         "area the customer is really fed from")


class FindingIn(FindingOp):
    """The finding sent online (``POST /work-orders/{id}/inspection-finding``)."""

    recorded_at: AwareDatetime | None = Field(default=None, description="Device time")


class FindingOut(BaseModel):
    id: str
    work_order_id: str
    work_order_status: str
    outcome: str
    register_kwh: str | None
    measured_load_kw: str | None
    photos: list[str]
    note: str
    previous_area_id: str | None
    correct_area_id: str | None
    anomaly_id: str | None
    anomaly_status: str | None
    follow_up_work_order_id: str | None
    follow_up_code: str | None
    recorded_by: str
    recorded_at: datetime
    duplicate: bool = False


class InspectionOut(BaseModel):
    """A monitoring job's evidence and, once recorded, its finding."""

    work_order_id: str
    anomaly: dict[str, Any] | None
    finding: FindingOut | None
