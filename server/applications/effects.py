"""What a completed application does to its account, stored.

Called by ``service.apply`` inside the unit of work of the step that completes the
application (never commits): the rule is ``shared.applications.effects.effect_of``; this
loads the account (locked), sets what changes, and for a closing posts the refund through
the ledger and removes the meter; each change is in the audit log. A refusal (a closed
account, arrears) raises, and the caller's transaction undoes the whole step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from server.applications.models import Application
from server.billing.ledger import installed_meter, last_entry, lock_account, post
from server.customers.models import Account
from server.meters.models import Meter
from server.uow import UnitOfWork
from shared.applications.effects import AccountEffect, AccountFacts, effect_of
from shared.billing.ledger import EntryKind
from shared.enums import MeterStatus
from shared.timeutil import utcnow

#: Account fields never written to the audit log (the masked form is).
_UNAUDITED = frozenset({"id_card_digest"})


def apply_effects(uow: UnitOfWork, app: Application, *, at: datetime) -> AccountEffect | None:
    """Change ``app``'s account as its completion asks; returns what was done (``None``:
    nothing, e.g. a new connection, whose account was made at the installation)."""
    if app.account_id is None:
        return None
    session = uow.session
    account = lock_account(session, app.account_id)
    effect = effect_of(app.model_dump(), _facts(session, account))
    if effect is None:
        return None
    before: dict[str, Any] = {k: getattr(account, k) for k in effect.changes}
    after: dict[str, Any] = dict(effect.changes)
    if effect.close:
        entry_id = _refund(uow, app, account, effect.refund_fen, at=at)
        meter = _remove_meter(uow, account, at=at)
        before["balance_fen"], after["balance_fen"] = effect.refund_fen, account.balance_fen
        after.update(refund_fen=effect.refund_fen, refund_entry_id=entry_id,
                     meter_removed=meter.meter_no if meter else None)
        account.closed_at = at
    for name, value in effect.changes.items():
        setattr(account, name, value)
    if app.kind == "name_transfer":
        # the account is the new holder's now: the old holder's app login no longer reaches
        # it (the new holder's does when they applied themselves; else they bind it later)
        owner = (app.applicant_user_id if app.applicant_user_id
                 and app.applicant_user_id != account.owner_user_id else None)
        before["owner_user_id"], after["owner_user_id"] = account.owner_user_id, owner
        if account.owner_user_id and account.owner_user_id != owner:
            uow.left_scope(entity="account", entity_id=account.id, version=account.version + 1,
                           user_id=account.owner_user_id)
        account.owner_user_id = owner
    account.version += 1
    account.updated_at = utcnow()
    uow.changed(account)
    uow.audit(action=effect.audit_action, entity="account", entity_id=account.id,
              before={k: v for k, v in before.items() if k not in _UNAUDITED},
              after={"application_id": app.id, "application_code": app.code,
                     **{k: v for k, v in after.items() if k not in _UNAUDITED}},
              reason=f"application {app.code} completed")
    return effect


def _facts(session: Session, account: Account) -> AccountFacts:
    """The account as the rules see it; its balance is the ledger's (the ledger wins; an
    account loaded with a balance and no ledger yet gets its opening entry when the refund
    is posted)."""
    last = last_entry(session, account.id)
    return AccountFacts(account_no=account.account_no, status=account.status,
                        balance_fen=last.balance_after_fen if last else account.balance_fen,
                        capacity_kw=account.capacity_kw)


def _refund(uow: UnitOfWork, app: Application, account: Account, amount_fen: int, *,
            at: datetime) -> str | None:
    """What is left of the balance, paid back: a ledger entry (none when nothing is left).
    Posted by the workflow (no person's id: a crew's phone is not sent money rows), once
    per application."""
    if amount_fen <= 0:
        return None
    meter = installed_meter(uow.session, account.id)
    before = account.balance_fen
    posted = post(uow, account=account, amount_fen=-amount_fen, kind=EntryKind.REFUND,
                  source_type="application", source_id=app.id,
                  dedupe_key=f"refund:close:{app.id}", occurred_at=at, actor=None,
                  reason=f"account closed: application {app.code}",
                  meter_id=meter.id if meter else None,
                  data={"application": app.code,
                        "completed_by": uow.actor.user_id if uow.actor else None})
    if posted.created:
        uow.audit(action="ledger.refund", entity="account", entity_id=account.id,
                  before={"balance_fen": before},
                  after={"balance_fen": account.balance_fen, "amount_fen": -amount_fen,
                         "entry_id": posted.entry.id},
                  reason=f"account closed: application {app.code}")
    return posted.entry.id


def _remove_meter(uow: UnitOfWork, account: Account, *, at: datetime) -> Meter | None:
    """The closed account's meter is taken out of service (its history stays)."""
    meter = installed_meter(uow.session, account.id, lock=True)
    if meter is None:
        return None
    meter.status, meter.removed_at, meter.balance_fen = MeterStatus.REMOVED, at, 0
    meter.version += 1
    meter.updated_at = utcnow()
    uow.changed(meter)
    return meter
