"""Decide, then apply: what an action does to an application, as pure functions.

``check_submission`` checks and normalises what an applicant sends (the phone runs it
offline, the server again); ``decide`` takes the application as it is (``AppState``), who
acts and the action's fields, and returns an ``AppDecision`` — the new status and step,
the row's changes, the step that ends and the one that starts — or raises a
``DomainError`` with the same code wherever it runs. What only the server knows (the
photos' bytes arrived, an area or a worker exists, stock) is checked around it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from shared.applications.kinds import (
    CAPACITY_MAX_KW,
    CAPACITY_MIN_KW,
    OPENING_MAX_FEN,
    ApplicationKind,
    DocKind,
    KindSpec,
    Step,
    StepMode,
    spec_of,
)
from shared.enums import Role
from shared.errors import DomainError, ErrorCode, FieldErrors
from shared.workorders.state_machine import Actor

E = ErrorCode
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,19}\Z")
_ID_CARD = re.compile(r"^[0-9]{17}[0-9X]\Z")
NAME_MAX, ADDRESS_MAX, REASON_MAX, NOTE_MAX = 64, 200, 500, 1000


class AppStatus(StrEnum):
    OPEN = "open"  # moving through its steps
    RETURNED = "returned"  # sent back to the applicant (documents missing or unreadable)
    COMPLETED = "completed"  # archived
    REJECTED = "rejected"  # refused, with a reason
    CANCELLED = "cancelled"  # withdrawn by the applicant


class AppAction(StrEnum):
    ACCEPT = "accept"  # 受理
    RETURN = "return"  # 退回补正
    RESUBMIT = "resubmit"  # 补正后重新提交
    JOB_DONE = "job_done"  # the step's field job finished (survey, installation)
    APPROVE = "approve"  # 方案审批通过
    REJECT = "reject"  # 不予受理 / 审批不通过
    RATE = "rate"  # 评价
    CANCEL = "cancel"  # 撤回


ACTIVE = frozenset({AppStatus.OPEN, AppStatus.RETURNED})
DESK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True)
class AppState:
    """What the rules read of an application."""

    kind: ApplicationKind
    status: AppStatus
    step: Step
    station_id: str | None = None
    applicant_user_id: str | None = None
    account_id: str | None = None
    documents: Mapping[str, str] = field(default_factory=dict)  # doc kind -> sha256
    rating: int | None = None

    @property
    def spec(self) -> KindSpec:
        return spec_of(self.kind)

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> AppState:
        return cls(kind=ApplicationKind(row["kind"]), status=AppStatus(row["status"]),
                   step=Step(row["step"]), station_id=row.get("station_id"),
                   applicant_user_id=row.get("applicant_user_id"),
                   account_id=row.get("account_id"),
                   documents=current_documents(row.get("documents") or []),
                   rating=row.get("rating"))


@dataclass(frozen=True)
class AppDecision:
    action: AppAction
    from_status: AppStatus
    to_status: AppStatus
    from_step: Step
    to_step: Step
    fields: dict[str, Any]  # the action's input, checked
    ends: Step | None = None  # the step finished by this action
    enters: tuple[Step, ...] = ()  # steps reached (a job step, or the archive)

    @property
    def completes(self) -> bool:
        return self.to_status == AppStatus.COMPLETED != self.from_status


# -- documents ----------------------------------------------------------------------------
def current_documents(history: list[Mapping[str, Any]]) -> dict[str, str]:
    """The latest photo of each document from the list of everything sent (kept in full:
    a resubmission adds, never replaces)."""
    out: dict[str, str] = {}
    for d in history:
        out[str(d["doc"])] = str(d["sha256"])
    return out


def missing_documents(kind: ApplicationKind, documents: Mapping[str, str]) -> list[str]:
    return [d.value for d in spec_of(kind).documents if not documents.get(d.value)]


def check_documents(documents: Mapping[str, Any]) -> dict[str, str]:
    """``{doc kind: sha256}``, each a known document kind and a content hash."""
    if not isinstance(documents, Mapping):
        raise DomainError(E.APP_FIELD_INVALID, field="documents", reason="not a mapping")
    out: dict[str, str] = {}
    for doc, sha in documents.items():
        try:
            DocKind(doc)
        except ValueError:
            raise DomainError(E.APP_FIELD_INVALID, field="documents",
                              reason=f"unknown document {doc!r}") from None
        if not isinstance(sha, str) or not _SHA256.match(sha):
            raise DomainError(E.APP_FIELD_INVALID, field=f"documents.{doc}",
                              reason="not a SHA-256")
        out[str(doc)] = sha
    return out


# -- submission ---------------------------------------------------------------------------
def _text(data: Mapping[str, Any], name: str, limit: int, errors: dict[str, DomainError],
          *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors[name] = DomainError(E.APP_FIELD_INVALID, field=name, reason="required")
        return None
    if not isinstance(value, str) or len(value.strip()) > limit or "\x00" in value:
        errors[name] = DomainError(E.APP_FIELD_INVALID, field=name,
                                   reason=f"text of at most {limit} characters")
        return None
    return value.strip()


def check_id_card(value: Any) -> str:
    """A mainland resident ID number: 17 digits and a check character (digit or X)."""
    v = "".join(str(value or "").split()).upper()
    if not _ID_CARD.match(v):
        raise DomainError(E.APP_FIELD_INVALID, field="id_card_no",
                          reason="18 characters: 17 digits and a digit or X")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(v[:17], weights, strict=True)) % 11]
    if v[17] != check:
        raise DomainError(E.APP_FIELD_INVALID, field="id_card_no", reason="check digit")
    return v


def check_submission(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check an application as sent; returns its normalised fields. Every field problem
    is reported at once (``FieldErrors``); missing documents are ``APP_DOCUMENT_MISSING``."""
    errors: dict[str, DomainError] = {}
    try:
        kind = ApplicationKind(data.get("kind"))
    except ValueError:
        raise DomainError(E.APP_FIELD_INVALID, field="kind", reason="unknown kind") from None
    spec = spec_of(kind)
    out: dict[str, Any] = {"kind": kind.value}
    out["applicant_name"] = _text(data, "applicant_name", NAME_MAX, errors)
    out["address"] = _text(data, "address", ADDRESS_MAX, errors)
    phone = _text(data, "contact_phone", 20, errors)
    if phone is not None and not _PHONE.match(phone):
        errors["contact_phone"] = DomainError(E.APP_FIELD_INVALID, field="contact_phone",
                                              reason="a phone number")
    out["contact_phone"] = phone
    out["note"] = _text(data, "note", NOTE_MAX, errors, required=False)
    try:
        out["id_card_no"] = check_id_card(data.get("id_card_no"))
    except DomainError as exc:
        errors["id_card_no"] = exc
    capacity = data.get("capacity_kw")
    if spec.capacity:
        limit = CAPACITY_MAX_KW[kind == ApplicationKind.NEW_NON_RESIDENTIAL or
                                not kind.value.startswith("new")]
        if (not isinstance(capacity, int) or isinstance(capacity, bool)
                or not CAPACITY_MIN_KW <= capacity <= limit):
            errors["capacity_kw"] = DomainError(
                E.APP_FIELD_INVALID, field="capacity_kw",
                reason=f"whole kW from {CAPACITY_MIN_KW} to {limit}")
        out["capacity_kw"] = capacity
    elif capacity is not None:
        errors["capacity_kw"] = DomainError(E.APP_FIELD_INVALID, field="capacity_kw",
                                            reason="not asked for this kind")
    else:
        out["capacity_kw"] = None
    account_id = data.get("account_id")
    if spec.new_account:
        if account_id is not None:
            errors["account_id"] = DomainError(E.APP_FIELD_INVALID, field="account_id",
                                               reason="a new connection has no account yet")
        if not data.get("station_id"):
            errors["station_id"] = DomainError(E.APP_FIELD_INVALID, field="station_id",
                                               reason="required")
    elif not account_id:
        errors["account_id"] = DomainError(E.APP_FIELD_INVALID, field="account_id",
                                           reason="required")
    out["account_id"] = account_id
    out["station_id"] = data.get("station_id")
    out["location"] = _location(data.get("location"), errors)
    try:
        documents = check_documents(data.get("documents") or {})
    except DomainError as exc:
        errors["documents"] = exc
        documents = {}
    if errors:
        raise FieldErrors(errors)
    missing = missing_documents(kind, documents)
    if missing:
        raise DomainError(E.APP_DOCUMENT_MISSING, documents=",".join(missing))
    out["documents"] = documents
    return out


