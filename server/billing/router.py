"""``/api/v1/billing``: balances, ledgers, usage, corrections (recorded for a second
person's approval), cash, tariffs, readings."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from server.billing import charging, corrections, handover, readings, recharges, tariffs
from server.billing import ledger as ledger_service
from server.billing.balance import estimate_days_left
from server.billing.models import BillingDay, LedgerEntry
from server.billing.schemas import (
    BalanceOut,
    CashRechargeIn,
    CashRechargeOut,
    CashSummaryOut,
    ChargeRunIn,
    ChargeRunOut,
    CorrectionIn,
    ImportIn,
    ImportOut,
    ImportRowOut,
    LedgerCheckOut,
    LedgerEntryOut,
    LedgerPage,
    MismatchOut,
    PolicyIn,
    PolicyOut,
    PurchaseCountIn,
    PurchaseCountOut,
    PurchaseCountPage,
    RefundIn,
    TariffIn,
    TariffOut,
    UsageDayOut,
    UsageMonthOut,
)
from server.customers import service as customers
from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, LangDep, SessionDep, require_roles
from server.meter_commands.models import MeterCommand
from server.meters.models import Meter
from server.supervision import approvals
from server.supervision.router import approvals_out
from server.supervision.schemas import ApprovalRecordedOut
from server.uow import UnitOfWork
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import centi_to_kwh
from shared.supervision import ApprovalKind
from shared.timeutil import LOCAL_TZ, utcnow

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])
_CASH = require_roles(Role.AGENT, Role.MANAGER)
_MANAGER = require_roles(Role.MANAGER)
_ADMIN = require_roles(Role.ADMIN)
_BACK_OFFICE = require_roles(Role.MANAGER, Role.ADMIN)


def entry_out(e: LedgerEntry) -> LedgerEntryOut:
    return LedgerEntryOut(**e.model_dump(warnings=False))


def _kwh(centi: int) -> str:
    return str(centi_to_kwh(centi))


# -- balance, ledger, usage ------------------------------------------------------------------
@router.get("/accounts/{account_id}/balance", response_model=BalanceOut,
            summary="Balance, alert level, days left, supply state and this month so far")
def balance(account_id: str, user: CurrentUser, session: SessionDep) -> BalanceOut:
    account = customers.get_visible(session, actor=user.actor, account_id=account_id)
    total = session.exec(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)).where(
        LedgerEntry.account_id == account.id)).one()
    meter = ledger_service.installed_meter(session, account.id)
    today = utcnow().astimezone(LOCAL_TZ).date()
    last = session.exec(select(BillingDay).where(
        BillingDay.account_id == account.id, BillingDay.day >= today.replace(day=1))
        .order_by(col(BillingDay.day).desc()).limit(1)).first()
    pending = session.exec(select(MeterCommand.kind).where(
        MeterCommand.account_id == account.id,
        col(MeterCommand.state).in_(("queued", "sent")))
        .order_by(col(MeterCommand.seq).desc())).first()
    left = estimate_days_left(session, account)
    return BalanceOut(
        account_id=account.id, account_no=account.account_no, balance_fen=account.balance_fen,
        ledger_sum_fen=int(total), alert_level=account.alert_level,
        supply_state=account.supply_state, days_left=str(left) if left is not None else None,
        care_flag=account.care_flag, meter_no=meter.meter_no if meter else None,
        purchase_count=meter.purchase_count if meter else None,
        month=charging.month_key(today),
        month_usage_kwh=_kwh(last.mtd_usage_centi if last else 0),
        month_cost_fen=last.mtd_cost_fen if last else 0, tier=last.tier if last else None,
        pending_command=pending)


@router.get("/accounts/{account_id}/ledger", response_model=LedgerPage,
            summary="The account's ledger, newest first")
def account_ledger(account_id: str, user: CurrentUser, session: SessionDep,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> LedgerPage:
    account = customers.get_visible(session, actor=user.actor, account_id=account_id)
    where = LedgerEntry.account_id == account.id
    total = session.exec(select(func.count()).select_from(LedgerEntry).where(where)).one()
    rows = session.exec(select(LedgerEntry).where(where).order_by(col(LedgerEntry.seq).desc())
                        .limit(limit).offset(offset)).all()
    return LedgerPage(items=[entry_out(e) for e in rows], total=int(total))


@router.get("/accounts/{account_id}/usage", response_model=list[UsageMonthOut],
            summary="Usage by day and month, with cost and tier (newest month first)")
def usage(account_id: str, user: CurrentUser, session: SessionDep,
          months: Annotated[int, Query(ge=1, le=24)] = 3) -> list[UsageMonthOut]:
    account = customers.get_visible(session, actor=user.actor, account_id=account_id)
    today = utcnow().astimezone(LOCAL_TZ).date()
    first = today.replace(day=1)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    rows = session.exec(select(BillingDay).where(
        BillingDay.account_id == account.id, BillingDay.day >= first)
        .order_by(col(BillingDay.day))).all()
    by_month: dict[str, list[BillingDay]] = {}
    for r in rows:
        by_month.setdefault(charging.month_key(r.day), []).append(r)
    out = []
    for month, days in sorted(by_month.items(), reverse=True):
        charged = charging.charged_in_month(session, account.id, month)
        out.append(UsageMonthOut(
            month=month, usage_kwh=_kwh(days[-1].mtd_usage_centi),
            cost_fen=days[-1].mtd_cost_fen, charged_fen=charged,
            top_tier=max(d.tier for d in days),
            days=[UsageDayOut(day=d.day, usage_kwh=_kwh(d.usage_centi), cost_fen=d.day_cost_fen,
                              mtd_usage_kwh=_kwh(d.mtd_usage_centi),
                              mtd_cost_fen=d.mtd_cost_fen, tier=d.tier,
                              estimated=d.estimated) for d in days]))
    return out


# -- corrections and refunds (four eyes) -------------------------------------------------
_RECORDED: dict[int | str, dict[str, Any]] = {
    200: {"model": ApprovalRecordedOut, "description": "This id was already recorded: the "
          "same request (``duplicate``: true), nothing new"},
    409: {"description": "IDEMPOTENCY_CONFLICT: this id was used for another change; "
          "purchase counts: APPROVAL_DUPLICATE (one is already waiting for the meter), "
          "PURCHASE_COUNT_STALE"}}


def _record(user: CurrentUser, db: DatabaseDep, response: Response, *, kind: ApprovalKind,
            request_id: str | None, reason: str, **change: Any) -> ApprovalRecordedOut:
    """Record a pending four-eyes request (the same checks and codes as the change
    itself; nothing else moves): 202, or 200 for an id recorded before."""
    with UnitOfWork(db, user.actor) as uow:
        row, created = approvals.record(uow, actor=user.actor, kind=kind, reason=reason,
                                        request_id=request_id, **change)
        uow.commit()
        out = approvals_out(uow.session, [row])[0]
    if not created:
        response.status_code = 200
    return ApprovalRecordedOut(**out.model_dump(), duplicate=not created)


@router.post("/accounts/{account_id}/corrections", response_model=ApprovalRecordedOut,
             status_code=202, dependencies=[_CASH], responses=_RECORDED,
             summary="Ask for a balance correction with a reason (agents, managers): it "
                     "waits for another person's approval (four eyes)")
def correct(account_id: str, body: CorrectionIn, user: CurrentUser, db: DatabaseDep,
            response: Response) -> ApprovalRecordedOut:
    """Nothing changes on the ledger now: a manager of the station (or an admin) other
    than the author approves it at ``POST /api/v1/supervision/approvals/{id}/approve``,
    and the correction is then posted once, with this reason, as recorded by the author.
    """
    return _record(user, db, response, kind=ApprovalKind.ADJUSTMENT, request_id=body.id,
                   reason=body.reason, account_id=account_id, amount_fen=body.amount_fen)


@router.post("/accounts/{account_id}/refunds", response_model=ApprovalRecordedOut,
             status_code=202, dependencies=[_MANAGER], responses=_RECORDED,
             summary="Ask for a refund to the customer (managers; at most the balance): it "
                     "waits for another person's approval (four eyes)")
def refund(account_id: str, body: RefundIn, user: CurrentUser, db: DatabaseDep,
           response: Response) -> ApprovalRecordedOut:
    """Nothing is paid back now: another manager of the station (or an admin) approves
    it, and the refund is then posted once (refused if the balance no longer covers it)."""
    return _record(user, db, response, kind=ApprovalKind.REFUND, request_id=body.id,
                   reason=body.reason, account_id=account_id, amount_fen=body.amount_fen)


# -- cash -------------------------------------------------------------------------------------
@router.post("/cash-recharges", response_model=CashRechargeOut, status_code=201,
             dependencies=[_CASH], summary="Record a cash recharge (counter; the app sends "
                                           "the same as the recharge.cash@1 sync op)",
             responses={200: {"description": "Already recorded (same id or receipt)"}})
def cash_recharge(body: CashRechargeIn, user: CurrentUser, db: DatabaseDep,
                  response: Response) -> CashRechargeOut:
    with UnitOfWork(db, user.actor) as uow:
        result = recharges.record_cash(uow, actor=user.actor, receipt_id=body.id,
                                       account_id=body.account_id, amount_fen=body.amount_fen,
                                       receipt_no=body.receipt_no)
        uow.commit()
    if not result.created:
        response.status_code = 200
    r = result.receipt
    return CashRechargeOut(id=r.id, receipt_no=r.receipt_no, account_id=r.account_id,
                           amount_fen=r.amount_fen, agent_id=r.agent_id,
                           collected_at=r.collected_at, ledger_entry_id=r.ledger_entry_id,
                           balance_after_fen=result.entry.balance_after_fen,
                           duplicate=not result.created)


@router.get("/cash-recharges/summary", response_model=CashSummaryOut,
            dependencies=[require_roles(Role.AGENT, Role.MANAGER, Role.ADMIN)],
            summary="An agent's cash of one day, for handing it in")
def cash_summary(user: CurrentUser, session: SessionDep, day: date | None = None,
                 agent_id: Annotated[str | None, Query(max_length=36)] = None
                 ) -> CashSummaryOut:
    day = day or utcnow().astimezone(LOCAL_TZ).date()
    return CashSummaryOut(**recharges.cash_summary(session, actor=user.actor, day=day,
                                                   agent_id=agent_id))


class HandoverIn(BaseModel):
    """What the counter COUNTED of the agent's day (receipts and cash), compared with the
    receipts recorded; a difference needs ``note`` (``shared.billing.handover``)."""

    agent_id: str = Field(min_length=1, max_length=36)
    day: date
    receipt_count: int = Field(ge=0, le=100_000, description="receipts counted")
    total_fen: int = Field(ge=0, le=2**31 - 1, description="cash counted, in fen")
    note: str | None = Field(default=None, max_length=200, description=(
        "why the count differs from the records (required then, 4–200 characters)"))


@router.get("/cash-handovers", dependencies=[_BACK_OFFICE],
            summary="The station counter's sheet: each agent's cash of a day, confirmed or not")
def cash_handovers(user: CurrentUser, session: SessionDep, day: date | None = None
                   ) -> list[dict[str, Any]]:
    day = day or utcnow().astimezone(LOCAL_TZ).date()
    return handover.day_sheet(session, actor=user.actor, day=day)


@router.post("/cash-handovers", status_code=201, dependencies=[_BACK_OFFICE],
             summary="Confirm an agent's cash hand-over with what was counted: equal to the "
                     "receipts recorded, or different with a note (a discrepancy)")
def confirm_handover(body: HandoverIn, user: CurrentUser, db: DatabaseDep) -> dict[str, Any]:
    with UnitOfWork(db, user.actor) as uow:
        row = handover.confirm(uow, actor=user.actor, agent_id=body.agent_id, day=body.day,
                               receipt_count=body.receipt_count, total_fen=body.total_fen,
                               note=body.note)
        uow.commit()
    return row.model_dump(mode="json")


# -- purchase counts ---------------------------------------------------------------------------
def _pcc_out(session: Session, rows: list[Any]) -> list[PurchaseCountOut]:
    ids = sorted({r.meter_id for r in rows})
    numbers = dict(session.exec(select(Meter.id, Meter.meter_no).where(
        col(Meter.id).in_(ids))).all()) if ids else {}
    return [PurchaseCountOut(**r.model_dump(warnings=False), meter_no=numbers.get(r.meter_id))
            for r in rows]


@router.post("/meters/{meter_id}/purchase-count", response_model=ApprovalRecordedOut,
             status_code=202, dependencies=[_CASH], responses=_RECORDED,
             summary="Ask for a meter's purchase count to be corrected (agents, managers; "
                     "with a reason): it waits for another person's approval (four eyes)")
def correct_purchase_count(meter_id: str, body: PurchaseCountIn, user: CurrentUser,
                           db: DatabaseDep, response: Response) -> ApprovalRecordedOut:
    """The meter keeps its count until a manager of the station (or an admin) other than
    the author approves; the correction is then recorded with the author as who made it
    (``GET /purchase-count-corrections``) and reaches the phones with the meter row."""
    return _record(user, db, response, kind=ApprovalKind.PURCHASE_COUNT, request_id=body.id,
                   reason=body.reason, meter_id=meter_id, new_count=body.new_count,
                   expected_count=body.expected_count)


@router.get("/purchase-count-corrections", response_model=PurchaseCountPage,
            dependencies=[_BACK_OFFICE],
            summary="Every purchase-count correction (managers: their station's)")
def purchase_count_corrections(
    user: CurrentUser, session: SessionDep,
    meter_id: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> PurchaseCountPage:
    rows, total = corrections.list_purchase_count_corrections(
        session, actor=user.actor, meter_id=meter_id, limit=limit, offset=offset)
    return PurchaseCountPage(items=_pcc_out(session, rows), total=total)


# -- tariffs and policy --------------------------------------------------------------------------
@router.get("/tariffs", response_model=list[TariffOut], summary="Tariff versions (data)")
def list_tariffs(user: CurrentUser, session: SessionDep) -> list[TariffOut]:
    return [TariffOut(**t.model_dump(warnings=False)) for t in tariffs.list_versions(session)]


@router.post("/tariffs", response_model=TariffOut, status_code=201, dependencies=[_ADMIN],
             summary="Add a tariff version from a future day (admins)")
def add_tariff(body: TariffIn, user: CurrentUser, db: DatabaseDep) -> TariffOut:
    with UnitOfWork(db, user.actor) as uow:
        row = tariffs.add_version(uow, actor=user.actor, code=body.code, name=body.name,
                                  customer_type=body.customer_type,
                                  effective_from=body.effective_from, data=body.data)
        uow.commit()
    return TariffOut(**row.model_dump(warnings=False))


@router.get("/policy", response_model=PolicyOut, dependencies=[_BACK_OFFICE],
            summary="Alert and disconnection thresholds")
def get_policy(session: SessionDep) -> PolicyOut:
    return PolicyOut(**tariffs.policy_row(session).model_dump(warnings=False))


@router.put("/policy", response_model=PolicyOut, dependencies=[_ADMIN],
            summary="Change alert and disconnection thresholds (admins)")
def put_policy(body: PolicyIn, user: CurrentUser, db: DatabaseDep) -> PolicyOut:
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    with UnitOfWork(db, user.actor) as uow:
        row = tariffs.update_policy(uow, actor=user.actor, values=values)
        uow.commit()
    return PolicyOut(**row.model_dump(warnings=False))


# -- readings, runs, checks ------------------------------------------------------------------
def _import_out(report: readings.ImportReport) -> ImportOut:
    return ImportOut(summary=report.summary(), rerated_accounts=report.rerated_accounts,
                     adjusted_fen=report.adjusted_fen,
                     rejected=[ImportRowOut(**r.__dict__) for r in report.rejected])


@router.post("/readings/import", response_model=ImportOut, dependencies=[_BACK_OFFICE],
             summary="Import meter readings (rows as the metering system exports them)")
def import_readings(body: ImportIn, user: CurrentUser, db: DatabaseDep, lang: LangDep
                    ) -> ImportOut:
    """Each row is checked on its own; rejected rows come back with code and reason, the
    others are imported (together, in one transaction), and months already charged are
    re-rated."""
    rows = [{"line": i, **r.model_dump()} for i, r in enumerate(body.rows, start=1)]
    with UnitOfWork(db, user.actor) as uow:
        report = readings.import_rows(uow, rows=rows, actor=user.actor, lang=lang)
        uow.commit()
    return _import_out(report)


@router.post("/readings/import-csv", response_model=ImportOut, dependencies=[_BACK_OFFICE],
             summary="Import a CSV export of meter readings (text/csv body)",
             openapi_extra={"requestBody": {"content": {"text/csv": {"schema": {
                 "type": "string"}}}, "required": True}})
async def import_readings_csv(request: Request, user: CurrentUser, db: DatabaseDep,
                              lang: LangDep) -> ImportOut:
    """Header ``meter_no,read_at,value_kwh,source``; times without an offset are local."""
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError(ErrorCode.READING_CSV_INVALID, reason="not UTF-8 text") from None
    def work() -> ImportOut:
        rows = readings.parse_csv(text)
        with UnitOfWork(db, user.actor) as uow:
            report = readings.import_rows(uow, rows=rows, actor=user.actor, lang=lang)
            uow.commit()
        return _import_out(report)

    return await run_in_threadpool(work)


@router.post("/charge-runs", response_model=ChargeRunOut, dependencies=[_ADMIN],
             summary="Charge every account for a day (idempotent; the daily job does this)")
def charge_run(body: Annotated[ChargeRunIn, Body()], db: DatabaseDep) -> ChargeRunOut:
    today = utcnow().astimezone(LOCAL_TZ).date()
    if body.day > today:
        raise DomainError(ErrorCode.VALIDATION_ERROR, summary="day: not in the future")
    report = charging.charge_day(db, day=body.day)
    return ChargeRunOut(day=report.day, accounts=report.accounts, charged=report.charged,
                        total_fen=report.total_fen, errors=report.errors)


@router.get("/ledger-check", response_model=LedgerCheckOut, dependencies=[_BACK_OFFICE],
            summary="Verify balance == sum of ledger for every account I may see")
def ledger_check(user: CurrentUser, session: SessionDep) -> LedgerCheckOut:
    ids = list(session.exec(select(Account.id).where(
        customers.visible_clause(user.actor))).all())
    mismatches = ledger_service.check(session, account_ids=ids)
    return LedgerCheckOut(accounts_checked=len(ids), ok=not mismatches,
                          mismatches=[MismatchOut(**m.__dict__) for m in mismatches])
