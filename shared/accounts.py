"""An account's life: open (active) until a completed closing application closes it.

A closed account keeps its rows and its ledger (the history stays visible), takes no
recharge, is not charged any more and cannot be the subject of a new application.
"""

from __future__ import annotations

from enum import StrEnum

from shared.errors import DomainError, ErrorCode


class AccountStatus(StrEnum):
    ACTIVE = "active"  # 正常
    CLOSED = "closed"  # 已销户


def check_open(status: str, *, account_no: str) -> None:
    """Refuse anything that needs an open account (a recharge, an application)."""
    if status == AccountStatus.CLOSED:
        raise DomainError(ErrorCode.ACCOUNT_CLOSED, account=account_no)
