"""``/api/v1/work-orders``: report, list, detail, every transition of the state machine."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlmodel import Session, select

from server.customers.models import Account
from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.meters.models import Meter
from server.photos.models import Photo, PhotoLink
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders import service
from server.work_orders.models import WorkOrder
from server.work_orders.schemas import (
    ACTION_BODY,
    ActionIn,
    EventOut,
    FlagsOut,
    PersonOut,
    ReportIn,
    WorkOrderDetail,
    WorkOrderOut,
    WorkOrderPage,
)
from shared.enums import WorkOrderKind, WorkOrderStatus
from shared.workorders.state_machine import Action, Actor, allowed_actions

router = APIRouter(prefix="/api/v1/work-orders", tags=["work orders"])


def _people(session: Session, ids: set[str]) -> dict[str, PersonOut]:
    if not ids:
        return {}
    users = session.exec(select(User).where(User.id.in_(sorted(ids)))).all()  # type: ignore[attr-defined]
    return {u.id: PersonOut(id=u.id, display_name=u.display_name, role=u.role, phone=u.phone)
            for u in users}


def to_out(session: Session, orders: list[WorkOrder], actor: Actor) -> list[WorkOrderOut]:
    people = _people(session, {o.assignee_id for o in orders if o.assignee_id})
    acc_ids = sorted({o.account_id for o in orders if o.account_id})
    meter_ids = sorted({o.meter_id for o in orders if o.meter_id})
    accounts = dict(session.exec(select(Account.id, Account.account_no).where(
        Account.id.in_(acc_ids))).all()) if acc_ids else {}  # type: ignore[attr-defined]
    meters = dict(session.exec(select(Meter.id, Meter.meter_no).where(
        Meter.id.in_(meter_ids))).all()) if meter_ids else {}  # type: ignore[attr-defined]
    out = []
    for o in orders:
        f = service.flags(o)
        data = o.model_dump(warnings=False)
        out.append(WorkOrderOut(
            **data, account_no=accounts.get(o.account_id or ""),
            meter_no=meters.get(o.meter_id or ""),
            assignee=people.get(o.assignee_id or ""),
            flags=FlagsOut(overdue=f.overdue, overdue_arrival=f.overdue_arrival,
                           stalled=f.stalled),
            allowed_actions=[a.value for a in allowed_actions(service.facts(o), actor)]))
    return out


def detail(session: Session, order: WorkOrder, actor: Actor) -> WorkOrderDetail:
    base = to_out(session, [order], actor)[0]
    events = service.timeline(session, order.id)
    people = _people(session, {e.actor_id for e in events if e.actor_id})
    photos = session.exec(select(PhotoLink, Photo).join(Photo)
                          .where(PhotoLink.work_order_id == order.id)).all()
    return WorkOrderDetail(
        **base.model_dump(),
        timeline=[EventOut(id=e.id, action=e.action, from_status=e.from_status,
                           to_status=e.to_status, actor=people.get(e.actor_id or ""),
                           occurred_at=e.occurred_at, recorded_at=e.recorded_at, data=e.data)
                  for e in events],
        photos=[{"sha256": link.sha256, "purpose": link.purpose, "caption": link.caption,
                 "status": photo.status, "added_at": link.added_at}
                for link, photo in photos])


@router.post("", response_model=WorkOrderDetail, status_code=201,
             summary="Report a fault or raise another work order",
             responses={200: {"description": "The same client id was already reported"}})
def report(body: ReportIn, user: CurrentUser, db: DatabaseDep, response: Response
           ) -> WorkOrderDetail:
    """Customers report on their own accounts (app); dispatchers and agents on behalf of a
    caller (hotline, counter). Deadlines are computed from kind and area class."""
    with UnitOfWork(db, user.actor) as uow:
        order, created = service.report(uow, actor=user.actor, data=body.model_dump())
        uow.commit()
        if not created:
            response.status_code = 200
        return detail(uow.session, order, user.actor)


@router.get("", response_model=WorkOrderPage, summary="List work orders I may see")
def list_orders(
    user: CurrentUser, session: SessionDep,
    status: Annotated[list[WorkOrderStatus] | None, Query()] = None,
    kind: WorkOrderKind | None = None,
    station_id: Annotated[str | None, Query(max_length=36)] = None,
    assignee_id: Annotated[str | None, Query(max_length=36,
                                             description="a user id, or 'me'")] = None,
    account_id: Annotated[str | None, Query(max_length=36)] = None,
    overdue: bool | None = None, stalled: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> WorkOrderPage:
    """Sorted by completion deadline (most urgent first)."""
    rows, total = service.list_orders(
        session, actor=user.actor, status=status, kind=kind, station_id=station_id,
        assignee_id=assignee_id, account_id=account_id, overdue=overdue, stalled=stalled,
        limit=limit, offset=offset)
    return WorkOrderPage(items=to_out(session, rows, user.actor), total=total, limit=limit,
                         offset=offset)


@router.get("/{order_id}", response_model=WorkOrderDetail,
            summary="A work order with its full timeline")
def get_order(order_id: str, user: CurrentUser, session: SessionDep) -> WorkOrderDetail:
    order = service.get_visible(session, actor=user.actor, order_id=order_id)
    return detail(session, order, user.actor)


def _act(db: Any, user: Any, order_id: str, action: Action, body: ActionIn
         ) -> WorkOrderDetail:
    with UnitOfWork(db, user.actor) as uow:
        result = service.act(uow, actor=user.actor, order_id=order_id, action=action,
                             data=body.model_dump())
        uow.commit()
        return detail(uow.session, result.order, user.actor)


_SUMMARY = {
    Action.DISPATCH: "Dispatch to a crew / technician / agent (office)",
    Action.REASSIGN: "Reassign to someone else, with a reason (office)",
    Action.DECLINE: "Assignee declines the job, with a reason",
    Action.ACCEPT: "Assignee accepts the job",
    Action.START_TRAVEL: "Assignee sets off (en route)",
    Action.ARRIVE: "Assignee arrives on site, with GPS fix or manual",
    Action.ADD_NOTE: "Add a note to the timeline",
    Action.ADD_PHOTO: "Attach a photo (by SHA-256) to the job",
    Action.REQUEST_HELP: "Assignee asks for help",
    Action.RESOLVE: "Assignee resolves the job, saying what was done",
    Action.REOPEN: "Customer or office reopens a resolved job",
    Action.CONFIRM: "Customer confirms with a 1-5 rating (office: on behalf)",
    Action.CLOSE: "Office closes (archives) a resolved or confirmed job",
    Action.CANCEL: "Cancel with a reason (customer: only before dispatch)",
}


def _register(action: Action, model: type[ActionIn], summary: str) -> None:
    def endpoint(order_id: str, body: ActionIn, user: CurrentUser, db: DatabaseDep
                 ) -> WorkOrderDetail:
        return _act(db, user, order_id, action, body)

    endpoint.__annotations__["body"] = model
    endpoint.__name__ = f"work_order_{action.value}"
    router.add_api_route(f"/{{order_id}}/{action.value.replace('_', '-')}", endpoint,
                         methods=["POST"], response_model=WorkOrderDetail, summary=summary,
                         description=f"State-machine action `{action.value}`. Errors: "
                         "409 WO_TRANSITION_NOT_ALLOWED, 403 WO_NOT_ASSIGNEE / "
                         "WO_ROLE_NOT_ALLOWED, 404 when the job is not visible to you.")


for _action, _summary in _SUMMARY.items():
    _register(_action, ACTION_BODY[_action], _summary)
