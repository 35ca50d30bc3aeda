"""``/api/v1/accounts``: a customer's own accounts; staff look-ups by document number."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, or_
from sqlmodel import select

from server.customers import service
from server.customers.models import Account
from server.deps import CurrentUser, SessionDep, require_roles
from server.meters.models import Meter, MeterReading
from shared.enums import CustomerType, MeterStatus, Role
from shared.meter_rules import centi_to_kwh
from shared.timeutil import LOCAL_TZ, utcnow

router = APIRouter(prefix="/api/v1/accounts", tags=["accounts"])
STAFF = (Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN, Role.CREW, Role.METER_TECH)


class AccountOut(BaseModel):
    id: str
    account_no: str
    name: str
    phone: str | None
    address: str
    lat: float | None
    lon: float | None
    customer_type: CustomerType
    station_id: str
    area_id: str
    id_card_masked: str | None
    property_cert_masked: str | None
    care_flag: bool
    care_reason: str | None
    balance_fen: int
    capacity_kw: int | None = None
    status: str = "active"
    closed_at: datetime | None = None
    meter_no: str | None = None
    meter_id: str | None = None
    version: int


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int


class ReadingOut(BaseModel):
    read_date: date
    read_at: datetime
    kwh: str
    source: str


def _out(session: SessionDep, accounts: list[Account]) -> list[AccountOut]:
    ids = [a.id for a in accounts]
    meters = {m.account_id: m for m in session.exec(select(Meter).where(
        Meter.account_id.in_(ids), Meter.status == MeterStatus.INSTALLED)).all()  # type: ignore[union-attr]
    } if ids else {}
    out = []
    for a in accounts:
        m = meters.get(a.id)
        out.append(AccountOut(**a.model_dump(warnings=False), meter_no=m.meter_no if m else None,
                              meter_id=m.id if m else None))
    return out


@router.get("", response_model=AccountPage, summary="Accounts I may see")
def list_accounts(
    user: CurrentUser, session: SessionDep,
    q: Annotated[str | None, Query(max_length=64, description="account no. or name")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> AccountPage:
    """Customers: their own accounts. Staff: their station's (office without station: all)."""
    where = [service.visible_clause(user.actor)]
    if q:
        where.append(or_(Account.account_no == q, Account.name.contains(q)))  # type: ignore[attr-defined]
    total = session.exec(select(func.count()).select_from(Account).where(*where)).one()
    rows = session.exec(select(Account).where(*where).order_by(Account.account_no)
                        .limit(limit).offset(offset)).all()
    return AccountPage(items=_out(session, list(rows)), total=int(total))


@router.get("/lookup", response_model=AccountPage,
            summary="Find accounts by ID-card or property-certificate number (staff)",
            dependencies=[require_roles(Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN)])
def lookup(
    request: Request, user: CurrentUser, session: SessionDep,
    id_card: Annotated[str | None, Query(min_length=6, max_length=32)] = None,
    property_cert: Annotated[str | None, Query(min_length=4, max_length=40)] = None,
) -> AccountPage:
    """Exact match on a keyed digest; numbers are never stored or shown in full."""
    pepper = request.app.state.lookup_pepper
    conds = []
    if id_card:
        conds.append(Account.id_card_digest == service.document_digest(id_card, pepper=pepper))
    if property_cert:
        conds.append(Account.property_cert_digest ==
                     service.document_digest(property_cert, pepper=pepper))
    if not conds:
        return AccountPage(items=[], total=0)
    rows = session.exec(select(Account).where(or_(*conds),
                                              service.visible_clause(user.actor))).all()
    return AccountPage(items=_out(session, list(rows)), total=len(rows))


@router.get("/{account_id}", response_model=AccountOut, summary="One account")
def get_account(account_id: str, user: CurrentUser, session: SessionDep) -> AccountOut:
    account = service.get_visible(session, actor=user.actor, account_id=account_id)
    return _out(session, [account])[0]


@router.get("/{account_id}/readings", response_model=list[ReadingOut],
            summary="Recent daily readings of the account's meters")
def readings(account_id: str, user: CurrentUser, session: SessionDep,
             days: Annotated[int, Query(ge=1, le=400)] = 30) -> list[ReadingOut]:
    service.get_visible(session, actor=user.actor, account_id=account_id)
    since = (utcnow().astimezone(LOCAL_TZ) - timedelta(days=days)).date()
    rows = session.exec(select(MeterReading).where(
        MeterReading.account_id == account_id, MeterReading.read_date >= since)
        .order_by(MeterReading.read_at)).all()  # type: ignore[arg-type]
    return [ReadingOut(read_date=r.read_date, read_at=r.read_at,
                       kwh=str(centi_to_kwh(r.value_centi)), source=r.source) for r in rows]
