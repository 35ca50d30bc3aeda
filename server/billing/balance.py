"""What follows a change of balance, in the same transaction: the alert level (a notice
once per crossing), and the supply (a disconnect or reconnect command, or for a care-list
account a care visit for a person to decide)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlmodel import Session, col, select

from server.billing import tariffs
from server.billing.ledger import installed_meter
from server.billing.models import BillingDay
from server.care import service as care
from server.customers.models import Account
from server.meter_commands import service as commands
from server.notifications import service as notifications
from server.uow import UnitOfWork
from shared.billing.alerts import (
    AlertLevel,
    SupplyAction,
    crossing,
    days_left,
    level,
    supply_action,
)
from shared.billing.notices import NoticeKind
from shared.enums import Role
from shared.money import fen_to_yuan
from shared.workorders.state_machine import Actor

#: Jobs the billing system raises itself (no user): reported through the monitoring channel.
SYSTEM = Actor(user_id=cast(str, None), role=Role.ADMIN)


@dataclass(frozen=True)
class Reaction:
    level: AlertLevel
    notified: AlertLevel | None
    supply: SupplyAction
    days_left: Decimal | None


def recent_costs(session: Session, account_id: str, days: int) -> list[int]:
    rows = session.exec(select(BillingDay.day_cost_fen).where(
        BillingDay.account_id == account_id).order_by(col(BillingDay.day).desc())
        .limit(days)).all()
    return [int(r) for r in rows]


def estimate_days_left(session: Session, account: Account) -> Decimal | None:
    pol = tariffs.policy(session)
    return days_left(account.balance_fen, recent_costs(session, account.id, pol.recent_days))


def balance_changed(uow: UnitOfWork, *, account: Account, at: datetime) -> Reaction:
    """Re-assess ``account`` (locked by the caller) after its balance changed."""
    session = uow.session
    pol = tariffs.policy(session)
    left = days_left(account.balance_fen, recent_costs(session, account.id, pol.recent_days))
    new = level(account.balance_fen, left, pol, care=account.care_flag)
    notice = crossing(account.alert_level, new)
    if new != account.alert_level:
        account.alert_level = new.value
        account.version += 1
        uow.changed(account)
    if notice == AlertLevel.LOW:
        notifications.notify(uow, account=account, kind=NoticeKind.LOW_BALANCE, at=at,
                             params={"balance": account.balance_fen,
                                     "days_left": str(left) if left is not None else None})
        if account.care_flag:  # a person visits before it runs out (issue 13)
            care_task(uow, account=account, at=at)
    elif notice == AlertLevel.ARREARS:
        notifications.notify(uow, account=account, kind=NoticeKind.ARREARS, at=at,
                             params={"balance": account.balance_fen})
    action = SupplyAction.NONE
    meter = installed_meter(session, account.id)
    if meter is not None:
        target = commands.target_state(session, account=account, meter_id=meter.id)
        action = supply_action(account.balance_fen, target=target, care=account.care_flag,
                               policy=pol)
        yuan = fen_to_yuan(account.balance_fen)
        if action == SupplyAction.DISCONNECT:
            cmd = commands.request(uow, account=account, meter=meter, kind=commands.DISCONNECT,
                                   origin="auto", at=at,
                                   reason=f"balance {yuan} yuan at or below the "
                                          f"disconnection line (-{pol.overdraft_limit_fen} fen)")
            notifications.notify(uow, account=account, kind=NoticeKind.DISCONNECT, at=at,
                                 params={"balance": account.balance_fen},
                                 dedupe_key=f"command:{cmd.id}")
        elif action == SupplyAction.RECONNECT:
            cmd = commands.request(uow, account=account, meter=meter, kind=commands.RECONNECT,
                                   origin="auto", at=at,
                                   reason=f"balance {yuan} yuan is above zero again")
            notifications.notify(uow, account=account, kind=NoticeKind.RECONNECT, at=at,
                                 params={"balance": account.balance_fen},
                                 dedupe_key=f"command:{cmd.id}")
        elif action == SupplyAction.CARE_TASK:
            care_task(uow, account=account, at=at)
    return Reaction(new, notice, action, left)


def care_task(uow: UnitOfWork, *, account: Account, at: datetime) -> str | None:
    """A care-visit job for a person: to call or visit a care-list customer whose balance
    runs low, and to decide about supply at the disconnection line (one open at a time)."""
    yuan = fen_to_yuan(account.balance_fen)
    return care.raise_visit(
        uow, account=account, at=at, priority="high",
        why_zh=(f"关怀名单用户余额 {yuan} 元，余额不足或已到停电线，系统不自动停电。请联系或"
                "上门核实，由人员决定是否停电。"),
        why_en=(f"Care-list customer with a balance of {yuan} yuan, running low or at the "
                "disconnection line. Not disconnected automatically: contact or visit and "
                "decide."))
