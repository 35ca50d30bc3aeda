"""Enumerations of the domain. Values are stable strings: they go on the wire and in the DB."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    CREW = "crew"
    METER_TECH = "meter_tech"
    AGENT = "agent"  # counter clerk / field agent
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    ADMIN = "admin"


#: Roles that work in the office and may act on any job of their station (or all, if county-wide).
OFFICE_ROLES = frozenset({Role.DISPATCHER, Role.MANAGER, Role.ADMIN})
#: Roles that are assigned jobs and work them in the field.
FIELD_ROLES = frozenset({Role.CREW, Role.METER_TECH, Role.AGENT})


class AreaClass(StrEnum):
    """Service-commitment class of a transformer area (城区 / 农村 / 边远)."""

    TOWN = "town"
    RURAL = "rural"
    REMOTE = "remote"


class WorkOrderKind(StrEnum):
    FAULT_REPAIR = "fault_repair"  # 故障抢修
    METER_SWAP = "meter_swap"  # 换表
    NEW_CONNECTION = "new_connection"  # 新装
    CAPACITY_CHANGE = "capacity_change"  # 增容
    ACCOUNT_CHANGE = "account_change"  # 变更
    USAGE_INSPECTION = "usage_inspection"  # 用电检查
    CARE_VISIT = "care_visit"  # 用电关怀


class WorkOrderStatus(StrEnum):
    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {
        WorkOrderStatus.REPORTED,
        WorkOrderStatus.DISPATCHED,
        WorkOrderStatus.ACCEPTED,
        WorkOrderStatus.EN_ROUTE,
        WorkOrderStatus.ON_SITE,
    }
)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class ReportChannel(StrEnum):
    APP = "app"  # the customer's own phone
    HOTLINE = "hotline"  # entered by a dispatcher on behalf of a caller
    COUNTER = "counter"  # entered by a clerk at the service counter
    MONITORING = "monitoring"  # raised by the metering / monitoring system


class MeterStatus(StrEnum):
    IN_STOCK = "in_stock"
    INSTALLED = "installed"
    REMOVED = "removed"


class ReadingSource(StrEnum):
    ACTUAL = "actual"  # read by the metering system
    ESTIMATED = "estimated"  # filled in when no reading arrived
    SWAP_FINAL = "swap_final"  # old meter's last reading at a swap
    SWAP_START = "swap_start"  # new meter's start reading at a swap
    MANUAL = "manual"  # read on site by a person


class CustomerType(StrEnum):
    RESIDENTIAL = "residential"
    NON_RESIDENTIAL = "non_residential"


class DiscrepancyStatus(StrEnum):
    """A balance discrepancy found at a meter swap (reported figure != the ledger's)."""

    OPEN = "open"  # waiting for the office
    SETTLED = "settled"  # the difference was posted as an ``adjustment`` ledger entry
    DISMISSED = "dismissed"  # the ledger was right: no money moved
