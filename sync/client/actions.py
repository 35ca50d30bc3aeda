"""What a user does on the device, decided offline by the same rules the server runs.

Each action reads the job as the user sees it (server row + their pending ops), lets the
shared rules decide it (``shared.workorders.rules.decide``: the state machine, what the
job lacks, the action's fields), and then queues the op with the checked fields — with
any local effect in the same transaction — and nudges the engine. A refusal raises
``shared.errors.DomainError`` (the same codes and messages as the server's), and nothing
is queued.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from shared.billing.ledger import check_receipt_no, check_recharge_amount
from shared.enums import MeterStatus, Role, WorkOrderKind
from shared.errors import DomainError, ErrorCode
from shared.ids import new_id
from shared.meter_rules import SwapContext, SwapDraft, centi_to_kwh, validate_swap
from shared.monitoring.findings import decide_finding
from shared.numbers import reading_text
from shared.timeutil import utcnow
from shared.workorders import fields
from shared.workorders.rules import Decision, JobState, decide
from shared.workorders.state_machine import Action, check_report
from sync.client import outbox, photos, rows
from sync.client.errors import NotSignedIn
from sync.client.outbox import OutboxEntry
from sync.client.readmodel import JobView, ReadModel
from sync.client.sqlite import Connection
from sync.client.store import LocalEffect, SignedIn, Store
from sync.client.timefmt import from_iso
from sync.protocol import OP_TYPE_OF, OpType

T = OpType


class Actions:
    def __init__(self, store: Store, *, photo_dir: Path,
                 on_change: Callable[[], None] = lambda: None, lang: str = "zh") -> None:
        self.store = store
        self.photo_dir = photo_dir
        self.on_change = on_change
        self.read = ReadModel(store, lang=lang)

    # -- plumbing -------------------------------------------------------------------
    def _who(self) -> SignedIn:
        who = self.store.signed_in()
        if who is None:
            raise NotSignedIn("sign in on this device first")
        return who

    def _view(self, order_id: str) -> JobView:
        detail = self.read.job(order_id)
        if detail is None:
            raise DomainError(ErrorCode.WORK_ORDER_NOT_FOUND, work_order=order_id)
        return detail.job

    def _decide(self, order_id: str, action: Action, payload: dict[str, Any]
                ) -> tuple[JobView, Decision]:
        who = self._who()
        view = self._view(order_id)
        state = JobState.of(view.row, has_swap=view.has_swap)
        return view, decide(state, who.actor, action, payload, utcnow())

    def _queue(self, view: JobView, action: Action, payload: dict[str, Any],
               photo_refs: Sequence[str] = (), local_effect: LocalEffect | None = None
               ) -> OutboxEntry:
        base = view.server_row.get("version") if view.server_row else None
        entry = self.store.enqueue(OP_TYPE_OF[action].value, view.id, payload, photo_refs,
                                   local_effect,
                                   base_version=int(base) if base is not None else None)
        self.on_change()
        return entry

    def act(self, order_id: str, action: Action, payload: dict[str, Any],
            photo_refs: Sequence[str] = (), local_effect: LocalEffect | None = None
            ) -> OutboxEntry:
        """Take ``action`` on a job: decided by the shared rules, then queued as its op
        carrying the checked fields. Only actions a device sends as ops (``OP_TYPE_OF``)."""
        if action not in OP_TYPE_OF or action == Action.REPORT:
            raise ValueError(f"{action.value} is not an action a device queues")
        view, decision = self._decide(order_id, action, payload)
        return self._queue(view, action, decision.fields, photo_refs, local_effect)

    # -- photos ---------------------------------------------------------------------
    def take_photo(self, source: bytes | Path) -> str:
        """Keep a photo on the device and queue its upload; returns its SHA-256."""
        return photos.add_photo(self.store, source, self.photo_dir).sha256

    # -- actions --------------------------------------------------------------------
    def report(self, *, kind: WorkOrderKind, description: str, account_id: str | None = None,
               location: dict[str, Any] | None = None, photo_shas: Sequence[str] = ()) -> str:
        """Raise a job; returns the id made on the device (the server keeps it)."""
        who = self._who()
        check_report(kind=kind, account_id=account_id, actor=who.actor)
        order_id = new_id()
        payload: dict[str, Any] = {
            "kind": kind.value, "account_id": account_id,
            "description": fields.required_text(description, field="description",
                                                code=ErrorCode.VALIDATION_ERROR,
                                                limit=fields.MAX_TEXT),
            "location": fields.check_gps(location, field="location"),
            "photos": list(photo_shas)}
        self.store.enqueue(T.WO_REPORT.value, order_id, payload, list(photo_shas))
        self.on_change()
        return order_id

    def accept(self, order_id: str) -> OutboxEntry:
        return self.act(order_id, Action.ACCEPT, {})

    def decline(self, order_id: str, reason: str) -> OutboxEntry:
        return self.act(order_id, Action.DECLINE, {"reason": reason})

    def start_travel(self, order_id: str) -> OutboxEntry:
        return self.act(order_id, Action.START_TRAVEL, {})

    def arrive(self, order_id: str, gps: dict[str, Any] | None = None) -> OutboxEntry:
        """``gps``: ``{lat, lon, accuracy_m}`` from the phone, or None for a manual fix."""
        return self.act(order_id, Action.ARRIVE, {"gps": gps})

    def add_note(self, order_id: str, text: str) -> OutboxEntry:
        return self.act(order_id, Action.ADD_NOTE, {"text": text})

    def add_photo(self, order_id: str, source: bytes | Path, caption: str | None = None
                  ) -> OutboxEntry:
        """Attach a new photo: its file, its upload and the op are kept together."""
        ref = photos.save(source, self.photo_dir)
        return self.act(order_id, Action.ADD_PHOTO, {"sha256": ref.sha256, "caption": caption},
                        [ref.sha256], lambda conn: photos.queue(conn, ref))

    def request_help(self, order_id: str, reason: str) -> OutboxEntry:
        return self.act(order_id, Action.REQUEST_HELP, {"reason": reason})

    def resolve(self, order_id: str, resolution: str, cause: str | None = None
                ) -> OutboxEntry:
        return self.act(order_id, Action.RESOLVE, {"resolution": resolution, "cause": cause})

    def confirm(self, order_id: str, rating: int | None, comment: str | None = None
                ) -> OutboxEntry:
        return self.act(order_id, Action.CONFIRM, {"rating": rating, "comment": comment})

    def cancel(self, order_id: str, reason: str) -> OutboxEntry:
        return self.act(order_id, Action.CANCEL, {"reason": reason})

    def record_swap(self, order_id: str, draft: SwapDraft) -> OutboxEntry:
        """Record a meter swap: the rules decide (one swap per job, on site, by its
        assignee), then the values are checked against the meters downloaded for the job
        (a new meter typed in that is not among them is left for the server to check)."""
        payload = {
            "id": new_id(), "old_meter_no": draft.old_meter_no.strip(),
            "old_final_kwh": reading_text(draft.old_final_kwh),  # two places (item 7)
            "old_remaining_fen": int(draft.old_remaining_fen),
            "new_meter_no": draft.new_meter_no.strip(),
            "new_start_kwh": reading_text(draft.new_start_kwh),
            "new_card_no": draft.new_card_no,
            "seal_numbers": list(draft.seal_numbers),
            "old_face_photo": draft.old_face_photo, "new_face_photo": draft.new_face_photo}
        view, decision = self._decide(order_id, Action.RECORD_SWAP, payload)
        validate_swap(draft, self._swap_context(view, draft))
        shas = [s for s in (draft.old_face_photo, draft.new_face_photo) if s]
        return self._queue(view, Action.RECORD_SWAP, decision.fields, shas)

    def record_finding(self, order_id: str, data: dict[str, Any]) -> OutboxEntry:
        """Record an inspection job's finding (``inspection.finding@1``), offline: checked
        by ``shared.monitoring.findings.decide_finding`` as the server will (the finding,
        the job's kind, ``resolve`` by its assignee on site); one finding per job. The
        photos are hashes of photos already kept (``take_photo``)."""
        who = self._who()
        detail = self.read.job(order_id)
        if detail is None:
            raise DomainError(ErrorCode.WORK_ORDER_NOT_FOUND, work_order=order_id)
        if detail.finding is not None:
            raise DomainError(ErrorCode.FINDING_ALREADY_RECORDED)
        view = detail.job
        finding, _ = decide_finding(JobState.of(view.row), who.actor, data, utcnow())
        payload = {"id": new_id(), **finding.to_json()}
        base = view.server_row.get("version") if view.server_row else None
        entry = self.store.enqueue(T.INSPECTION_FINDING.value, view.id, payload,
                                   list(finding.photos),
                                   base_version=int(base) if base is not None else None)
        self.on_change()
        return entry

    def cash_recharge(self, *, account_id: str, amount_fen: int, receipt_no: str
                      ) -> OutboxEntry:
        """Field cash (agents, managers): queue ``recharge.cash@1``; works offline.

        Idempotent on the paper receipt: the same receipt for the same account and amount
        returns the op already queued (one already on a synced ledger entry is queued again
        and the server applies it without a second credit); for another account or amount
        it is ``CASH_RECEIPT_REUSED``, as the server would say."""
        who = self._who()
        if who.role not in (Role.AGENT, Role.MANAGER):
            raise DomainError(ErrorCode.FORBIDDEN)
        amount = check_recharge_amount(amount_fen)
        receipt = check_receipt_no(receipt_no)
        with self.store.read() as conn:
            if rows.get(conn, "account", account_id) is None:
                raise DomainError(ErrorCode.ACCOUNT_NOT_FOUND, account=account_id)
            for op in outbox.select(conn, "type = ? AND state != 'discarded'",
                                    (T.RECHARGE_CASH.value,)):
                if op.payload.get("receipt_no") == receipt:
                    if (op.payload.get("account_id"), op.payload.get("amount_fen")) == (
                            account_id, amount):
                        return op
                    raise DomainError(ErrorCode.CASH_RECEIPT_REUSED, receipt_no=receipt)
            for _, e in rows.all_of(conn, "ledger_entry", "json_extract(data, "
                                    "'$.data.receipt_no') = ?", (receipt,)):
                if (e.get("account_id"), e.get("amount_fen")) != (account_id, amount):
                    raise DomainError(ErrorCode.CASH_RECEIPT_REUSED, receipt_no=receipt)
        rid = new_id()
        payload = {"account_id": account_id, "amount_fen": amount, "receipt_no": receipt}
        entry = self.store.enqueue(T.RECHARGE_CASH.value, rid, payload)
        self.on_change()
        return entry

    def mark_read(self, note_ids: Sequence[str]) -> list[OutboxEntry]:
        """Inbox messages read on this device: queue ``notification.read@1`` for each one
        the device holds that is not read yet (on the server, or by an op already queued);
        works offline. Returns the ops queued now (none: nothing new to say)."""
        who = self._who()
        with self.store.read() as conn:
            queued = _read_marks(conn, who.user_id)
            todo = []
            for note_id in dict.fromkeys(note_ids):
                got = rows.get(conn, "notification", note_id)
                if got is not None and not got[1].get("read_at") and note_id not in queued:
                    todo.append(note_id)
        entries = [self.store.enqueue(T.NOTE_READ.value, note_id, {}) for note_id in todo]
        if entries:
            self.on_change()
        return entries

    def read_marks(self) -> set[str]:
        """Messages the signed-in user marked read on this device (queued or sent; the
        pulled row says read once the server has it)."""
        who = self.store.signed_in()
        if who is None:
            return set()
        with self.store.read() as conn:
            return _read_marks(conn, who.user_id)

    # -- helpers --------------------------------------------------------------------
    def _swap_context(self, view: JobView, draft: SwapDraft) -> SwapContext:
        with self.store.read() as conn:
            meter = rows.get(conn, "meter", view.row["meter_id"]) if view.row.get(
                "meter_id") else None
            wanted = draft.new_meter_no.strip()
            new = next((m for _, m in rows.all_of(
                conn, "meter", "json_extract(data, '$.meter_no') = ?", (wanted,))), None)
        old = meter[1] if meter else {}
        last_at = old.get("last_reading_at")
        return SwapContext(
            job_meter_no=old.get("meter_no") or view.row.get("meter_no") or "",
            last_reading_kwh=(centi_to_kwh(old["last_reading_centi"])
                              if old.get("last_reading_centi") is not None else None),
            last_reading_at=_parse(last_at), new_meter_status=(
                MeterStatus(new["status"]) if new else None),
            register_complete=new is not None, now=utcnow())


def _read_marks(conn: Connection, user_id: str) -> set[str]:
    return {op.entity_id for op in outbox.select(
        conn, "type = ? AND user_id = ? AND state != 'discarded'",
        (T.NOTE_READ.value, user_id))}


def _parse(value: Any) -> Any:
    return from_iso(value) if isinstance(value, str) else value
