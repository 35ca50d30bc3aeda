"""``/api/v1/supervision``: the review queue, four-eyes approvals, the audit viewer and the
station overview; ``/api/v1/customers``: the desk's customer lookup and account view."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session, col, select

from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.meters.models import Meter
from server.supervision import approvals, audit_view, desk, reviews
from server.supervision.models import ApprovalRequest
from server.supervision.overview import overview as station_overview
from server.supervision.schemas import (
    AccountViewOut,
    ApprovalIn,
    ApprovalOut,
    ApprovalPage,
    AuditEntryOut,
    AuditPage,
    CustomerOut,
    CustomerPage,
    DecisionIn,
    DiscrepancyDecisionIn,
    OverviewOut,
    ReviewIn,
    ReviewItemOut,
    ReviewOut,
    ReviewPage,
    ReviewRuleIn,
    ReviewRuleOut,
)
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.enums import WorkOrderKind
from shared.supervision import ApprovalKind, ApprovalStatus
from shared.timeutil import utcnow

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])
desk_router = APIRouter(prefix="/api/v1/customers", tags=["accounts"])
#: deciding a meter-swap balance discrepancy: recorded here, applied on another's approval
discrepancy_router = APIRouter(prefix="/api/v1/balance-discrepancies", tags=["billing"])

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
Text = Annotated[str | None, Query(max_length=64)]


def _names(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = sorted(i for i in ids if i)
    return dict(session.exec(select(User.id, User.display_name)
                             .where(col(User.id).in_(wanted))).all()) if wanted else {}


def approvals_out(session: Session, rows: list[ApprovalRequest]) -> list[ApprovalOut]:
    """Requests as the API shows them: with account number and name, meter number and
    the people's names (also the billing endpoints that record requests answer so)."""
    names = _names(session, {r.requested_by for r in rows} | {r.decided_by for r in rows})
    acc_ids = sorted({r.account_id for r in rows if r.account_id})
    accounts = {a.id: a for a in session.exec(select(Account).where(
        col(Account.id).in_(acc_ids))).all()} if acc_ids else {}
    meter_ids = sorted({r.meter_id for r in rows if r.meter_id})
    meters = dict(session.exec(select(Meter.id, Meter.meter_no).where(
        col(Meter.id).in_(meter_ids))).all()) if meter_ids else {}
    out = []
    for r in rows:
        acc = accounts.get(r.account_id or "")
        out.append(ApprovalOut(**r.model_dump(warnings=False),
                               account_no=acc.account_no if acc else None,
                               account_name=acc.name if acc else None,
                               meter_no=meters.get(r.meter_id or ""),
                               requested_by_name=names.get(r.requested_by),
                               decided_by_name=names.get(r.decided_by or "")))
    return out


# -- four eyes ----------------------------------------------------------------------------
@router.get("/approvals", response_model=ApprovalPage,
            summary="Requests waiting for (or decided by) a second person")
def list_approvals(user: CurrentUser, session: SessionDep,
                   status: ApprovalStatus | None = None, kind: ApprovalKind | None = None,
                   account_id: Annotated[str | None, Query(max_length=36)] = None,
                   limit: Limit = 50, offset: Offset = 0) -> ApprovalPage:
    rows, total = approvals.listing(session, actor=user.actor, status=status, kind=kind,
                                    account_id=account_id, limit=limit, offset=offset)
    return ApprovalPage(items=approvals_out(session, rows), total=total)


@router.post("/approvals", response_model=ApprovalOut, status_code=201,
             summary="Record a change of money or counts; it waits for another person")
def request_approval(body: ApprovalIn, user: CurrentUser, db: DatabaseDep) -> ApprovalOut:
    with UnitOfWork(db, user.actor) as uow:
        row, _ = approvals.record(uow, actor=user.actor, kind=body.kind, reason=body.reason,
                                  account_id=body.account_id, meter_id=body.meter_id,
                                  discrepancy_id=body.discrepancy_id,
                                  amount_fen=body.amount_fen, new_count=body.new_count,
                                  request_id=body.request_id)
        uow.commit()
        return approvals_out(uow.session, [row])[0]