def _location(value: Any, errors: dict[str, DomainError]) -> dict[str, float] | None:
    if value is None:
        return None
    try:
        lat, lon = float(value["lat"]), float(value["lon"])
        acc = float(value.get("accuracy_m", 0) or 0)
    except (TypeError, KeyError, ValueError):
        errors["location"] = DomainError(E.APP_FIELD_INVALID, field="location",
                                         reason="lat, lon, accuracy_m")
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 <= acc <= 10_000):
        errors["location"] = DomainError(E.APP_FIELD_INVALID, field="location",
                                         reason="out of range")
        return None
    return {"lat": lat, "lon": lon, "accuracy_m": acc}


# -- transitions --------------------------------------------------------------------------
def covers(actor: Actor, station_id: str | None) -> bool:
    """Desk staff of the application's station (or county-wide) may act on it."""
    return actor.role == Role.ADMIN or actor.station_id is None or (
        actor.station_id == station_id)


def is_applicant(actor: Actor, state: AppState) -> bool:
    return actor.role == Role.CUSTOMER and (
        actor.user_id == state.applicant_user_id
        or (state.account_id is not None and state.account_id in actor.account_ids))


def _reason(data: Mapping[str, Any]) -> str:
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError(E.APP_REASON_REQUIRED)
    if len(reason.strip()) > REASON_MAX:
        raise DomainError(E.APP_FIELD_INVALID, field="reason",
                          reason=f"at most {REASON_MAX} characters")
    return reason.strip()


