"""``/api/v1/users/{user_id}/devices``: a user's devices for the office; revoke a lost one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StringConstraints

from server.deps import CurrentUser, DatabaseDep, SessionDep
from server.devices import service
from server.uow import UnitOfWork
from server.work_orders.schemas import Strict
from shared.text import Paragraphs

router = APIRouter(prefix="/api/v1/users/{user_id}/devices", tags=["devices"])


class DeviceOut(BaseModel):
    id: str
    user_id: str
    first_seen: datetime | None
    last_seen: datetime | None = Field(description="Last push or sign-in")
    app: str | None = Field(description="The app (User-Agent) of its last push")
    protocol: int | None = Field(description="The sync protocol of its last push")
    active_logins: int
    applied_ops: int
    rejected_ops: int
    held_ops: int = Field(description="Pushed after it was revoked: kept, never applied")
    last_push_ops: int
    last_push_pending: int = Field(description="Of its last push, ops left undecided")
    revoked_at: datetime | None
    revoked_by: str | None
    revoke_reason: str | None


class RevokeIn(Strict):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500), Paragraphs]


class HeldOpOut(BaseModel):
    op_id: str
    device_id: str
    user_id: str
    device_seq: int
    type: str
    entity_id: str
    lane: str
    payload: dict[str, Any]
    photos: list[Any]
    created_at: datetime
    received_at: datetime


def _out(view: service.DeviceView) -> DeviceOut:
    return DeviceOut(**view.__dict__)


@router.get("", response_model=list[DeviceOut],
            summary="A user's devices (admins: anyone's; dispatchers, managers: their "
                    "station's users)")
def list_devices(user_id: str, user: CurrentUser, session: SessionDep) -> list[DeviceOut]:
    return [_out(v) for v in service.devices_of(session, actor=user.actor, user_id=user_id)]


@router.post("/{device_id}/revoke", response_model=DeviceOut,
             summary="Revoke a lost or stolen device: every token of it dies at once")
def revoke_device(user_id: str, device_id: str, body: RevokeIn, user: CurrentUser,
                  db: DatabaseDep) -> DeviceOut:
    with UnitOfWork(db, user.actor) as uow:
        view = service.revoke(uow, actor=user.actor, user_id=user_id, device_id=device_id,
                              reason=body.reason)
        uow.commit()
    return _out(view)


@router.get("/{device_id}/held-ops", response_model=list[HeldOpOut],
            summary="Ops the device pushed after it was revoked (kept, not applied)")
def held_ops(user_id: str, device_id: str, user: CurrentUser, session: SessionDep
             ) -> list[HeldOpOut]:
    rows = service.held(session, actor=user.actor, user_id=user_id, device_id=device_id)
    return [HeldOpOut(**r.model_dump(warnings=False)) for r in rows]
