"""Application services: submit (online, offline op or at the counter), every step's
decision, the field jobs' outcome, and who may see what.

The rules live in ``shared.applications`` (``check_submission``, ``decide``); this module
loads, adds what only the server knows (the documents' bytes arrived, the area, the
worker, the stock) and stores. Services never commit: the caller's unit of work does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, true
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from server.applications import effects, progress
from server.applications.archive import archive
from server.applications.models import Application
from server.customers.models import Account
from server.customers.service import document_digest, mask_document
from server.db import bump_counter
from server.photos.models import Photo
from server.stations.models import Station, TransformerArea
from server.uow import UnitOfWork
from server.users.models import User
from server.work_orders.models import WorkOrder
from shared.accounts import check_open
from shared.applications.effects import check_capacity_request
from shared.applications.kinds import Step, StepMode, spec_of
from shared.applications.rules import (
    DESK_ROLES,
    AppAction,
    AppDecision,
    AppState,
    AppStatus,
    check_submission,
    covers,
    decide,
)
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Actor, assignee_problem

E = ErrorCode


# -- visibility ---------------------------------------------------------------------------
def visible_clause(actor: Actor) -> ColumnElement[bool]:
    """Applicants see their own; desk staff their station's (county-wide: all)."""
    if actor.role == Role.CUSTOMER:
        mine = Application.applicant_user_id == actor.user_id
        if actor.account_ids:
            return or_(mine, col(Application.account_id).in_(sorted(actor.account_ids)))
        return mine  # type: ignore[return-value]
    if actor.role not in DESK_ROLES:
        return Application.id.is_(None)  # type: ignore[union-attr,no-any-return]
    if actor.role == Role.ADMIN or actor.station_id is None:
        return true()
    return Application.station_id == actor.station_id  # type: ignore[return-value]


def get_visible(session: Session, *, actor: Actor, app_id: str,
                for_update: bool = False) -> Application:
    stmt = select(Application).where(Application.id == app_id, visible_clause(actor))
    if for_update:
        stmt = stmt.with_for_update()
    app = session.exec(stmt).first()
    if app is None:
        raise DomainError(E.APP_NOT_FOUND, application=app_id)
    return app


def state_of(app: Application) -> AppState:
    return AppState.of(app.model_dump())


# -- submit -------------------------------------------------------------------------------
def _new_code(session: Session, at: datetime) -> str:
    n = bump_counter(session, "application_code")
    return f"YK{at.astimezone(LOCAL_TZ):%y%m%d}{n:05d}"


def _same(app: Application, fields: dict[str, Any], actor: Actor) -> bool:
    return (app.submitted_by == actor.user_id and app.kind == fields["kind"]
            and app.applicant_name == fields["applicant_name"])


def submit(uow: UnitOfWork, *, actor: Actor, app_id: str, data: dict[str, Any],
           pepper: str, at: datetime | None = None) -> tuple[Application, bool]:
    """A customer applies (app, online or as an offline op) or a clerk takes a walk-in
    application at the counter. Returns ``(application, created)``; the same id sent
    again by the same person is a no-op."""
    session = uow.session
    now = utcnow()
    at = min(at or now, now)
    if not pepper:
        raise RuntimeError("the identity-number digest key (pepper) is not set")
    if actor.role != Role.CUSTOMER and actor.role not in DESK_ROLES:
        raise DomainError(E.APP_ROLE_NOT_ALLOWED, action="submit")
    fields = check_submission(data)
    existing = session.get(Application, app_id)
    if existing is not None:
        if not _same(existing, fields, actor):
            raise DomainError(E.IDEMPOTENCY_CONFLICT)
        return existing, False
    account = None
    if fields["account_id"]:
        account = session.get(Account, fields["account_id"])
        mine = account is not None and (
            account.id in actor.account_ids if actor.role == Role.CUSTOMER
            else covers(actor, account.station_id))
        if account is None or not mine:
            raise DomainError(E.ACCOUNT_NOT_FOUND, account=fields["account_id"])
        check_open(account.status, account_no=account.account_no)
        check_capacity_request(fields["kind"], fields["capacity_kw"], account.capacity_kw)
        station_id = account.station_id
    else:
        station = session.get(Station, fields["station_id"]) if fields["station_id"] else None
        if station is None:
            raise DomainError(E.STATION_NOT_FOUND, station=fields["station_id"])
        station_id = station.id
    if actor.role != Role.CUSTOMER and not covers(actor, station_id):
        raise DomainError(E.FORBIDDEN)
    applicant_user_id = actor.user_id if actor.role == Role.CUSTOMER else (
        account.owner_user_id if account is not None else data.get("applicant_user_id"))
    if applicant_user_id and actor.role != Role.CUSTOMER:
        user = session.get(User, applicant_user_id)
        if user is None or user.role != Role.CUSTOMER:
            raise DomainError(E.USER_NOT_FOUND, user=applicant_user_id)
    loc = fields["location"] or {}
    documents = [{"doc": doc, "sha256": sha, "added_at": at.isoformat(),
                  "added_by": actor.user_id} for doc, sha in fields["documents"].items()]
    for d in documents:
        if session.get(Photo, d["sha256"]) is None:
            session.add(Photo(sha256=d["sha256"], uploaded_by=actor.user_id))
    app = Application(
        id=app_id, code=_new_code(session, at), kind=fields["kind"],
        status=AppStatus.OPEN.value, step=Step.ACCEPTANCE.value,
        channel="app" if actor.role == Role.CUSTOMER else "counter", station_id=station_id,
        area_id=account.area_id if account is not None else None,
        account_id=account.id if account is not None else None,
        applicant_user_id=applicant_user_id, submitted_by=actor.user_id,
        applicant_name=fields["applicant_name"], contact_phone=fields["contact_phone"],
        address=fields["address"], lat=loc.get("lat"), lon=loc.get("lon"),
        gps_accuracy_m=loc.get("accuracy_m"), capacity_kw=fields["capacity_kw"],
        note=fields["note"], id_card_digest=document_digest(fields["id_card_no"], pepper=pepper),
        id_card_masked=mask_document(fields["id_card_no"], keep_start=3, keep_end=4),
        documents=documents, steps=[], submitted_at=at)
    progress.start_step(uow, app, Step.ACCEPTANCE, at=at)
    uow.changed(app, scope=progress.scope_of_app(app))
    session.flush()
    progress.notify(uow, app, "submitted", at=at)
    uow.audit(action="application.submit", entity="application", entity_id=app.id,
              after={"kind": app.kind, "channel": app.channel, "station_id": station_id,
                     "documents": {d["doc"]: d["sha256"] for d in documents}})
    return app, True