def _decide(request_id: str, body: DecisionIn, user: CurrentUser, db: DatabaseDep,
            approve: bool) -> ApprovalOut:
    with UnitOfWork(db, user.actor) as uow:
        row, _ = approvals.decide(uow, actor=user.actor, request_id=request_id,
                                  approve=approve, reason=body.reason,
                                  expected_version=body.expected_version)
        uow.commit()
        return approvals_out(uow.session, [row])[0]


@router.post("/approvals/{request_id}/approve", response_model=ApprovalOut,
             summary="Approve another person's request: the change is applied now",
             responses={403: {"description": "APPROVAL_OWN_REQUEST"},
                        409: {"description": "APPROVAL_CLOSED"}})
def approve(request_id: str, body: DecisionIn, user: CurrentUser, db: DatabaseDep
            ) -> ApprovalOut:
    return _decide(request_id, body, user, db, True)


@router.post("/approvals/{request_id}/reject", response_model=ApprovalOut,
             summary="Reject another person's request (with a reason): nothing changes",
             responses={403: {"description": "APPROVAL_OWN_REQUEST"},
                        409: {"description": "APPROVAL_CLOSED"}})
def reject(request_id: str, body: DecisionIn, user: CurrentUser, db: DatabaseDep
           ) -> ApprovalOut:
    return _decide(request_id, body, user, db, False)


def _propose(kind: ApprovalKind, discrepancy_id: str, body: DiscrepancyDecisionIn,
             user: CurrentUser, db: DatabaseDep) -> ApprovalOut:
    with UnitOfWork(db, user.actor) as uow:
        row, _ = approvals.record(uow, actor=user.actor, kind=kind, reason=body.reason,
                                  discrepancy_id=discrepancy_id,
                                  expected_version=body.expected_version)
        uow.commit()
        return approvals_out(uow.session, [row])[0]


@discrepancy_router.post(
    "/{discrepancy_id}/settle", response_model=ApprovalOut, status_code=201,
    summary="Propose that the meter was right (the difference is posted as an adjustment "
            "when another person approves; dispatchers, managers)",
    responses={409: {"description": "DISCREPANCY_CLOSED, APPROVAL_DUPLICATE"}})
def settle(discrepancy_id: str, body: DiscrepancyDecisionIn, user: CurrentUser,
           db: DatabaseDep) -> ApprovalOut:
    return _propose(ApprovalKind.DISCREPANCY_SETTLE, discrepancy_id, body, user, db)


@discrepancy_router.post(
    "/{discrepancy_id}/dismiss", response_model=ApprovalOut, status_code=201,
    summary="Propose that the ledger was right (closed without moving money when another "
            "person approves; dispatchers, managers)",
    responses={409: {"description": "DISCREPANCY_CLOSED, APPROVAL_DUPLICATE"}})
def dismiss(discrepancy_id: str, body: DiscrepancyDecisionIn, user: CurrentUser,
            db: DatabaseDep) -> ApprovalOut:
    return _propose(ApprovalKind.DISCREPANCY_DISMISS, discrepancy_id, body, user, db)


# -- reviews ------------------------------------------------------------------------------
def _rules_out(session: Session) -> list[ReviewRuleOut]:
    return [ReviewRuleOut(kind=r.kind, percent=r.percent, version=r.version)
            for r in reviews.rules(session)]


@router.get("/reviews", response_model=ReviewPage,
            summary="Resolved jobs waiting for review (managers, admins)")
def review_queue(user: CurrentUser, session: SessionDep, kind: WorkOrderKind | None = None,
                 station_id: Annotated[str | None, Query(max_length=36)] = None,
                 limit: Limit = 50, offset: Offset = 0) -> ReviewPage:
    rows, total = reviews.queue(session, actor=user.actor, kind=kind, station_id=station_id,
                                limit=limit, offset=offset)
    names = _names(session, {r.assignee_id for r in rows})
    items = [ReviewItemOut(**r.model_dump(warnings=False),
                           assignee_name=names.get(r.assignee_id or "")) for r in rows]
    return ReviewPage(items=items, total=total, rules=_rules_out(session))


@router.post("/reviews/{order_id}", response_model=ReviewOut,
             summary="Approve a resolution, or return the job (reopened with the reason)",
             responses={409: {"description": "REVIEW_NOT_PENDING"}})
