"""What each user's devices hold: per role, per entity.

* customer: their accounts, those accounts' meters, recent readings, work orders, and
  everything hanging off those orders (timeline events, swaps, photo links);
* crew / meter technician / agent: the jobs assigned to them, with the same hangers-on,
  the accounts and meters those jobs touch, and (meter technicians) their station's
  meters in stock — the register a swap is checked against; field agents hold all their
  station's accounts and meters (cash is taken offline in the villages);
* dispatcher / manager / admin: their station's work orders (county-wide: all);
* money (issue 5): a customer's phone holds their accounts' ledger entries, payment
  orders and inbox; an agent's phone the ledger entries they recorded (field cash);
* business applications (issue 13): a customer's phone holds the applications they made
  or that concern their accounts; an agent's those of their station (the counter).

``DeviceScope`` gives SQL for a fresh download and a Python check for incremental pulls: a
change whose row is no longer in scope becomes a tombstone on the device. (Its
``changes_clause`` reads the keys each change-log entry was written with:
``server.uow.Scope``, the station/account/user a change concerns.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from server.applications.models import Application
from server.billing.models import CashHandover, LedgerEntry
from server.changes.models import ChangeLog
from server.customers.models import Account
from server.meters.models import Meter, MeterReading, MeterSwap
from server.monitoring.models import InspectionFinding
from server.notifications.models import Notification
from server.outages.models import Outage, OutageArea
from server.payments.models import PaymentOrder
from server.photos.models import PhotoLink
from server.stations.models import TransformerArea
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder, WorkOrderEvent
from shared.enums import FIELD_ROLES, OFFICE_ROLES, MeterStatus, Role
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

READING_DAYS = 90
_HANGERS = {"work_order_event": WorkOrderEvent, "meter_swap": MeterSwap,
            "photo_link": PhotoLink, "inspection_finding": InspectionFinding}
_MONEY = frozenset({"ledger_entry", "notification", "payment_order"})


@dataclass
class DeviceScope:
    actor: Actor
    county_wide: bool = False
    order_ids: set[str] = field(default_factory=set)
    account_ids: set[str] = field(default_factory=set)
    area_ids: set[str] = field(default_factory=set)

    @property
    def role(self) -> Role:
        return self.actor.role

    @property
    def has_stock(self) -> bool:
        return self.role == Role.METER_TECH and self.actor.station_id is not None

    # -- SQL ----------------------------------------------------------------------------
    def orders_clause(self) -> ColumnElement[bool]:
        a = self.actor
        if a.role == Role.CUSTOMER:
            return and_(WorkOrder.account_id.in_(sorted(a.account_ids)),  # type: ignore[union-attr]
                        work_orders.customer_may_see_kind())
        if a.role in FIELD_ROLES:
            return WorkOrder.assignee_id == a.user_id  # type: ignore[return-value]
        if self.county_wide:
            return true()
        return WorkOrder.station_id == a.station_id  # type: ignore[return-value]

    def accounts_clause(self) -> ColumnElement[bool]:
        a = self.actor
        if a.role == Role.CUSTOMER:
            return Account.id.in_(sorted(a.account_ids))  # type: ignore[attr-defined]
        if a.role == Role.AGENT and a.station_id is not None:
            # Field agents take cash in the villages: their phone holds the station's
            # accounts, so a recharge can be recorded offline for any of them.
            return Account.station_id == a.station_id  # type: ignore[return-value]
        if a.role in FIELD_ROLES:
            return Account.id.in_(select(WorkOrder.account_id).where(  # type: ignore[attr-defined]
                WorkOrder.assignee_id == a.user_id))
        return false()

    def where(self, entity: str) -> ColumnElement[bool]:
        """SQL condition selecting the rows of ``entity`` in scope."""
        if entity == "station":
            return true()
        if entity == "transformer_area":
            if self.role == Role.CUSTOMER:
                return TransformerArea.id.in_(select(Account.area_id).where(  # type: ignore[attr-defined]
                    self.accounts_clause()))
            if self.county_wide or self.role == Role.ADMIN:
                return true()
            return TransformerArea.station_id == self.actor.station_id  # type: ignore[return-value]
        if entity == "account":
            return self.accounts_clause()
        if entity == "meter":
            accounts = select(Account.id).where(self.accounts_clause())
            cond = Meter.account_id.in_(accounts)  # type: ignore[union-attr]
            if self.has_stock:
                cond = or_(cond, and_(Meter.station_id == self.actor.station_id,
                                      Meter.status == MeterStatus.IN_STOCK.value))
            return cond
        if entity == "meter_reading":
            if self.role != Role.CUSTOMER:
                return false()
            since = (utcnow().astimezone(LOCAL_TZ) - timedelta(days=READING_DAYS)).date()
            return and_(MeterReading.account_id.in_(sorted(self.actor.account_ids)),  # type: ignore[union-attr]
                        MeterReading.read_date >= since)
        if entity == "work_order":
            return self.orders_clause()
        if entity in _MONEY:
            return self._money_where(entity)
        if entity == "outage":
            return self._outage_where()
        if entity == "cash_handover":  # an agent's phone: the counter's confirmations
            return CashHandover.agent_id == self.actor.user_id  # type: ignore[return-value]
        if entity == "application":
            return self._application_where()
        model = _HANGERS[entity]
        return model.work_order_id.in_(  # type: ignore[no-any-return]
            select(WorkOrder.id).where(self.orders_clause()))

    def hangers_from(self, entity: str, order_id: str) -> ColumnElement[bool]:
        """``where`` for rows hanging off work orders, limited to the jobs from ``order_id``
        on: a fresh download goes through them job by job (see ``server.sync.pull``)."""
        model = _HANGERS[entity]
        return model.work_order_id.in_(  # type: ignore[no-any-return]
            select(WorkOrder.id).where(self.orders_clause(), WorkOrder.id >= order_id))

    def _outage_where(self) -> ColumnElement[bool]:
        """Planned outage notices: a customer's phone holds those of their accounts'
        areas; office devices their station's (county-wide: all); field phones none."""
        if self.role == Role.CUSTOMER:
            areas = select(Account.area_id).where(self.accounts_clause())
            return Outage.id.in_(select(OutageArea.outage_id).where(  # type: ignore[attr-defined]
                OutageArea.area_id.in_(areas)))  # type: ignore[attr-defined]
        if self.county_wide:
            return true()
        if self.role in OFFICE_ROLES:
            return Outage.station_id == self.actor.station_id  # type: ignore[return-value]
        return false()

    def _application_where(self) -> ColumnElement[bool]:
        a = self.actor
        if a.role == Role.CUSTOMER:
            return or_(Application.applicant_user_id == a.user_id,  # type: ignore[arg-type]
                       Application.account_id.in_(sorted(a.account_ids)))  # type: ignore[union-attr]
        if a.role == Role.AGENT and a.station_id is not None:
            return Application.station_id == a.station_id  # type: ignore[return-value]
        return false()

    def _money_where(self, entity: str) -> ColumnElement[bool]:
        a = self.actor
        mine = sorted(a.account_ids)
        if entity == "ledger_entry":
            if a.role == Role.CUSTOMER:
                return LedgerEntry.account_id.in_(mine)  # type: ignore[attr-defined]
            if a.role in FIELD_ROLES:
                return LedgerEntry.actor_id == a.user_id  # type: ignore[return-value]
            return false()
        if entity == "payment_order":
            if a.role == Role.CUSTOMER:
                return PaymentOrder.account_id.in_(mine)  # type: ignore[attr-defined]
            return false()
        if a.role == Role.CUSTOMER:  # notification
            return or_(Notification.account_id.in_(mine),  # type: ignore[union-attr]
                       Notification.user_id == a.user_id)
        return Notification.user_id == a.user_id  # type: ignore[return-value]

    def changes_clause(self) -> ColumnElement[bool]:
        """A superset of the change-log entries that may concern this user's devices."""
        a = self.actor
        own_scope_moves = or_(ChangeLog.entity != "scope", ChangeLog.user_id == a.user_id)
        common = ChangeLog.entity.in_(["station", "transformer_area"])  # type: ignore[attr-defined]
        if a.role == Role.CUSTOMER:
            # their accounts' changes, outages of their accounts' stations, and what
            # concerns them before they have an account (an application, its notices)
            stations = select(Account.station_id).where(self.accounts_clause())
            mine = or_(ChangeLog.account_id.in_(sorted(a.account_ids)),  # type: ignore[union-attr]
                       and_(ChangeLog.entity == "outage",
                            ChangeLog.station_id.in_(stations)),  # type: ignore[union-attr]
                       and_(ChangeLog.entity.in_(["application", "notification",  # type: ignore[attr-defined]
                                                  "account"]),
                            ChangeLog.user_id == a.user_id))
        elif a.role in FIELD_ROLES:
            job_accounts = select(WorkOrder.account_id).where(
                WorkOrder.assignee_id == a.user_id)
            mine = or_(ChangeLog.user_id == a.user_id,
                       ChangeLog.account_id.in_(job_accounts))  # type: ignore[union-attr]
            if self.has_stock:
                mine = or_(mine, and_(ChangeLog.entity == "meter",
                                      ChangeLog.station_id == a.station_id))
            if a.role == Role.AGENT:
                mine = or_(mine, and_(ChangeLog.entity.in_(["account", "meter",  # type: ignore[attr-defined]
                                                            "application"]),
                                      ChangeLog.station_id == a.station_id))
        elif self.county_wide:
            mine = true()
        else:
            mine = ChangeLog.station_id == a.station_id  # type: ignore[assignment]
        return and_(or_(common, mine), own_scope_moves)

    # -- Python -------------------------------------------------------------------------
    def load_sets(self, session: Session) -> None:
        """Read the ids in scope now (for ``contains``)."""
        self.order_ids = set(session.execute(
            select(WorkOrder.id).where(self.orders_clause())).scalars())
        self.account_ids = set(session.execute(
            select(Account.id).where(self.accounts_clause())).scalars())
        if self.role == Role.CUSTOMER:
            self.area_ids = set(session.execute(select(Account.area_id).where(
                Account.id.in_(sorted(self.account_ids)))).scalars())  # type: ignore[attr-defined]

    def contains(self, entity: str, row: dict[str, Any]) -> bool:
        """Is this (current) row in scope? Used for incremental pulls."""
        if entity == "station":
            return True
        if entity == "transformer_area":
            if self.role == Role.CUSTOMER:
                return row["id"] in self.area_ids
            return self.county_wide or self.role == Role.ADMIN or (
                row["station_id"] == self.actor.station_id)
        if entity == "account":
            return row["id"] in self.account_ids
        if entity == "meter":
            return row.get("account_id") in self.account_ids or (
                self.has_stock and row["station_id"] == self.actor.station_id
                and row["status"] == MeterStatus.IN_STOCK.value)
        if entity == "meter_reading":
            return self.role == Role.CUSTOMER and row.get("account_id") in self.account_ids
        if entity == "work_order":
            return row["id"] in self.order_ids
        if entity in _MONEY:
            return self._money_contains(entity, row)
        if entity == "cash_handover":
            return row.get("agent_id") == self.actor.user_id
        if entity == "outage":
            if self.role == Role.CUSTOMER:
                return bool(self.area_ids & set(row.get("area_ids") or []))
            return self.county_wide or (self.role in OFFICE_ROLES
                                        and row["station_id"] == self.actor.station_id)
        if entity == "application":
            a = self.actor
            if a.role == Role.CUSTOMER:
                return (row.get("applicant_user_id") == a.user_id
                        or row.get("account_id") in self.account_ids)
            return a.role == Role.AGENT and a.station_id is not None and (
                row.get("station_id") == a.station_id)
        return row.get("work_order_id") in self.order_ids

    def _money_contains(self, entity: str, row: dict[str, Any]) -> bool:
        a = self.actor
        if entity == "ledger_entry":
            if a.role == Role.CUSTOMER:
                return row.get("account_id") in a.account_ids
            return a.role in FIELD_ROLES and row.get("actor_id") == a.user_id
        if entity == "payment_order":
            return a.role == Role.CUSTOMER and row.get("account_id") in a.account_ids
        return row.get("user_id") == a.user_id or (
            a.role == Role.CUSTOMER and row.get("account_id") in a.account_ids)


def holds_order(session: Session, actor: Actor, order_id: str) -> bool:
    """Do this user's devices hold the work order now (is it in their sync scope)? A job
    reassigned to another crew is not: the old crew's phone got its tombstone."""
    scope = build_scope(session, actor)
    found = session.execute(select(WorkOrder.id).where(
        WorkOrder.id == order_id, scope.orders_clause())).first()
    return found is not None


def build_scope(session: Session, actor: Actor) -> DeviceScope:
    return DeviceScope(actor, county_wide=actor.role in OFFICE_ROLES and (
        actor.role == Role.ADMIN or actor.station_id is None))


def fingerprint(actor: Actor) -> str:
    """Changes when what a user may see changes shape (role, station)."""
    return f"{actor.user_id}:{actor.role.value}:{actor.station_id or '*'}"
