"""Balance alerts and supply (remote disconnect / reconnect) decisions.

* **Alert level** of an account: ``arrears`` below zero; ``low`` below the amount
  threshold or with fewer estimated days left than the days threshold; ``ok`` otherwise.
  A notice goes out when the level gets *worse* (ok -> low, ok/low -> arrears): once per
  crossing, not every day it stays low. Getting better re-arms silently.
* **Days left** = balance / average daily cost of the recent days that had any cost.
* **Supply**: at or below ``-overdraft_limit_fen`` (zero by default) a supplied account is
  disconnected; once the balance is above zero again it is reconnected. Care-list
  accounts are never disconnected automatically: a person is given a task instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


class AlertLevel(StrEnum):
    OK = "ok"
    LOW = "low"
    ARREARS = "arrears"


_RANK = {AlertLevel.OK: 0, AlertLevel.LOW: 1, AlertLevel.ARREARS: 2}


class SupplyState(StrEnum):
    ON = "on"
    OFF = "off"


class SupplyAction(StrEnum):
    NONE = "none"
    DISCONNECT = "disconnect"
    RECONNECT = "reconnect"
    CARE_TASK = "care_task"  # would disconnect, but the account is on the care list


@dataclass(frozen=True)
class Policy:
    """Thresholds (configurable data; the server keeps them in a table)."""

    low_balance_fen: int = 2000  # 20 yuan
    low_days: int = 3
    overdraft_limit_fen: int = 0  # disconnect at -limit (0: at zero)
    recent_days: int = 7  # days of usage the days-left estimate looks at

    def __post_init__(self) -> None:
        if not (0 <= self.low_balance_fen <= 10_000_000 and 0 <= self.low_days <= 365
                and 0 <= self.overdraft_limit_fen <= 1_000_000
                and 1 <= self.recent_days <= 90):
            raise ValueError("policy thresholds out of range")


def days_left(balance_fen: int, daily_costs_fen: Sequence[int]) -> Decimal | None:
    """Estimated whole days the balance lasts (None: no recent usage to go by)."""
    costs = [c for c in daily_costs_fen if c > 0]
    if not costs:
        return None
    if balance_fen <= 0:
        return Decimal(0)
    avg = Decimal(sum(costs)) / len(costs)
    return (Decimal(balance_fen) / avg).quantize(Decimal("0.1"), rounding=ROUND_FLOOR)


#: Care-list accounts are told (and visited) this many times earlier.
CARE_FACTOR = 2


def level(balance_fen: int, left: Decimal | None, policy: Policy, *, care: bool = False
          ) -> AlertLevel:
    if balance_fen < 0:
        return AlertLevel.ARREARS
    factor = CARE_FACTOR if care else 1
    if balance_fen < policy.low_balance_fen * factor or (
            left is not None and left < policy.low_days * factor):
        return AlertLevel.LOW
    return AlertLevel.OK


def crossing(old: AlertLevel | str, new: AlertLevel) -> AlertLevel | None:
    """The level to notify about, when ``new`` is worse than ``old``."""
    return new if _RANK[new] > _RANK[AlertLevel(old)] else None


def supply_action(balance_fen: int, *, target: SupplyState | str, care: bool,
                  policy: Policy) -> SupplyAction:
    """What to do about supply, given the state the meter is (or is being) put in."""
    if SupplyState(target) == SupplyState.ON and balance_fen <= -policy.overdraft_limit_fen:
        return SupplyAction.CARE_TASK if care else SupplyAction.DISCONNECT
    if SupplyState(target) == SupplyState.OFF and balance_fen > 0:
        return SupplyAction.RECONNECT
    return SupplyAction.NONE
