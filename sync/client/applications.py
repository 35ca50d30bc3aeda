"""Business applications on the device: apply, send documents again, rate, install —
checked offline by the shared rules (``shared.applications.rules``) and queued as ops —
and the applications as the user should see them (the server's rows with the user's
unsynced work laid over them: an application made offline shows at once, marked
pending)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.applications.kinds import Step
from shared.applications.rules import (
    AppAction,
    AppState,
    AppStatus,
    check_install,
    check_submission,
    decide,
    due_at,
)
from shared.enums import Role
from shared.errors import DomainError, ErrorCode
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import outbox, rows
from sync.client.errors import NotSignedIn
from sync.client.outbox import ACKED, OpState
from sync.client.store import SignedIn, Store
from sync.lanes import order_lane
from sync.protocol import OpType

T = OpType
_APP_OPS = (T.APP_SUBMIT.value, T.APP_RESUBMIT.value, T.APP_RATE.value)


@dataclass(frozen=True)
class AppView:
    """An application as the user sees it, and how its changes stand."""

    row: dict[str, Any]
    local: bool  # made on this device and not on the server yet
    pending: int  # its ops not acknowledged yet
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (code, message)

    @property
    def id(self) -> str:
        return str(self.row["id"])


class Applications:
    def __init__(self, store: Store, *, on_change: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.on_change = on_change

    def _who(self) -> SignedIn:
        who = self.store.signed_in()
        if who is None:
            raise NotSignedIn("sign in on this device first")
        return who

    # -- reads ------------------------------------------------------------------------
    def mine(self) -> list[AppView]:
        """The user's applications, newest first: pulled rows, and the ones made here
        that the server has not sent back yet."""
        who = self.store.signed_in()
        with self.store.read() as conn:
            server = {r["id"]: r for _, r in rows.all_of(conn, "application")}
            ops = [op for op in outbox.live(conn, who.user_id if who else None)
                   if op.type in _APP_OPS]
        by_app: dict[str, list[outbox.OutboxEntry]] = {}
        for op in ops:
            by_app.setdefault(op.entity_id, []).append(op)
        views = []
        for app_id in {*server, *by_app}:
            mine = by_app.get(app_id, [])
            row = server.get(app_id)
            local = row is None
            if row is None:
                submit = next((o for o in mine if o.type == T.APP_SUBMIT.value), None)
                if submit is None:
                    continue
                row = local_row(submit)
            pending = [o for o in mine if o.state not in ACKED and o.state != OpState.REJECTED]
            rejected = [(o.result_code or "", o.result_message or "") for o in mine
                        if o.state == OpState.REJECTED]
            views.append(AppView(row, local, len(pending), rejected))
        return sorted(views, key=lambda v: str(v.row.get("submitted_at") or ""), reverse=True)

    def get(self, app_id: str) -> AppView | None:
        return next((v for v in self.mine() if v.id == app_id), None)

    # -- actions ----------------------------------------------------------------------
    def apply(self, data: dict[str, Any]) -> str:
        """Queue ``application.submit@1``; returns the application's id (made here)."""
        who = self._who()
        if who.role != Role.CUSTOMER:
            raise DomainError(ErrorCode.APP_ROLE_NOT_ALLOWED, action="submit")
        fields = check_submission(data)
        app_id = new_id()
        payload = {k: v for k, v in {
            "kind": fields["kind"], "applicant_name": fields["applicant_name"],
            "contact_phone": fields["contact_phone"], "address": fields["address"],
            "id_card_no": fields["id_card_no"], "capacity_kw": fields["capacity_kw"],
            "station_id": fields["station_id"], "account_id": fields["account_id"],
            "location": fields["location"], "documents": fields["documents"],
            "note": fields["note"]}.items() if v is not None}
        self.store.enqueue(T.APP_SUBMIT.value, app_id, payload,
                           sorted(set(fields["documents"].values())))
        self.on_change()
        return app_id

    def _act(self, app_id: str, action: AppAction, op_type: OpType, payload: dict[str, Any],
             photos: list[str] | None = None) -> None:
        who = self._who()
        view = self.get(app_id)
        if view is None:
            raise DomainError(ErrorCode.APP_NOT_FOUND, application=app_id)
        decide(AppState.of(view.row), who.actor, action, payload)
        self.store.enqueue(op_type.value, app_id, payload, photos or [])
        self.on_change()

    def resubmit(self, app_id: str, documents: dict[str, str], note: str | None = None
                 ) -> None:
        payload: dict[str, Any] = {"documents": documents}
        if note:
            payload["note"] = note
        self._act(app_id, AppAction.RESUBMIT, T.APP_RESUBMIT, payload,
                  sorted(set(documents.values())))

    def rate(self, app_id: str, rating: int, comment: str | None = None) -> None:
        payload: dict[str, Any] = {"rating": rating}
        if comment:
            payload["comment"] = comment
        self._act(app_id, AppAction.RATE, T.APP_RATE, payload)

    def install(self, order_id: str, *, meter_no: str, start_kwh: str, card_no: str) -> None:
        """The technician installs a new connection's meter (the installation job's
        lane: it follows the arrival made before it)."""
        self._who()
        fields = check_install({"meter_no": meter_no, "start_kwh": start_kwh,
                                "card_no": card_no})
        with self.store.read() as conn:
            meter = next((m for _, m in rows.all_of(
                conn, "meter", "json_extract(data, '$.meter_no') = ?", (fields.meter_no,))),
                None)
        if meter is not None and meter.get("status") != "in_stock":
            raise DomainError(ErrorCode.APP_METER_NOT_IN_STOCK, meter=fields.meter_no)
        self.store.enqueue(T.APP_INSTALL.value, order_id,
                           {"meter_no": fields.meter_no, "start_kwh": start_kwh.strip(),
                            "card_no": fields.card_no}, lane=order_lane(order_id))
        self.on_change()

    def installed(self, order_id: str) -> bool:
        """Is an installation queued (or done) for this job on this device?"""
        with self.store.read() as conn:
            return any(op.type == T.APP_INSTALL.value and op.entity_id == order_id
                       and op.state != OpState.REJECTED for op in outbox.live(conn))


def local_row(op: outbox.OutboxEntry) -> dict[str, Any]:
    """How an application made offline looks until the server's row arrives."""
    p = op.payload
    at: datetime = op.created_at or utcnow()
    docs = [{"doc": d, "sha256": s, "added_at": at.isoformat()}
            for d, s in (p.get("documents") or {}).items()]
    return {
        "id": op.entity_id, "code": None, "kind": p["kind"], "status": AppStatus.OPEN.value,
        "step": Step.ACCEPTANCE.value, "station_id": p.get("station_id"),
        "account_id": p.get("account_id"), "applicant_name": p.get("applicant_name"),
        "contact_phone": p.get("contact_phone"), "address": p.get("address"),
        "capacity_kw": p.get("capacity_kw"), "documents": docs, "submitted_at": at.isoformat(),
        "steps": [{"step": Step.ACCEPTANCE.value, "started_at": at.isoformat(),
                   "due_at": due_at(p["kind"], Step.ACCEPTANCE, at).isoformat(),
                   "holder_roles": ["agent"], "ended_at": None}],
        "id_card_masked": None, "rating": None, "opening_fen": 0, "version": 0}
