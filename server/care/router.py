"""``/api/v1/care``: the care list (用电关怀) — who is on it, the changes asked for, and
their approval by a second person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session, col, select

from server.care import service
from server.care.models import CareRequest
from server.care.schemas import CareDecisionIn, CareEntryOut, CareRequestIn, CareRequestOut
from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.uow import UnitOfWork
from server.users.models import User

router = APIRouter(prefix="/api/v1/care", tags=["care list"])


def _names(session: Session, ids: set[str | None]) -> dict[str, str]:
    """Display names of the people who asked, added, approved or decided."""
    wanted = sorted(i for i in ids if i)
    return dict(session.exec(select(User.id, User.display_name)
                             .where(col(User.id).in_(wanted))).all()) if wanted else {}


def _req_out(req: CareRequest, account: Account, names: dict[str, str]) -> CareRequestOut:
    return CareRequestOut(**req.model_dump(exclude={"station_id", "version"}),
                          account_no=account.account_no, account_name=account.name,
                          requested_by_name=names.get(req.requested_by),
                          decided_by_name=names.get(req.decided_by or ""))


def _out(session: Session, req: CareRequest) -> CareRequestOut:
    account = session.get(Account, req.account_id)
    assert account is not None
    return _req_out(req, account, _names(session, {req.requested_by, req.decided_by}))


@router.get("/entries", response_model=list[CareEntryOut],
            summary="Accounts on the care list (desk staff of the station)")
def list_entries(user: CurrentUser, session: SessionDep) -> list[CareEntryOut]:
    rows = service.entries(session, actor=user.actor)
    names = _names(session, {who for e, _ in rows for who in (e.added_by, e.approved_by)})
    return [CareEntryOut(**e.model_dump(exclude={"id", "station_id", "version",
                                                 "reviewed_for"}),
                         account_no=a.account_no, account_name=a.name,
                         added_by_name=names.get(e.added_by),
                         approved_by_name=names.get(e.approved_by))
            for e, a in rows]


@router.get("/requests", response_model=list[CareRequestOut],
            summary="Requested changes of the care list")
def list_requests(user: CurrentUser, session: SessionDep,
                  status: Annotated[str | None, Query(max_length=10)] = None
                  ) -> list[CareRequestOut]:
    rows = service.requests(session, actor=user.actor, status=status)
    names = _names(session, {who for r, _ in rows for who in (r.requested_by, r.decided_by)})
    return [_req_out(r, a, names) for r, a in rows]


@router.post("/requests", response_model=CareRequestOut, status_code=201,
             summary="Ask to add an account to the care list, or to remove it")
def request_change(body: CareRequestIn, user: CurrentUser, db: DatabaseDep) -> CareRequestOut:
    with UnitOfWork(db, user.actor) as uow:
        req = service.request_change(uow, actor=user.actor, account_id=body.account_id,
                                     data=body.model_dump(exclude={"account_id"}))
        out = _out(uow.session, req)
        uow.commit()
    return out


@router.post("/requests/{request_id}/decision", response_model=CareRequestOut,
             summary="Approve or refuse a request (another person than who asked)")
def decide(request_id: str, body: CareDecisionIn, user: CurrentUser, db: DatabaseDep
           ) -> CareRequestOut:
    with UnitOfWork(db, user.actor) as uow:
        req = service.decide(uow, actor=user.actor, request_id=request_id,
                             approve=body.approve, note=body.note)
        out = _out(uow.session, req)
        uow.commit()
    return out
