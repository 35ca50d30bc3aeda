"""An application's progress: its step entries, the field jobs its steps are, and the
inbox notices that tell the applicant of each change. Called by ``service`` inside the
caller's unit of work (never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlmodel import Session

from server.applications.models import Application
from server.customers.models import Account
from server.notifications.models import Notification, OutboxMessage
from server.uow import Scope, UnitOfWork
from server.users.models import User
from server.work_orders import service as work_orders
from shared.applications.kinds import Step, StepMode, spec_of
from shared.applications.notices import STEP_LABELS, pick, render
from shared.applications.rules import due_at
from shared.enums import ReportChannel, Role
from shared.messages import ROLE_LABELS
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.state_machine import Action, Actor

#: The workflow raises and dispatches its field jobs itself (as billing raises care jobs).
WORKFLOW = Actor(user_id=cast(str, None), role=Role.ADMIN)


def scope_of_app(app: Application) -> Scope:
    return Scope(app.station_id, app.account_id, app.applicant_user_id)


def touch(uow: UnitOfWork, app: Application) -> None:
    app.version += 1
    app.updated_at = utcnow()
    uow.changed(app, scope=scope_of_app(app))


def _name(session: Session, user_id: str | None) -> str | None:
    if not user_id:
        return None
    user = session.get(User, user_id)
    return user.display_name if user else None


def end_step(session: Session, app: Application, *, actor: Actor, at: datetime,
             outcome: str, note: str | None = None) -> None:
    """Close the open entry of the current step (``outcome``: done, returned, ...)."""
    steps = [dict(s) for s in app.steps]
    for entry in reversed(steps):
        if entry["step"] == app.step and entry.get("ended_at") is None:
            entry.update(ended_at=at.isoformat(), outcome=outcome, ended_by=actor.user_id,
                         ended_by_name=_name(session, actor.user_id)
                         or ("system" if actor.user_id is None else None),
                         ended_by_role=actor.role.value, note=note)
            break
    app.steps = steps


def start_step(uow: UnitOfWork, app: Application, step: Step, *, at: datetime,
               holder_id: str | None = None, order_id: str | None = None) -> dict[str, Any]:
    spec = spec_of(app.kind).spec(step)
    entry: dict[str, Any] = {
        "step": step.value, "mode": spec.mode.value,
        "holder_role": sorted(r.value for r in spec.roles)[0] if spec.roles else None,
        "holder_roles": sorted(r.value for r in spec.roles),
        "holder_id": holder_id, "holder_name": _name(uow.session, holder_id),
        "started_at": at.isoformat(), "due_at": due_at(app.kind, step, at).isoformat(),
        "ended_at": None, "work_order_id": order_id}
    app.steps = [*app.steps, entry]
    app.step = step.value
    return entry


def raise_job(uow: UnitOfWork, app: Application, step: Step, *, at: datetime,
              assignee_id: str | None) -> str:
    """The field job a step is: a work order of the kind's job kind at the applicant's
    address, dispatched to ``assignee_id`` when the desk named one."""
    spec = spec_of(app.kind)
    label_zh, label_en = STEP_LABELS[step]
    order, _ = work_orders.report(uow, actor=WORKFLOW, at=at, data={
        "kind": spec.job_kind.value, "account_id": app.account_id, "area_id": app.area_id,
        "channel": ReportChannel.COUNTER.value,
        "description": (f"{label_zh} / {label_en}: {app.code} · {app.applicant_name} · "
                        f"{app.capacity_kw or '-'} kW"
                        + (f" · {app.note}" if app.note else ""))[:2000],
        "contact_name": app.applicant_name, "contact_phone": app.contact_phone,
        "address": app.address,
        "location": ({"lat": app.lat, "lon": app.lon} if app.lat is not None else None)})
    if assignee_id:
        work_orders.act(uow, actor=WORKFLOW, order_id=order.id, action=Action.DISPATCH,
                        data={"assignee_id": assignee_id}, at=at)
    return order.id


def enter(uow: UnitOfWork, app: Application, step: Step, *, at: datetime,
          assignee_id: str | None = None) -> None:
    """Reach ``step``: a job step raises its work order."""
    order_id = None
    mode = spec_of(app.kind).spec(step).mode
    if mode == StepMode.JOB:
        order_id = raise_job(uow, app, step, at=at, assignee_id=assignee_id)
        if step == Step.SITE_SURVEY:
            app.survey_order_id = order_id
        else:
            app.install_order_id = order_id
    start_step(uow, app, step, at=at, order_id=order_id,
               holder_id=assignee_id if mode == StepMode.JOB else None)


# -- notices ------------------------------------------------------------------------------
def holder_text(entry: dict[str, Any], lang: str) -> str:
    if entry.get("holder_name"):
        return str(entry["holder_name"])
    roles = entry.get("holder_roles") or []
    labels = [pick({r: ROLE_LABELS[Role(r)] for r in roles}, r, lang) for r in roles]
    return " / ".join(labels) or "—"


def notify(uow: UnitOfWork, app: Application, event: str, *, at: datetime,
           **params: Any) -> Notification | None:
    """Tell the applicant: an inbox entry (their phone) and an SMS to the contact phone."""
    session = uow.session
    user_id = app.applicant_user_id
    if user_id is None and app.account_id:
        account = session.get(Account, app.account_id)
        user_id = account.owner_user_id if account else None
    base = {"code": app.code, "kind": app.kind, **params}
    zh, en = render(event, "zh", **base), render(event, "en", **base)
    note = Notification(account_id=app.account_id, user_id=user_id,
                        kind=f"app_{event}"[:24], title_zh=zh[0][:100], body_zh=zh[1][:500],
                        title_en=en[0][:100], body_en=en[1][:500],
                        data={"application_id": app.id, "code": app.code, "event": event},
                        created_at=at)
    uow.changed(note, scope=Scope(None, app.account_id, user_id))
    lang = "zh"
    if user_id:
        user = session.get(User, user_id)
        lang = "en" if user is not None and user.locale.startswith("en") else "zh"
    title, body = en if lang == "en" else zh
    session.add(OutboxMessage(notification_id=note.id, recipient=app.contact_phone, lang=lang,
                              body=f"[{title}] {body}"[:600]))
    return note


def notify_step(uow: UnitOfWork, app: Application, *, at: datetime) -> None:
    entry = app.steps[-1]
    due = datetime.fromisoformat(entry["due_at"]).astimezone(LOCAL_TZ)
    user = uow.session.get(User, app.applicant_user_id) if app.applicant_user_id else None
    lang = "en" if user is not None and user.locale.startswith("en") else "zh"
    notify(uow, app, "step", at=at, step=entry["step"], holder=holder_text(entry, lang),
           due=f"{due:%Y-%m-%d}")