# -- decisions ----------------------------------------------------------------------------
def _documents_received(session: Session, app: Application) -> None:
    current = {d["doc"]: d["sha256"] for d in app.documents}
    complete = set(session.exec(select(Photo.sha256).where(
        col(Photo.sha256).in_(sorted(set(current.values()))),
        Photo.status == "complete")).all())
    missing = sorted(doc for doc, sha in current.items() if sha not in complete)
    if missing:
        raise DomainError(E.APP_DOCUMENTS_NOT_RECEIVED, documents=",".join(missing))


def _check_area(session: Session, app: Application, area_id: str) -> None:
    area = session.get(TransformerArea, area_id)
    if area is None or area.station_id != app.station_id:
        raise DomainError(E.AREA_NOT_FOUND, area=area_id)


def _check_worker(session: Session, app: Application, step: Step, user_id: str | None
                  ) -> None:
    if not user_id or spec_of(app.kind).spec(step).mode != StepMode.JOB:
        return  # only a field job has a worker (a decision's holder is the desk)
    user = session.get(User, user_id)
    roles = spec_of(app.kind).spec(step).roles
    problem = "no such user" if user is None else (
        None if Role(user.role) in roles else f"role {user.role} does not hold {step.value}")
    if problem is None and user is not None:
        problem = assignee_problem(spec_of(app.kind).job_kind, role=Role(user.role),
                                   active=user.active, station_id=user.station_id,
                                   job_station_id=app.station_id)
    if problem:
        raise DomainError(E.WO_ASSIGNEE_INVALID, reason=problem)


def act(uow: UnitOfWork, *, actor: Actor, app_id: str, action: AppAction,
        data: dict[str, Any], at: datetime | None = None) -> Application:
    """Take a desk decision or an applicant's action: the shared rules decide, this
    checks what only the server knows, then stores and tells the applicant."""
    session = uow.session
    now = utcnow()
    at = min(at or now, now)
    app = get_visible(session, actor=actor, app_id=app_id, for_update=True)
    if action == AppAction.JOB_DONE:
        raise DomainError(E.APP_TRANSITION_NOT_ALLOWED, action=action.value,
                          status=app.status, step=app.step)
    decision = decide(state_of(app), actor, action, data)
    if action == AppAction.ACCEPT:
        _documents_received(session, app)
        if decision.fields.get("area_id"):
            _check_area(session, app, decision.fields["area_id"])
            app.area_id = decision.fields["area_id"]
        elif app.area_id is None:
            raise DomainError(E.APP_AREA_REQUIRED)
    if decision.enters:
        _check_worker(session, app, decision.enters[0], decision.fields.get("assignee_id"))
    apply(uow, app, decision, actor=actor, at=at)
    return app


