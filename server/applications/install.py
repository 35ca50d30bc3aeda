"""The installation of a new connection, in one transaction: the meter leaves stock, the
account is made with it, the opening reading is recorded and the opening balance is
posted through the ledger. Recorded by the installation job's technician on site (online
or as the offline op ``application.install@1``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from server.applications.models import Application
from server.applications.progress import touch
from server.applications.service import application_of_job
from server.billing.ledger import post
from server.customers.models import Account
from server.db import bump_counter
from server.meters.models import Meter, MeterReading
from server.uow import UnitOfWork
from server.work_orders import service as work_orders
from server.work_orders.models import WorkOrder
from shared.applications.kinds import ApplicationKind, Step, spec_of
from shared.applications.rules import AppStatus, check_install
from shared.billing.ledger import EntryKind
from shared.enums import CustomerType, MeterStatus, ReadingSource, WorkOrderStatus
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import kwh_to_centi
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor

E = ErrorCode


def _account_no(uow: UnitOfWork) -> str:
    return f"0731{bump_counter(uow.session, 'account_no'):08d}"


def install(uow: UnitOfWork, *, actor: Actor, order_id: str, data: dict[str, Any],
            at: datetime | None = None) -> Application:
    session = uow.session
    now = utcnow()
    at = min(at or now, now)
    order = work_orders.get_visible(session, actor=actor, order_id=order_id, for_update=True)
    app = application_of_job(session, order.id, for_update=True)
    if app is None or app.install_order_id != order.id or not spec_of(app.kind).new_account:
        raise DomainError(E.APP_TRANSITION_NOT_ALLOWED, action="install",
                          status=app.status if app else "-", step=app.step if app else "-")
    fields = check_install(data)
    if app.meter_id is not None:
        meter = session.get(Meter, app.meter_id)
        if meter is not None and meter.meter_no == fields.meter_no:
            return app  # the same installation sent again
        raise DomainError(E.APP_ALREADY_INSTALLED)
    if order.assignee_id != actor.user_id:
        raise DomainError(E.WO_NOT_ASSIGNEE, action="install")
    if order.status != WorkOrderStatus.ON_SITE.value or app.status != AppStatus.OPEN.value \
            or app.step != Step.INSTALLATION.value:
        raise DomainError(E.APP_TRANSITION_NOT_ALLOWED, action="install", status=app.status,
                          step=app.step)
    meter = session.exec(select(Meter).where(Meter.meter_no == fields.meter_no)
                         .with_for_update()).first()
    if meter is None or meter.status != MeterStatus.IN_STOCK.value \
            or meter.station_id != app.station_id:
        raise DomainError(E.APP_METER_NOT_IN_STOCK, meter=fields.meter_no)
    assert app.area_id is not None
    account = Account(
        account_no=_account_no(uow), name=app.applicant_name, phone=app.contact_phone,
        address=app.address, lat=app.lat, lon=app.lon,
        customer_type=(CustomerType.NON_RESIDENTIAL
                       if app.kind == ApplicationKind.NEW_NON_RESIDENTIAL
                       else CustomerType.RESIDENTIAL),
        station_id=app.station_id, area_id=app.area_id, owner_user_id=app.applicant_user_id,
        id_card_digest=app.id_card_digest, id_card_masked=app.id_card_masked, balance_fen=0,
        capacity_kw=app.capacity_kw)
    session.add(account)
    session.flush()
    start = kwh_to_centi(fields.start_kwh)
    meter.status, meter.installed_at = MeterStatus.INSTALLED, at
    meter.account_id, meter.area_id = account.id, app.area_id
    meter.card_no, meter.purchase_count, meter.balance_fen = fields.card_no, 0, 0
    meter.last_reading_centi, meter.last_reading_at = start, at
    meter.version += 1
    meter.updated_at = now
    uow.changed(meter)
    day = at.astimezone(LOCAL_TZ).date()
    session.add(MeterReading(meter_id=meter.id, account_id=account.id, read_date=day,
                             read_at=at, value_centi=start, source=ReadingSource.MANUAL))
    # The opening balance (the first purchase paid at approval, maybe 0), as of today:
    # usage is charged from tomorrow on.
    post(uow, account=account, amount_fen=app.opening_fen, kind=EntryKind.OPENING_BALANCE,
         source_type="application", source_id=app.id, dedupe_key=f"opening:{account.id}",
         occurred_at=at, actor=actor, meter_id=meter.id, billing_day=day,
         reason=f"new connection {app.code}", data={"application": app.code})
    _attach(uow, order, account=account, meter=meter)
    app.account_id, app.meter_id, app.installed_at = account.id, meter.id, at
    touch(uow, app)
    uow.audit(action="application.install", entity="application", entity_id=app.id,
              after={"account_id": account.id, "account_no": account.account_no,
                     "meter_no": meter.meter_no, "start_centi": start,
                     "opening_fen": app.opening_fen})
    return app


def _attach(uow: UnitOfWork, order: WorkOrder, *, account: Account, meter: Meter) -> None:
    """The installation job now belongs to the new account (its owner follows it)."""
    order.account_id, order.meter_id = account.id, meter.id
    order.version += 1
    order.updated_at = utcnow()
    uow.changed(order)