def _refuse(state: AppState, action: AppAction) -> DomainError:
    return DomainError(E.APP_TRANSITION_NOT_ALLOWED, action=action.value,
                       status=state.status.value, step=state.step.value)


def _advance(state: AppState, action: AppAction, fields: dict[str, Any]) -> AppDecision:
    """End the current step and reach the next; an automatic step (the archive) is done
    as it is reached, which completes the application."""
    spec = state.spec
    nxt = spec.next_step(state.step)
    if nxt is None:
        raise _refuse(state, action)
    entered = [nxt]
    status = AppStatus.OPEN
    if spec.spec(nxt).mode == StepMode.AUTO:
        status = AppStatus.COMPLETED
    return AppDecision(action, state.status, status, state.step, nxt, fields,
                       ends=state.step, enters=tuple(entered))


def decide(state: AppState, actor: Actor, action: AppAction, data: Mapping[str, Any]
           ) -> AppDecision:
    """What ``action`` by ``actor`` does to the application, or a coded refusal."""
    spec = state.spec
    step_spec = spec.spec(state.step)
    if action in (AppAction.ACCEPT, AppAction.RETURN, AppAction.APPROVE, AppAction.REJECT):
        if actor.role not in DESK_ROLES:
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
        if not covers(actor, state.station_id):
            raise DomainError(E.APP_NOT_FOUND)
        if state.status != AppStatus.OPEN or step_spec.mode != StepMode.DECISION:
            raise _refuse(state, action)
        if action in (AppAction.ACCEPT, AppAction.RETURN) and state.step != Step.ACCEPTANCE:
            raise _refuse(state, action)
        if action == AppAction.APPROVE and state.step == Step.ACCEPTANCE:
            raise _refuse(state, action)
        if actor.role not in step_spec.roles:
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
    if action == AppAction.ACCEPT:
        missing = missing_documents(state.kind, state.documents)
        if missing:
            raise DomainError(E.APP_DOCUMENT_MISSING, documents=",".join(missing))
        fields = {"note": _note(data), "area_id": data.get("area_id"),
                  "assignee_id": data.get("assignee_id")}
        if spec.new_account and not fields["area_id"]:
            raise DomainError(E.APP_AREA_REQUIRED)
        return _advance(state, action, fields)
    if action == AppAction.RETURN:
        wanted = data.get("documents") or []
        if not isinstance(wanted, list) or any(d not in {k.value for k in DocKind}
                                               for d in wanted):
            raise DomainError(E.APP_FIELD_INVALID, field="documents", reason="document kinds")
        return AppDecision(action, state.status, AppStatus.RETURNED, state.step, state.step,
                           {"reason": _reason(data), "documents": list(wanted)})
    if action == AppAction.APPROVE:
        opening = data.get("opening_fen") or 0
        if (not isinstance(opening, int) or isinstance(opening, bool)
                or not 0 <= opening <= OPENING_MAX_FEN or (opening and not spec.new_account)):
            raise DomainError(E.APP_FIELD_INVALID, field="opening_fen",
                              reason=f"whole fen from 0 to {OPENING_MAX_FEN}, new accounts")
        return _advance(state, action, {"note": _note(data), "opening_fen": opening,
                                        "assignee_id": data.get("assignee_id")})
    if action == AppAction.REJECT:
        return AppDecision(action, state.status, AppStatus.REJECTED, state.step, state.step,
                           {"reason": _reason(data)}, ends=state.step)
    if action == AppAction.RESUBMIT:
        if not (is_applicant(actor, state) or (actor.role in DESK_ROLES
                                               and covers(actor, state.station_id))):
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
        if state.status != AppStatus.RETURNED:
            raise _refuse(state, action)
        added = check_documents(data.get("documents") or {})
        merged = {**state.documents, **added}
        missing = missing_documents(state.kind, merged)
        if missing:
            raise DomainError(E.APP_DOCUMENT_MISSING, documents=",".join(missing))
        return AppDecision(action, state.status, AppStatus.OPEN, state.step, state.step,
                           {"documents": added, "note": _note(data)})
    if action == AppAction.JOB_DONE:
        if state.status != AppStatus.OPEN or step_spec.mode != StepMode.JOB:
            raise _refuse(state, action)
        if actor.role not in step_spec.roles and actor.role not in DESK_ROLES:
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
        return _advance(state, action, {"findings": _note(data, "findings")})
    if action == AppAction.RATE:
        if not is_applicant(actor, state):
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
        if state.status != AppStatus.COMPLETED:
            raise _refuse(state, action)
        if state.rating is not None:
            raise DomainError(E.APP_ALREADY_RATED)
        rating = data.get("rating")
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise DomainError(E.WO_RATING_INVALID)
        return AppDecision(action, state.status, state.status, state.step, state.step,
                           {"rating": rating, "comment": _note(data, "comment")})
    if action == AppAction.CANCEL:
        if not is_applicant(actor, state):
            raise DomainError(E.APP_ROLE_NOT_ALLOWED, action=action.value)
        if state.status not in ACTIVE or state.step != Step.ACCEPTANCE:
            raise _refuse(state, action)
        return AppDecision(action, state.status, AppStatus.CANCELLED, state.step, state.step,
                           {"reason": _reason(data)}, ends=state.step)
    raise _refuse(state, action)


