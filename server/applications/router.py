"""``/api/v1/applications``: apply (online or at the counter), follow, decide each step,
install a new connection's meter, see the archive and the document photos."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session, col, select

from server.applications import install as installing
from server.applications import service
from server.applications.archive import canonical_hash
from server.applications.models import Application, ApplicationArchive
from server.applications.schemas import (
    ActionIn,
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    ArchiveOut,
    InstallIn,
    Sha256,
    WorkerOut,
)
from server.customers.models import Account
from server.customers.service import document_digest
from server.deps import BlobsDep, CurrentUser, DatabaseDep, SessionDep
from server.photos import service as photos
from server.uow import UnitOfWork
from server.users.models import User
from shared.applications.kinds import StepMode, spec_of
from shared.applications.rules import DESK_ROLES, AppAction
from shared.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])


def to_out(session: Session, apps: list[Application]) -> list[ApplicationOut]:
    ids = sorted({a.account_id for a in apps if a.account_id})
    numbers = dict(session.exec(select(Account.id, Account.account_no).where(
        col(Account.id).in_(ids))).all()) if ids else {}
    return [ApplicationOut(**a.model_dump(exclude={"id_card_digest"}),
                           account_no=numbers.get(a.account_id or "")) for a in apps]


@router.post("", response_model=ApplicationOut, status_code=201,
             summary="Apply (customer) or take a walk-in application (counter clerk)")
def submit(body: ApplicationIn, request: Request, response: Response, user: CurrentUser,
           db: DatabaseDep) -> ApplicationOut:
    with UnitOfWork(db, user.actor) as uow:
        app, created = service.submit(uow, actor=user.actor, app_id=body.id,
                                      data=body.model_dump(mode="json"),
                                      pepper=request.app.state.lookup_pepper)
        out = to_out(uow.session, [app])[0]
        uow.commit()
    if not created:
        response.status_code = 200
    return out


@router.get("", response_model=ApplicationPage, summary="Applications you may see")
def list_applications(
    request: Request, user: CurrentUser, session: SessionDep,
    status: Annotated[list[str] | None, Query(max_length=5)] = None,
    step: Annotated[str | None, Query(max_length=16)] = None,
    kind: Annotated[str | None, Query(max_length=24)] = None,
    id_card: Annotated[str | None, Query(min_length=6, max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> ApplicationPage:
    """``id_card``: the counter's customer lookup (an exact match on the keyed digest)."""
    digest = (document_digest(id_card, pepper=request.app.state.lookup_pepper)
              if id_card else None)
    rows, total = service.list_applications(session, actor=user.actor, status=status,
                                            step=step, kind=kind, id_card_digest=digest,
                                            limit=limit, offset=offset)
    return ApplicationPage(items=to_out(session, rows), total=total)


@router.get("/{app_id}", response_model=ApplicationOut, summary="One application")
def get_application(app_id: str, user: CurrentUser, session: SessionDep) -> ApplicationOut:
    app = service.get_visible(session, actor=user.actor, app_id=app_id)
    return to_out(session, [app])[0]


@router.post("/{app_id}/{action}", response_model=ApplicationOut,
             summary="Decide a step: accept, return, resubmit, approve, reject, rate, cancel")
def act(app_id: str, action: AppAction, body: ActionIn, user: CurrentUser,
        db: DatabaseDep) -> ApplicationOut:
    with UnitOfWork(db, user.actor) as uow:
        app = service.act(uow, actor=user.actor, app_id=app_id, action=action,
                          data=body.model_dump(mode="json", exclude_none=True))
        out = to_out(uow.session, [app])[0]
        uow.commit()
    return out


@router.post("/jobs/{order_id}/install", response_model=ApplicationOut,
             summary="Install a new connection's meter (the installation job's technician)")
def install(order_id: str, body: InstallIn, user: CurrentUser, db: DatabaseDep
            ) -> ApplicationOut:
    with UnitOfWork(db, user.actor) as uow:
        app = installing.install(uow, actor=user.actor, order_id=order_id,
                                 data=body.model_dump())
        out = to_out(uow.session, [app])[0]
        uow.commit()
    return out


def _staff_app(session: Session, user: CurrentUser, app_id: str) -> Application:
    if user.role not in DESK_ROLES:
        raise DomainError(ErrorCode.APP_NOT_FOUND, application=app_id)
    return service.get_visible(session, actor=user.actor, app_id=app_id)


@router.get("/{app_id}/archive", response_model=ArchiveOut,
            summary="The archived record of a completed application (desk staff)")
def get_archive(app_id: str, user: CurrentUser, session: SessionDep) -> ArchiveOut:
    _staff_app(session, user, app_id)
    row = session.exec(select(ApplicationArchive).where(
        ApplicationArchive.application_id == app_id)).first()
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND)
    return ArchiveOut(application_id=row.application_id, record=row.record,
                      record_sha256=row.record_sha256,
                      verified=canonical_hash(row.record) == row.record_sha256,
                      archived_by=row.archived_by, archived_at=row.archived_at)


@router.get("/{app_id}/workers", response_model=list[WorkerOut],
            summary="Who may work the application's field jobs (desk staff)")
def workers(app_id: str, user: CurrentUser, session: SessionDep) -> list[WorkerOut]:
    """The station's active field staff whose role works a job step of this kind (crews
    survey, technicians install): the desk names one when it decides."""
    app = _staff_app(session, user, app_id)
    roles = sorted({r.value for s in spec_of(app.kind).steps if s.mode == StepMode.JOB
                    for r in s.roles})
    rows = session.exec(select(User).where(User.station_id == app.station_id,
                                           col(User.role).in_(roles),
                                           col(User.active).is_(True))
                        .order_by(col(User.display_name))).all()
    return [WorkerOut(id=u.id, display_name=u.display_name, role=u.role) for u in rows]


@router.get("/{app_id}/documents/{sha256}", response_class=Response,
            summary="A document photo of the application (desk staff, or its applicant)")
def document(app_id: str, sha256: Sha256, user: CurrentUser, session: SessionDep,
             blobs: BlobsDep) -> Response:
    app = service.get_visible(session, actor=user.actor, app_id=app_id)
    if sha256 not in {d["sha256"] for d in app.documents}:
        raise DomainError(ErrorCode.NOT_FOUND)
    data, content_type = photos.read(session, blobs, sha256)
    return Response(data, media_type=content_type, headers={
        "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})
