"""``/api/v1/stations``: supply stations, their transformer areas and staff."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from sqlmodel import select

from server.deps import CurrentUser, SessionDep, require_roles
from server.stations.models import Station, TransformerArea
from server.users.models import User
from shared.enums import AreaClass, Role
from shared.errors import DomainError, ErrorCode

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])
_STAFF = require_roles(Role.CREW, Role.METER_TECH, Role.AGENT, Role.DISPATCHER, Role.MANAGER,
                       Role.ADMIN)


class StationOut(BaseModel):
    id: str
    code: str
    name: str
    county: str


class AreaOut(BaseModel):
    id: str
    code: str
    name: str
    station_id: str
    rated_kva: int
    area_class: AreaClass


class StaffOut(BaseModel):
    id: str
    display_name: str
    role: Role
    phone: str | None
    active: bool


@router.get("", response_model=list[StationOut], dependencies=[_STAFF],
            summary="Supply stations (staff)")
def stations(session: SessionDep) -> list[StationOut]:
    rows = session.exec(select(Station).order_by(Station.code)).all()
    return [StationOut(**s.model_dump(warnings=False)) for s in rows]


@router.get("/{station_id}/areas", response_model=list[AreaOut], dependencies=[_STAFF],
            summary="Transformer areas of a station (staff)")
def areas(station_id: str, session: SessionDep) -> list[AreaOut]:
    if session.get(Station, station_id) is None:
        raise DomainError(ErrorCode.STATION_NOT_FOUND, station=station_id)
    rows = session.exec(select(TransformerArea).where(TransformerArea.station_id == station_id)
                        .order_by(TransformerArea.code)).all()
    return [AreaOut(**a.model_dump(warnings=False)) for a in rows]


@router.get("/{station_id}/staff", response_model=list[StaffOut],
            dependencies=[require_roles(Role.DISPATCHER, Role.MANAGER, Role.ADMIN)],
            summary="Field staff of a station, for dispatch (office of that station)")
def staff(station_id: str, user: CurrentUser, session: SessionDep) -> list[StaffOut]:
    if user.role != Role.ADMIN and user.station_id not in (None, station_id):
        raise DomainError(ErrorCode.STATION_NOT_FOUND, station=station_id)
    if session.get(Station, station_id) is None:
        raise DomainError(ErrorCode.STATION_NOT_FOUND, station=station_id)
    rows = session.exec(select(User).where(
        User.station_id == station_id,
        User.role.in_([Role.CREW.value, Role.METER_TECH.value, Role.AGENT.value]))  # type: ignore[attr-defined]
        .order_by(User.display_name)).all()
    return [StaffOut(**u.model_dump(warnings=False)) for u in rows]