def _note(data: Mapping[str, Any], name: str = "note") -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value) > NOTE_MAX:
        raise DomainError(E.APP_FIELD_INVALID, field=name,
                          reason=f"text of at most {NOTE_MAX} characters")
    return value.strip()


def due_at(kind: ApplicationKind, step: Step, entered_at: datetime) -> datetime:
    """When a step reached at ``entered_at`` is due (its deadline in days)."""
    return entered_at + timedelta(days=spec_of(kind).spec(step).days)


# -- installation -------------------------------------------------------------------------
@dataclass(frozen=True)
class InstallIn:
    meter_no: str
    start_kwh: Any  # Decimal, two places at most
    card_no: str


def check_install(data: Mapping[str, Any]) -> InstallIn:
    """What a technician records when installing the meter of a new connection: a meter
    from stock, its start reading (small, not negative) and the prepayment card."""
    from shared.meter_rules import CARD_RE, NEW_START_MAX
    from shared.numbers import parse_reading

    errors: dict[str, DomainError] = {}
    meter_no = data.get("meter_no")
    if not isinstance(meter_no, str) or not 1 <= len(meter_no.strip()) <= 24:
        errors["meter_no"] = DomainError(E.APP_FIELD_INVALID, field="meter_no",
                                         reason="a meter number")
    start = None
    try:
        start = parse_reading(str(data.get("start_kwh")))
    except (DomainError, ValueError):
        errors["start_kwh"] = DomainError(E.APP_FIELD_INVALID, field="start_kwh",
                                          reason="kWh with two decimals at most")
    else:
        if start < 0 or start > NEW_START_MAX:
            errors["start_kwh"] = DomainError(E.SWAP_NEW_START_TOO_HIGH, max=str(NEW_START_MAX))
    card = data.get("card_no")
    if not isinstance(card, str) or not CARD_RE.match(card):
        errors["card_no"] = DomainError(E.SWAP_CARD_INVALID)
    if errors:
        raise FieldErrors(errors)
    assert isinstance(meter_no, str) and isinstance(card, str)
    return InstallIn(meter_no.strip(), start, card)
