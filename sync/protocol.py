"""The sync protocol: the one module the server and every client import.

Written up for client authors in ``docs/sync-protocol.md``; keep the two in step.

* An **op** is one user intent made on a device (``OpEnvelope``), identified by a UUIDv7
  ``op_id`` made on the device, numbered by a per-device ``device_seq``, and ordered
  within its ``lane`` (one lane per entity, e.g. one work order).
* **Push** sends a batch of ops; the server answers one ``OpResult`` per op.
* **Pull** returns changed rows in the user's scope after an opaque cursor.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
)

from shared.timeutil import ensure_aware
from shared.workorders.state_machine import Action

try:  # the server and native phones; Python in the browser has the json module only
    import orjson
except ImportError:  # pragma: no cover - the browser build
    orjson = None  # type: ignore[assignment]

#: The protocol this release speaks (the newest the server accepts; newer: HTTP 400
#: SYNC_CLIENT_TOO_NEW, with the versions it speaks in ``details``).
PROTOCOL_VERSION = 1
#: Oldest client protocol the server still accepts (older: HTTP 426 SYNC_CLIENT_TOO_OLD).
MIN_PROTOCOL_VERSION = 1
#: Ops in one push (more: HTTP 413 PAYLOAD_TOO_LARGE, the whole push; split the batch).
MAX_PUSH_OPS = 2000
#: Largest push request body the server accepts (larger: HTTP 413; split the batch).
MAX_PUSH_BYTES = 8 * 1024 * 1024
DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 5000
PHOTO_CHUNK_MAX = 1024 * 1024  # bytes per upload request
PHOTO_MAX_BYTES = 15 * 1024 * 1024
#: Envelope limits (each op is checked on its own: a bad one is ``SYNC_OP_INVALID``).
MAX_LANE_CHARS = 100
MAX_OP_PHOTOS = 20
MAX_TYPE_CHARS = 64
DEVICE_ID_CHARS = (8, 64)
#: ``device_seq`` is a signed 64-bit integer on the server: 1 .. 2^63 - 1.
MAX_DEVICE_SEQ = 2**63 - 1

Uuid = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-"
                                                r"[0-9a-f]{4}-[0-9a-f]{12}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
AwareDatetime = Annotated[datetime, AfterValidator(ensure_aware)]


class OpType(StrEnum):
    """Every op type with its version. A type's payload never changes within a version;
    a new payload shape is a new version, and the server keeps accepting the old one."""

    WO_REPORT = "work_order.report@1"
    WO_ACCEPT = "work_order.accept@1"
    WO_DECLINE = "work_order.decline@1"
    WO_START_TRAVEL = "work_order.start_travel@1"
    WO_ARRIVE = "work_order.arrive@1"
    WO_ADD_NOTE = "work_order.add_note@1"
    WO_ADD_PHOTO = "work_order.add_photo@1"
    WO_REQUEST_HELP = "work_order.request_help@1"
    WO_RESOLVE = "work_order.resolve@1"
    WO_CONFIRM = "work_order.confirm@1"
    WO_CANCEL = "work_order.cancel@1"
    WO_REOPEN = "work_order.reopen@1"
    METER_SWAP_RECORD = "meter_swap.record@1"
    RECHARGE_CASH = "recharge.cash@1"
    # business applications (issue 13): lane ``application:<id>``; the installation goes
    # in its work order's lane (after the arrival it follows)
    APP_SUBMIT = "application.submit@1"
    APP_RESUBMIT = "application.resubmit@1"
    APP_RATE = "application.rate@1"
    APP_INSTALL = "application.install@1"
    INSPECTION_FINDING = "inspection.finding@1"  # resolves its job (see FINDING_RESOLVES)
    # issue 15: an inbox message read on one phone is read on the user's other phones
    NOTE_READ = "notification.read@1"


#: The work-order action each op type takes: the one map from the wire to the rules (the
#: server's op handlers, the phone's overlay, actions and outbox labels all read it).
ACTION_OF: dict[str, Action] = {
    OpType.WO_REPORT: Action.REPORT, OpType.WO_ACCEPT: Action.ACCEPT,
    OpType.WO_DECLINE: Action.DECLINE, OpType.WO_START_TRAVEL: Action.START_TRAVEL,
    OpType.WO_ARRIVE: Action.ARRIVE, OpType.WO_ADD_NOTE: Action.ADD_NOTE,
    OpType.WO_ADD_PHOTO: Action.ADD_PHOTO, OpType.WO_REQUEST_HELP: Action.REQUEST_HELP,
    OpType.WO_RESOLVE: Action.RESOLVE, OpType.WO_CONFIRM: Action.CONFIRM,
    OpType.WO_CANCEL: Action.CANCEL, OpType.METER_SWAP_RECORD: Action.RECORD_SWAP,
    OpType.WO_REOPEN: Action.REOPEN,
}
#: An inspection job's finding (``inspection.finding@1``) resolves the job: the phone lays
#: it over the job as this action (decided by ``shared.monitoring.findings``). It is not in
#: ``ACTION_OF``: a plain resolve is still ``work_order.resolve@1``.
FINDING_RESOLVES = Action.RESOLVE

#: The op type a device sends for an action (office-only actions have none).
OP_TYPE_OF: dict[Action, OpType] = {action: OpType(op) for op, action in ACTION_OF.items()}


class OpStatus(StrEnum):
    APPLIED = "applied"  # done now
    DUPLICATE = "duplicate"  # done before (same op_id, same content): stored result returned
    REJECTED = "rejected"  # permanently refused: code, message and the server's row
    DEFERRED = "deferred"  # not tried: an earlier op in its lane is not done, or retry later


class SyncErrorCode(StrEnum):
    """Codes of the sync layer itself (domain refusals use ``shared.errors.ErrorCode``)."""

    UNKNOWN_OP_TYPE = "SYNC_UNKNOWN_OP_TYPE"
    BAD_PAYLOAD = "SYNC_BAD_PAYLOAD"
    OP_ID_REUSED = "SYNC_OP_ID_REUSED"
    LANE_PREDECESSOR_MISSING = "SYNC_LANE_PREDECESSOR_MISSING"
    LANE_PREDECESSOR_REJECTED = "SYNC_LANE_PREDECESSOR_REJECTED"
    DEVICE_MISMATCH = "SYNC_DEVICE_MISMATCH"
    CURSOR_RESET = "SYNC_CURSOR_RESET"
    CLIENT_TOO_OLD = "SYNC_CLIENT_TOO_OLD"
    TRANSIENT = "SYNC_TRANSIENT"
    PHOTO_HASH_MISMATCH = "SYNC_PHOTO_HASH_MISMATCH"
    PHOTO_NOT_IMAGE = "SYNC_PHOTO_NOT_IMAGE"
    PHOTO_OFFSET_MISMATCH = "SYNC_PHOTO_OFFSET_MISMATCH"
    PHOTO_TOO_LARGE = "SYNC_PHOTO_TOO_LARGE"
    PHOTO_SIZE_MISMATCH = "SYNC_PHOTO_SIZE_MISMATCH"  # issue 8: fixed by the first chunk
    # issue 8: one bad envelope is refused alone; device_seq enforced; versions negotiated
    OP_INVALID = "SYNC_OP_INVALID"
    DEVICE_SEQ_NOT_INCREASING = "SYNC_DEVICE_SEQ_NOT_INCREASING"
    DEVICE_SEQ_REUSED = "SYNC_DEVICE_SEQ_REUSED"
    CLIENT_TOO_NEW = "SYNC_CLIENT_TOO_NEW"


#: Domain codes (``shared.errors.ErrorCode`` values) a push result can carry: a ``rejected``
#: op's code (``INTERNAL_ERROR``: a ``deferred`` one). Each is listed in
#: docs/sync-protocol.md §7.2 with its meaning and what the client does.
OP_REFUSAL_CODES: tuple[str, ...] = (
    "WORK_ORDER_NOT_FOUND", "WO_TRANSITION_NOT_ALLOWED", "WO_ROLE_NOT_ALLOWED",
    "WO_NOT_ASSIGNEE", "WO_NOT_OWNER", "WO_REASON_REQUIRED", "WO_TEXT_REQUIRED",
    "WO_ASSIGNEE_INVALID", "WO_RATING_INVALID", "WO_ACCOUNT_REQUIRED", "WO_GPS_INVALID",
    "WO_RESOLUTION_REQUIRED", "WO_SWAP_REQUIRED", "WO_KIND_NOT_REPORTABLE",
    "VALIDATION_ERROR", "IDEMPOTENCY_CONFLICT", "VERSION_CONFLICT", "FORBIDDEN",
    "ACCOUNT_NOT_FOUND", "METER_NOT_FOUND", "USER_NOT_FOUND", "NOT_FOUND",
    "READING_NEGATIVE", "READING_TOO_LARGE", "READING_BELOW_LAST",
    "READING_IMPLAUSIBLE_JUMP", "READING_IN_FUTURE",
    "SWAP_WRONG_KIND", "SWAP_WRONG_STATUS", "SWAP_OLD_METER_MISMATCH",
    "SWAP_NEW_METER_UNKNOWN", "SWAP_NEW_METER_NOT_IN_STOCK", "SWAP_NEW_METER_SAME",
    "SWAP_NEW_START_TOO_HIGH", "SWAP_BALANCE_ABSURD", "SWAP_CARD_INVALID",
    "SWAP_SEAL_INVALID", "SWAP_PHOTOS_REQUIRED", "SWAP_ALREADY_RECORDED",
    "BILLING_AMOUNT_INVALID", "CASH_RECEIPT_INVALID", "CASH_RECEIPT_REUSED",
    "NOTIFICATION_NOT_FOUND", "INTERNAL_ERROR",
)
#: Codes of whole answers (HTTP errors) of the calls a device makes to sync: sign-in and
#: tokens, push, pull, photos (docs/sync-protocol.md §7.3).
REQUEST_ERROR_CODES: tuple[str, ...] = (
    "AUTH_REQUIRED", "AUTH_INVALID_CREDENTIALS", "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_INVALID",
    "AUTH_REFRESH_REUSED", "AUTH_USER_DISABLED", "AUTH_SESSION_REVOKED",
    "AUTH_DEVICE_REVOKED", "AUTH_RATE_LIMITED", "RATE_LIMITED", "MALFORMED_JSON",
    "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "NOT_FOUND", "METHOD_NOT_ALLOWED",
    "INTERNAL_ERROR",
)

#: Counters and versions are stored as 32-bit integers (PostgreSQL ``integer``): larger
#: values are invalid input, not a server error.
MAX_INT32 = 2**31 - 1


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


DeviceId = Annotated[str, StringConstraints(min_length=DEVICE_ID_CHARS[0],
                                             max_length=DEVICE_ID_CHARS[1])]


class OpEnvelope(Strict):
    op_id: Uuid
    device_id: DeviceId
    device_seq: StrictInt = Field(ge=1, le=MAX_DEVICE_SEQ)
    lane: Annotated[str, StringConstraints(min_length=1, max_length=MAX_LANE_CHARS)]
    lane_prev: Uuid | None = Field(
        default=None, description="op_id of the previous op of this lane that the device "
        "expects applied first (None: first in lane)")
    type: str = Field(max_length=MAX_TYPE_CHARS)
    entity_id: Uuid
    base_version: StrictInt | None = Field(default=None, ge=0, le=MAX_INT32)
    payload: dict[str, Any]
    photos: list[Sha256] = Field(default_factory=list, max_length=MAX_OP_PHOTOS)
    created_at: AwareDatetime

    def content_hash(self) -> str:
        """What must be identical when an ``op_id`` is sent again."""
        # validated: the payload is the only part that can hold other than text
        return _hash({"type": self.type, "entity_id": self.entity_id,
                      "payload": self.payload, "lane": self.lane, "photos": self.photos,
                      "device_id": self.device_id}, _alike_in_orjson(self.payload))


def canonical_hash(body: dict[str, Any]) -> str:
    """SHA-256 of ``json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)``:
    the form every recorded op's hash was taken of, so it must never change. Written by
    orjson where it writes the same text (a note's hash: 1.9 -> 1.0 µs)."""
    return _hash(body, _alike_in_orjson(body))


def _hash(body: dict[str, Any], alike: bool) -> str:
    if alike and orjson is not None:
        try:
            text = orjson.dumps(body, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:  # an integer over 64 bits, a lone surrogate
            pass
        else:
            # orjson writes non-ASCII as UTF-8 and DEL as itself where the json module
            # escapes both (``\uXXXX``); otherwise, for these types, the same text
            if text.isascii() and b"\x7f" not in text:
                return hashlib.sha256(text).hexdigest()
    return hashlib.sha256(_canonical(body).encode()).hexdigest()


#: Values orjson writes as the json module does (ASCII text aside, checked on its output):
#: not floats (``1e-05`` against ``1e-5``, ``NaN`` against ``null``), not the types the json
#: module writes with ``default=str`` (orjson knows datetimes, UUIDs … itself), not
#: subclasses (a ``StrEnum``).
_PLAIN = frozenset({str, int, bool, type(None)})


def _alike_in_orjson(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _PLAIN
                                        and not _alike_in_orjson(item)):
                return False
        return True
    if kind is list:
        return all(type(item) in _PLAIN or _alike_in_orjson(item) for item in value)
    return False


#: ``json.dumps(…, sort_keys=True, separators=(",", ":"), default=str)`` made once: ``dumps``
#: with options builds a new encoder at every call, and ``JSONEncoder.encode`` a new C
#: scanner (``c_make_encoder``); the C one kept and called directly writes the same text in
#: two thirds of the time (a note's hash: 3.2 -> 2.2 µs). ``markers=None``: no cycle check,
#: which JSON read from a request cannot have. Without the C encoder, the Python one.
_C_CANONICAL = (c_make_encoder(None, str, encode_basestring_ascii, None, ":", ",", True,
                               False, True) if c_make_encoder is not None else None)
_PY_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def _canonical(body: dict[str, Any]) -> str:
    if _C_CANONICAL is None:  # pragma: no cover - CPython has the C encoder
        return _PY_CANONICAL.encode(body)
    return "".join(_C_CANONICAL(body, 0))


class PushRequest(Strict):
    """A push as a client builds it (every op a valid envelope)."""

    protocol: int = Field(ge=0, le=MAX_INT32)
    device_id: DeviceId
    sent_at: AwareDatetime
    ops: list[OpEnvelope] = Field(max_length=MAX_PUSH_OPS)


class PushBody(Strict):
    """A push as the server reads it first: only the top level. Each op is checked on its
    own afterwards (``server.sync.envelope``), so one bad op never fails the others."""

    protocol: StrictInt = Field(ge=0, le=MAX_INT32,
                                description="the client's protocol version (negotiated: "
                          "older than supported 426, newer 400 SYNC_CLIENT_TOO_NEW)")
    device_id: DeviceId
    sent_at: AwareDatetime
    ops: list[Any] = Field(description=f"op envelopes (at most {MAX_PUSH_OPS}; more: 413)")


class OpResult(BaseModel):
    op_id: str
    status: OpStatus
    code: str | None = None
    message: str | None = None
    details: dict[str, Any] | None = None
    entity: str | None = None
    entity_id: str | None = None
    version: int | None = None
    row: dict[str, Any] | None = Field(default=None, description="The server's row now")
    retry_after: float | None = None

    @classmethod
    def applied(cls, op_id: str, entity: str, entity_id: str, version: int) -> OpResult:
        """An applied op's answer, unvalidated (the values come from the server's own
        decision), built as ``model_construct`` builds one but without its per-field
        loop: the set-wise push makes one per op (~1 µs here; ``model_construct`` ~4 µs,
        a copy of a template ~2 µs)."""
        answer = _new(cls)
        _set(answer, "__dict__", {
            "op_id": op_id, "status": OpStatus.APPLIED, "code": None, "message": None,
            "details": None, "entity": entity, "entity_id": entity_id, "version": version,
            "row": None, "retry_after": None})
        _set(answer, "__pydantic_fields_set__", set(_ALL_FIELDS))
        _set(answer, "__pydantic_extra__", None)
        _set(answer, "__pydantic_private__", None)
        return answer


_new, _set = object.__new__, object.__setattr__
_ALL_FIELDS = frozenset(OpResult.model_fields)


class PushResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    server_time: datetime
    results: list[OpResult]


class Change(BaseModel):
    entity: str
    id: str
    version: int
    deleted: bool = False
    row: dict[str, Any] | None = None


class PullResponse(BaseModel):
    protocol: int = PROTOCOL_VERSION
    server_time: datetime
    changes: list[Change]
    next_cursor: str
    has_more: bool
    reset: bool = Field(default=False, description="True: the cursor was not usable; "
                        "this page starts a full re-download (keep the outbox)")


class PhotoStatus(BaseModel):
    sha256: str
    status: str  # missing | partial | complete
    received: int
    size: int | None = None


#: Entities a device stores, in the order a fresh download sends them.
ENTITIES = ("station", "transformer_area", "account", "meter", "meter_reading",
            "work_order", "work_order_event", "meter_swap", "photo_link",
            "ledger_entry", "notification", "payment_order", "outage", "cash_handover",
            # added last: a download in progress keeps its place
            "application", "inspection_finding")
