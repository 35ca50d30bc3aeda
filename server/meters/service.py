"""Meter services: recording a meter swap (balance carried over exactly once).

The account's ledger is the money truth; what the technician read off the old meter
(``old_remaining_fen``) is evidence. The new meter gets the ledger's figure; a different
reading is recorded as a balance discrepancy (``server.discrepancies``) for the office to
settle or dismiss. A swap moves no money: the ledger gets one entry of amount 0 naming
the meter that holds the balance from now on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import select

from server.billing.ledger import ensure_opened, lock_account, post
from server.discrepancies import service as discrepancies
from server.meters.models import Meter, MeterReading, MeterSwap
from server.photos.models import Photo, PhotoLink
from server.uow import UnitOfWork, to_audit_dict
from server.work_orders import service as work_orders
from shared.billing.ledger import EntryKind
from shared.enums import MeterStatus, ReadingSource
from shared.errors import DomainError, ErrorCode
from shared.meter_rules import (
    SwapContext,
    SwapDraft,
    centi_to_kwh,
    kwh_to_centi,
    validate_swap,
)
from shared.timeutil import LOCAL_TZ, utcnow
from shared.workorders.rules import decide
from shared.workorders.state_machine import Action, Actor

_METER_AUDIT = ("status", "account_id", "balance_fen", "purchase_count", "card_no",
                "last_reading_centi")


@dataclass(frozen=True)
class SwapResult:
    swap: MeterSwap
    duplicate: bool


def _draft(data: dict[str, Any], at: datetime) -> SwapDraft:
    return SwapDraft(
        old_meter_no=data["old_meter_no"], old_final_kwh=Decimal(str(data["old_final_kwh"])),
        old_remaining_fen=int(data["old_remaining_fen"]), new_meter_no=data["new_meter_no"],
        new_start_kwh=Decimal(str(data["new_start_kwh"])), new_card_no=data["new_card_no"],
        seal_numbers=tuple(data.get("seal_numbers") or ()),
        old_face_photo=data.get("old_face_photo"), new_face_photo=data.get("new_face_photo"),
        recorded_at=at)


def _same_swap(swap: MeterSwap, order_id: str, draft: SwapDraft, new_meter_no: str | None
               ) -> bool:
    return (swap.work_order_id == order_id
            and swap.old_final_centi == kwh_to_centi(draft.old_final_kwh)
            and swap.old_remaining_fen == draft.old_remaining_fen
            and swap.new_start_centi == kwh_to_centi(draft.new_start_kwh)
            and swap.new_card_no == draft.new_card_no
            and new_meter_no == draft.new_meter_no.strip())


def record_swap(uow: UnitOfWork, *, actor: Actor, order_id: str, data: dict[str, Any],
                at: datetime | None = None) -> SwapResult:
    """Record a swap on a meter-swap job. ``data["id"]`` (made on the device) makes a
    repeated request a no-op; a different swap for the same job is refused."""
    session = uow.session
    now = utcnow()
    at = at or now
    order = work_orders.get_visible(session, actor=actor, order_id=order_id, for_update=True)
    draft = _draft(data, at)
    swap_id = data["id"]
    existing = session.get(MeterSwap, swap_id)
    if existing is not None:
        new_no = session.exec(select(Meter.meter_no).where(
            Meter.id == existing.new_meter_id)).first()
        if not _same_swap(existing, order.id, draft, new_no):
            raise DomainError(ErrorCode.IDEMPOTENCY_CONFLICT)
        return SwapResult(existing, True)
    # The swap's preconditions and the state machine: the shared decision.
    decision = decide(work_orders.job_state(session, order), actor, Action.RECORD_SWAP, data,
                      at)
    assert order.account_id is not None
    account = lock_account(session, order.account_id)  # account before meters, as elsewhere
    old = session.exec(select(Meter).where(Meter.id == order.meter_id).with_for_update()).one()
    if old.status != MeterStatus.INSTALLED or old.account_id != order.account_id:
        # Another job already swapped this meter out: this job is stale. Refuse rather than
        # "remove" it twice, install a second meter and carry the balance again.
        current = session.exec(select(Meter.meter_no).where(
            Meter.account_id == order.account_id,
            Meter.status == MeterStatus.INSTALLED)).first()
        raise DomainError(ErrorCode.SWAP_OLD_METER_MISMATCH, given=draft.old_meter_no,
                          expected=current or old.meter_no)
    new = session.exec(select(Meter).where(Meter.meter_no == draft.new_meter_no.strip())
                       .with_for_update()).first()
    ctx = SwapContext(
        job_meter_no=old.meter_no,
        last_reading_kwh=(centi_to_kwh(old.last_reading_centi)
                          if old.last_reading_centi is not None else None),
        last_reading_at=old.last_reading_at,
        new_meter_status=MeterStatus(new.status) if new else None, now=now)
    validate_swap(draft, ctx)
    assert new is not None  # validate_swap refuses an unknown meter
    old_before, new_before = to_audit_dict(old, _METER_AUDIT), to_audit_dict(new, _METER_AUDIT)
    ensure_opened(uow, account=account, occurred_at=at)  # a balance loaded outside the ledger
    carried, reported = account.balance_fen, draft.old_remaining_fen  # truth, evidence
    final_c, start_c = kwh_to_centi(draft.old_final_kwh), kwh_to_centi(draft.new_start_kwh)
    old.status, old.removed_at, old.balance_fen = MeterStatus.REMOVED, at, 0
    old.last_reading_centi, old.last_reading_at = final_c, at
    new.status, new.installed_at = MeterStatus.INSTALLED, at
    new.account_id, new.area_id, new.station_id = order.account_id, old.area_id, old.station_id
    new.balance_fen, new.purchase_count, new.card_no = carried, 0, draft.new_card_no
    new.last_reading_centi, new.last_reading_at = start_c, at
    for m in (old, new):
        m.version += 1
        m.updated_at = now
        uow.changed(m)
    day = at.astimezone(LOCAL_TZ).date()
    session.add(MeterReading(meter_id=old.id, account_id=order.account_id, read_date=day,
                             read_at=at, value_centi=final_c, source=ReadingSource.SWAP_FINAL))
    session.add(MeterReading(meter_id=new.id, account_id=order.account_id, read_date=day,
                             read_at=at, value_centi=start_c, source=ReadingSource.SWAP_START))
    assert order.account_id is not None
    swap = MeterSwap(
        id=swap_id, work_order_id=order.id, account_id=order.account_id, old_meter_id=old.id,
        new_meter_id=new.id, old_final_centi=final_c, old_remaining_fen=reported,
        new_start_centi=start_c, new_card_no=draft.new_card_no,
        seal_numbers=list(draft.seal_numbers), old_face_photo=str(draft.old_face_photo),
        new_face_photo=str(draft.new_face_photo), carried_fen=carried,
        recorded_by=actor.user_id, recorded_at=at)
    uow.changed(swap, scope=work_orders.scope_for_order(order))
    for sha, purpose in ((draft.old_face_photo, "old_face"), (draft.new_face_photo, "new_face")):
        if session.get(Photo, sha) is None:
            session.add(Photo(sha256=str(sha), uploaded_by=actor.user_id))
            session.flush()
        uow.changed(PhotoLink(sha256=str(sha), work_order_id=order.id, purpose=purpose,
                              added_by=actor.user_id), scope=work_orders.scope_for_order(order))
    work_orders.apply_decision(uow, order, decision, actor=actor, at=at, event_data={
        **decision.event_data, "carried_fen": carried, "reported_fen": reported})
    _post_carry_over(uow, account=account, actor=actor, swap_id=swap_id, old=old, new=new,
                     carried=carried, reported=reported, order_id=order.id, at=at)
    session.flush()  # the swap row exists before its discrepancy refers to it
    discrepancies.record(uow, swap_id=swap_id, order_id=order.id, account=account,
                         meter_id=old.id, ledger_fen=carried, reported_fen=reported,
                         actor=actor, at=at)
    uow.audit(action="meter.remove", entity="meter", entity_id=old.id, before=old_before,
              after=to_audit_dict(old, _METER_AUDIT))
    uow.audit(action="meter.install", entity="meter", entity_id=new.id, before=new_before,
              after=to_audit_dict(new, _METER_AUDIT))
    uow.audit(action="meter_swap.balance_carry_over", entity="meter_swap", entity_id=swap_id,
              before={"ledger_fen": carried, "old_meter_reported_fen": reported},
              after={"new_meter_balance_fen": carried, "work_order_id": order.id})
    return SwapResult(swap, False)


def _post_carry_over(uow: UnitOfWork, *, account: Any, actor: Actor, swap_id: str, old: Meter,
                     new: Meter, carried: int, reported: int, order_id: str, at: datetime
                     ) -> None:
    """The carry-over in the ledger: one entry of amount 0 (the account's money does not
    change at a swap, and the running balance never takes a detour), on the new meter,
    once (keyed by the swap id), with who, when, the ledger's figure and the reading."""
    data = {"work_order_id": order_id, "carried_fen": carried, "reported_fen": reported,
            "old_meter_no": old.meter_no, "new_meter_no": new.meter_no}
    reason = f"meter swap: balance carried from {old.meter_no} to {new.meter_no}"
    post(uow, account=account, amount_fen=0, kind=EntryKind.SWAP_CARRY_OVER,
         source_type="meter_swap", source_id=swap_id, dedupe_key=f"swap:{swap_id}",
         occurred_at=at, actor=actor, reason=reason, meter_id=new.id, data=data)
