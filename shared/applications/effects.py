"""Decide, then apply: what a completed application does to its account, as pure functions.

New connections make their account at the installation (``server.applications.install``).
The other kinds change an existing account when they complete, in the transaction of the
step that completes them (``server.applications.effects`` loads, calls ``effect_of`` and
stores):

* capacity increase / decrease: the contracted capacity becomes the requested one;
* contact change: the contact phone;
* name transfer: the holder's name and identity (digest and masked form), and the new
  holder's contact phone;
* closing: the account is closed, what is left of its balance is refunded through the
  ledger (a ``refund`` entry) and its meter is removed. An account in arrears is not
  closed: the debt is settled first (``APP_CLOSE_IN_ARREARS``).

A closed account changes no more (``ACCOUNT_CLOSED``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.accounts import AccountStatus, check_open
from shared.applications.kinds import ApplicationKind
from shared.errors import DomainError, ErrorCode
from shared.money import fen_to_yuan

E = ErrorCode
K = ApplicationKind


@dataclass(frozen=True)
class AccountFacts:
    """What the rules read of the account an application changes."""

    account_no: str
    status: str
    balance_fen: int
    capacity_kw: int | None = None


@dataclass(frozen=True)
class AccountEffect:
    kind: ApplicationKind
    changes: dict[str, Any] = field(default_factory=dict)  # account field -> new value
    refund_fen: int = 0  # paid back to the customer (a ledger refund), closing only
    close: bool = False  # the account closes and its meter is removed

    @property
    def audit_action(self) -> str:
        return "account.close" if self.close else f"account.{self.kind.value}"


def effect_of(app: Mapping[str, Any], account: AccountFacts) -> AccountEffect | None:
    """What completing ``app`` (its row's fields) does to ``account``; ``None`` for kinds
    that change no existing account (new connections)."""
    kind = ApplicationKind(app["kind"])
    if kind in (K.NEW_RESIDENTIAL, K.NEW_NON_RESIDENTIAL):
        return None
    check_open(account.status, account_no=account.account_no)
    if kind in (K.CAPACITY_INCREASE, K.CAPACITY_DECREASE):
        return AccountEffect(kind, {"capacity_kw": int(app["capacity_kw"])})
    if kind == K.CONTACT_CHANGE:
        return AccountEffect(kind, {"phone": app["contact_phone"]})
    if kind == K.NAME_TRANSFER:
        return AccountEffect(kind, {"name": app["applicant_name"],
                                    "id_card_digest": app["id_card_digest"],
                                    "id_card_masked": app["id_card_masked"],
                                    "phone": app["contact_phone"]})
    if kind == K.CLOSE_ACCOUNT:
        if account.balance_fen < 0:
            raise DomainError(E.APP_CLOSE_IN_ARREARS, account=account.account_no,
                              amount=str(fen_to_yuan(-account.balance_fen)))
        return AccountEffect(kind, {"status": AccountStatus.CLOSED.value},
                             refund_fen=account.balance_fen, close=True)
    raise AssertionError(f"no effect for {kind}")  # pragma: no cover  (every kind above)


def check_capacity_request(kind: ApplicationKind | str, requested: int | None,
                           current: int | None) -> None:
    """An increase asks for more than the account's contracted capacity, a decrease for
    less (when the capacity is on record; accounts from before it was recorded take any).
    Checked when the application is made, on the account as it is then."""
    kind = ApplicationKind(kind)
    if current is None or requested is None:
        return
    if kind == K.CAPACITY_INCREASE and requested <= current:
        raise DomainError(E.APP_FIELD_INVALID, field="capacity_kw",
                          reason=f"more than the current {current} kW")
    if kind == K.CAPACITY_DECREASE and requested >= current:
        raise DomainError(E.APP_FIELD_INVALID, field="capacity_kw",
                          reason=f"less than the current {current} kW")
