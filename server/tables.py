"""Imports every table model so ``SQLModel.metadata`` is complete (alembic, tests)."""

from sqlmodel import SQLModel

from server.audit.models import AuditLog
from server.billing.models import (
    BillingDay,
    BillingPolicy,
    CashReceipt,
    LedgerEntry,
    PurchaseCountCorrection,
    Tariff,
)
from server.changes.models import ChangeLog, Counter
from server.customers.models import Account
from server.meter_commands.models import MeterCommand, MeterCommandAck
from server.meters.models import Meter, MeterReading, MeterSwap
from server.notifications.models import Notification, OutboxMessage
from server.payments.models import PaymentCallback, PaymentOrder, SandboxEvent, SandboxPayment
from server.photos.models import Photo, PhotoLink
from server.ratelimit.models import RateLimit
from server.scheduler.models import SchedulerJob
from server.stations.models import Station, TransformerArea
from server.sync.models import AppliedOp, Device
from server.users.models import RefreshToken, User
from server.work_orders.models import WorkOrder, WorkOrderEvent

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "AppliedOp",
    "AuditLog",
    "BillingDay",
    "BillingPolicy",
    "CashReceipt",
    "ChangeLog",
    "Counter",
    "Device",
    "LedgerEntry",
    "Meter",
    "MeterCommand",
    "MeterCommandAck",
    "MeterReading",
    "MeterSwap",
    "Notification",
    "OutboxMessage",
    "PaymentCallback",
    "PaymentOrder",
    "Photo",
    "PhotoLink",
    "PurchaseCountCorrection",
    "RateLimit",
    "RefreshToken",
    "SandboxEvent",
    "SandboxPayment",
    "SchedulerJob",
    "Station",
    "Tariff",
    "TransformerArea",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "metadata",
]