def apply(uow: UnitOfWork, app: Application, decision: AppDecision, *, actor: Actor,
          at: datetime) -> None:
    """Store a decision: the step entries, the row, the next step's job, the archive
    when it completes, the audit entry and the applicant's notice."""
    session = uow.session
    f = decision.fields
    before = {"status": app.status, "step": app.step}
    action = decision.action
    if action == AppAction.RETURN:
        progress.end_step(session, app, actor=actor, at=at, outcome="returned",
                          note=f["reason"])
        app.return_reason = f["reason"]
        app.returned_documents = f["documents"]
    elif action == AppAction.RESUBMIT:
        app.documents = [*app.documents, *({"doc": doc, "sha256": sha,
                                            "added_at": at.isoformat(),
                                            "added_by": actor.user_id}
                                           for doc, sha in f["documents"].items())]
        for sha in f["documents"].values():
            if session.get(Photo, sha) is None:
                session.add(Photo(sha256=sha, uploaded_by=actor.user_id))
        app.return_reason, app.returned_documents = None, []
        progress.start_step(uow, app, Step.ACCEPTANCE, at=at)
    elif action in (AppAction.REJECT, AppAction.CANCEL):
        progress.end_step(session, app, actor=actor, at=at, outcome=action.value,
                          note=f["reason"])
        app.outcome_reason = f["reason"]
    elif action == AppAction.RATE:
        app.rating, app.rating_comment = f["rating"], f.get("comment")
    if decision.ends and action not in (AppAction.REJECT, AppAction.CANCEL):
        progress.end_step(session, app, actor=actor, at=at, outcome="done",
                          note=f.get("note") or f.get("findings"))
    if action == AppAction.APPROVE:
        app.opening_fen = int(f.get("opening_fen") or 0)
    if action == AppAction.JOB_DONE and f.get("findings") and app.step == Step.SITE_SURVEY:
        app.findings = f["findings"]
    app.status = decision.to_status.value
    for step in decision.enters:
        progress.enter(uow, app, step, at=at, assignee_id=f.get("assignee_id"))
    session.flush()
    if decision.completes:
        progress.end_step(session, app, actor=actor, at=at, outcome="done")
        app.completed_at = at
        effects.apply_effects(uow, app, at=at)  # the account's change, in this transaction
        archive(uow, app, actor=actor, at=at)
    progress.touch(uow, app)
    uow.audit(action=f"application.{action.value}", entity="application", entity_id=app.id,
              before=before, after={"status": app.status, "step": app.step,
                                    **{k: v for k, v in f.items() if k != "documents"}},
              reason=f.get("reason"))
    if action == AppAction.RETURN:
        progress.notify(uow, app, "returned", at=at, reason=f["reason"],
                        documents=",".join(f["documents"]))
    elif action == AppAction.REJECT:
        progress.notify(uow, app, "rejected", at=at, reason=f["reason"])
    elif decision.completes:
        account = session.get(Account, app.account_id) if app.account_id else None
        extra = (f"户号 {account.account_no}。" if account is not None
                 and spec_of(app.kind).new_account else "")
        progress.notify(uow, app, "completed", at=at, extra=extra)
    elif decision.enters or action == AppAction.RESUBMIT:
        progress.notify_step(uow, app, at=at)


# -- the field jobs -----------------------------------------------------------------------
def application_of_job(session: Session, order_id: str, *, for_update: bool = False
                       ) -> Application | None:
    stmt = select(Application).where(or_(Application.survey_order_id == order_id,
                                         Application.install_order_id == order_id))
    if for_update:
        stmt = stmt.with_for_update()
    return session.exec(stmt).first()


def on_job_resolved(uow: UnitOfWork, *, order: WorkOrder, actor: Actor, at: datetime
                    ) -> None:
    """A survey or installation job was resolved on a phone: its step is done (an
    installation of a new connection must have installed the meter first)."""
    session = uow.session
    app = application_of_job(session, order.id, for_update=True)
    if app is None or app.status != AppStatus.OPEN.value:
        return
    step = Step(app.step)
    current = app.survey_order_id if step == Step.SITE_SURVEY else app.install_order_id
    if spec_of(app.kind).spec(step).mode != StepMode.JOB or current != order.id:
        return
    if step == Step.INSTALLATION and spec_of(app.kind).new_account and app.meter_id is None:
        raise DomainError(E.APP_INSTALL_REQUIRED)
    decision = decide(state_of(app), actor, AppAction.JOB_DONE,
                      {"findings": order.resolution})
    apply(uow, app, decision, actor=actor, at=at)


# -- queries ------------------------------------------------------------------------------
def list_applications(session: Session, *, actor: Actor, status: list[str] | None = None,
                      step: str | None = None, kind: str | None = None,
                      id_card_digest: str | None = None, limit: int = 50, offset: int = 0
                      ) -> tuple[list[Application], int]:
    from sqlalchemy import func

    conds: list[Any] = [visible_clause(actor)]
    if status:
        conds.append(col(Application.status).in_(status))
    if step:
        conds.append(Application.step == step)
    if kind:
        conds.append(Application.kind == kind)
    if id_card_digest:
        conds.append(Application.id_card_digest == id_card_digest)
    total = session.exec(select(func.count()).select_from(Application).where(*conds)).one()
    rows = session.exec(select(Application).where(*conds)
                        .order_by(col(Application.submitted_at).desc())
                        .limit(limit).offset(offset)).all()
    return list(rows), int(total)
