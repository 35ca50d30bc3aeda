"""Imports every table model so ``SQLModel.metadata`` is complete (alembic, tests)."""

from sqlmodel import SQLModel

from server.applications.models import Application, ApplicationArchive
from server.audit.models import AuditLog
from server.billing.models import (
    BillingDay,
    BillingPolicy,
    CashHandover,
    CashReceipt,
    LedgerEntry,
    PurchaseCountCorrection,
    Tariff,
)
from server.care.models import CareEntry, CareRequest
from server.changes.models import ChangeLog, Counter
from server.customers.models import Account
from server.devices.models import HeldOp
from server.discrepancies.models import BalanceDiscrepancy
from server.dispatch.models import CrewDuty, StallRule, WorkOrderStall
from server.meter_commands.models import MeterCommand, MeterCommandAck
from server.meters.models import Meter, MeterReading, MeterSwap
from server.monitoring.models import (
    Anomaly,
    AreaDay,
    InspectionFinding,
    IntervalReading,
    LossNormRow,
    MeterDay,
    MeteringPoint,
    MonitoringDay,
    MonitoringPolicy,
)
from server.notifications.models import Notification, OutboxMessage
from server.outages.models import Outage, OutageArea
from server.payments.models import PaymentCallback, PaymentOrder, SandboxEvent, SandboxPayment
from server.photos.models import Photo, PhotoLink
from server.ratelimit.models import RateLimit
from server.scheduler.models import SchedulerJob
from server.stations.models import Station, TransformerArea
from server.supervision.models import ApprovalRequest, JobReview, ReviewRule
from server.sync.models import AppliedOp, Device
from server.users.models import RefreshToken, User
from server.work_orders.models import WorkOrder, WorkOrderEvent

metadata = SQLModel.metadata

__all__ = [
    "Account",
    "Anomaly",
    "Application",
    "ApplicationArchive",
    "AppliedOp",
    "ApprovalRequest",
    "AreaDay",
    "AuditLog",
    "BalanceDiscrepancy",
    "BillingDay",
    "BillingPolicy",
    "CareEntry",
    "CareRequest",
    "CashHandover",
    "CashReceipt",
    "ChangeLog",
    "Counter",
    "CrewDuty",
    "Device",
    "HeldOp",
    "InspectionFinding",
    "IntervalReading",
    "JobReview",
    "LedgerEntry",
    "LossNormRow",
    "Meter",
    "MeterCommand",
    "MeterCommandAck",
    "MeterDay",
    "MeterReading",
    "MeterSwap",
    "MeteringPoint",
    "MonitoringDay",
    "MonitoringPolicy",
    "Notification",
    "Outage",
    "OutageArea",
    "OutboxMessage",
    "PaymentCallback",
    "PaymentOrder",
    "Photo",
    "PhotoLink",
    "PurchaseCountCorrection",
    "RateLimit",
    "RefreshToken",
    "ReviewRule",
    "SandboxEvent",
    "SandboxPayment",
    "SchedulerJob",
    "StallRule",
    "Station",
    "Tariff",
    "TransformerArea",
    "User",
    "WorkOrder",
    "WorkOrderEvent",
    "WorkOrderStall",
    "metadata",
]
