"""Imports every table model so ``SQLModel.metadata`` is complete (alembic, tests)."""

from sqlmodel import SQLModel

from server.audit.models import AuditLog
from server.changes.models import ChangeLog, Counter
from server.customers.models import Account
from server.meters.models import Meter, MeterReading, MeterSwap
from server.photos.models import Photo, PhotoLink
from server.stations.models import Station, TransformerArea
from server.sync.models import AppliedOp, Device
from server.users.models import RefreshToken, User
from server.work_orders.models import WorkOrder, WorkOrderEvent

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AppliedOp",
    "AuditLog",
    "ChangeLog",
    "Counter",
    "Device",
    "Meter",
    "MeterReading",
    "MeterSwap",
    "Photo",
    "PhotoLink",
    "RefreshToken",
    "Station",
    "TransformerArea",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "metadata",
]