def review_job(order_id: str, body: ReviewIn, user: CurrentUser, db: DatabaseDep
               ) -> ReviewOut:
    with UnitOfWork(db, user.actor) as uow:
        row = reviews.review(uow, actor=user.actor, order_id=order_id, outcome=body.outcome,
                             reason=body.reason)
        status = uow.session.get(WorkOrder, order_id)
        uow.commit()
    return ReviewOut(**row.model_dump(warnings=False),
                     job_status=status.status if status else "")


@router.put("/review-rules/{kind}", response_model=ReviewRuleOut,
            summary="Set the share of resolved jobs of a kind (* = the rest) to review")
def set_review_rule(kind: Annotated[str, Path(min_length=1, max_length=20)],
                    body: ReviewRuleIn, user: CurrentUser, db: DatabaseDep) -> ReviewRuleOut:
    with UnitOfWork(db, user.actor) as uow:
        row = reviews.set_rule(uow, actor=user.actor, kind=kind, percent=body.percent)
        uow.commit()
    return ReviewRuleOut(kind=row.kind, percent=row.percent, version=row.version)


# -- audit --------------------------------------------------------------------------------
def _audit_where(user: CurrentUser, session: Session, person: str | None, account: str | None,
                 job: str | None, kind: str | None, since: date | None, until: date | None
                 ) -> list[object]:
    return audit_view.filters(session, actor=user.actor, person=person, account=account,
                              job=job, kind=kind, since=since, until=until)


@router.get("/audit", response_model=AuditPage,
            summary="Who changed what, when, from which device (managers, admins); read-only")
def audit(user: CurrentUser, session: SessionDep, person: Text = None, account: Text = None,
          job: Text = None, kind: Text = None, since: date | None = None,
          until: date | None = None, limit: Limit = 50, offset: Offset = 0) -> AuditPage:
    where = _audit_where(user, session, person, account, job, kind, since, until)
    rows, total, names = audit_view.page(session, where, limit=limit, offset=offset)
    return AuditPage(total=total, items=[
        AuditEntryOut(**r.model_dump(warnings=False), actor_name=names.get(r.actor_id or ""))
        for r in rows])


@router.get("/audit.csv", summary="The same entries as CSV (at most 50,000, newest first)",
            response_class=StreamingResponse)
def audit_csv(request: Request, user: CurrentUser, session: SessionDep, person: Text = None,
              account: Text = None, job: Text = None, kind: Text = None,
              since: date | None = None, until: date | None = None) -> StreamingResponse:
    where = _audit_where(user, session, person, account, job, kind, since, until)
    db = request.app.state.db

    def rows():  # type: ignore[no-untyped-def]
        with Session(db.reader) as s:  # the request's session ends before the stream does
            yield from audit_view.csv_rows(s, where)

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


# -- overview -----------------------------------------------------------------------------
@router.get("/overview", response_model=OverviewOut,
            summary="Today's jobs by state, overdue and stalled, the crews' load (managers)")
def overview(user: CurrentUser, session: SessionDep,
             station_id: Annotated[str | None, Query(max_length=36)] = None) -> OverviewOut:
    return OverviewOut(**station_overview(session, actor=user.actor, station_id=station_id,
                                          now=utcnow()))


# -- the desk's customer lookup -----------------------------------------------------------
@desk_router.get("/search", response_model=CustomerPage,
                 summary="Find customers by account no., meter no., phone, name, address, "
                         "ID-card or property-certificate number (desk staff)")
def search(request: Request, user: CurrentUser, session: SessionDep,
           q: Annotated[str, Query(min_length=1, max_length=64)],
           limit: Limit = 20, offset: Offset = 0) -> CustomerPage:
    rows, total = desk.search(session, actor=user.actor, q=q,
                              pepper=request.app.state.lookup_pepper, limit=limit,
                              offset=offset)
    return CustomerPage(items=[CustomerOut(**desk.account_out(a, m)) for a, m in rows],
                        total=total)


@desk_router.get("/{account_id}", response_model=AccountViewOut,
                 summary="One customer's account as the desk shows it")
def account_view(account_id: str, user: CurrentUser, session: SessionDep) -> AccountViewOut:
    return AccountViewOut(**desk.account_view(session, actor=user.actor,
                                              account_id=account_id, now=utcnow()))
