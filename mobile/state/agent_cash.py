"""The agent's screens: field cash recharge (a sync op: works offline, idempotent on the
paper receipt), the day's cash summary for handing in with how the station counter
confirmed each day (matching, with a discrepancy, receipts taken after the confirmation:
all from the phone's synced rows), and purchase-count correction (online only: it needs
the server's current count and a reason; it takes effect when a manager approves it; the
agent's own recent requests are listed with their state while online)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import flet as ft

from mobile.i18n import translate
from mobile.services.backend import Backend, Row
from mobile.state.common import Now, default_clock, off_loop, parse_dt
from mobile.state.recharge import parse_amount
from shared.billing.handover import Tally
from shared.billing.ledger import check_purchase_count, check_reason, check_receipt_no
from shared.errors import DomainError
from shared.ids import new_id
from shared.money import format_fen
from shared.numbers import parse_count
from shared.timeutil import LOCAL_TZ
from sync.client.errors import AuthRequired, PermanentError, TransientError
from sync.client.readmodel import CashLine


def find_account(accounts: list[Row], text: str) -> Row | None:
    """An account on this phone by its number (or id)."""
    wanted = text.strip()
    return next((a for a in accounts if wanted and wanted in (a.get("account_no"), a["id"])),
                None)


@dataclass(frozen=True)
class CashSummary:
    day: date
    count: int
    total_fen: int
    pending: int  # not yet on the server (or not yet pulled back)

    @property
    def total(self) -> str:
        return format_fen(self.total_fen)


@dataclass(frozen=True)
class Receipt:
    """What the agent shows (or shares with) the customer after taking cash."""

    receipt_no: str
    account_no: str
    name: str
    amount_fen: int
    balance_after_fen: int | None  # the phone's balance plus this; None: unknown
    at: datetime
    agent: str
    already: bool = False  # the receipt had been recorded before: nothing new was taken

    def lines(self) -> list[tuple[str, str]]:
        return [("receipt_no_field", self.receipt_no), ("account", self.account_no),
                ("customer", self.name), ("amount", format_fen(self.amount_fen)),
                ("balance_after_est", format_fen(self.balance_after_fen)
                 if self.balance_after_fen is not None else "—")]


@dataclass(frozen=True)
class Handover:
    """How the station counter confirmed a day (the synced ``cash_handover`` row): what
    it counted, the receipts recorded on the server at that moment, its note."""

    by: str
    at: datetime | None
    recorded: Tally
    counted: Tally
    note: str | None

    @classmethod
    def from_row(cls, row: Row) -> Handover:
        counted = Tally(int(row.get("receipt_count") or 0), int(row.get("total_fen") or 0))
        rec_n, rec_fen = row.get("recorded_count"), row.get("recorded_fen")
        recorded = counted if rec_n is None or rec_fen is None else Tally(int(rec_n),
                                                                          int(rec_fen))
        return cls(str(row.get("confirmed_by_name") or ""), parse_dt(row.get("confirmed_at")),
                   recorded, counted, row.get("note") or None)

    @property
    def discrepancy(self) -> bool:
        return self.counted != self.recorded

    @property
    def difference_fen(self) -> int:
        """Counted minus recorded (negative: cash short)."""
        return self.counted.total_fen - self.recorded.total_fen


@dataclass(frozen=True)
class HandoverDay:
    """One day of the agent's cash as the phone knows it, with the counter's confirmation
    (None: not confirmed yet) and the receipts the confirmation did not cover (``later``:
    taken, or uploaded, after the counter confirmed the day)."""

    summary: CashSummary
    lines: list[CashLine]
    handover: Handover | None = None
    later: list[CashLine] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``open`` (waiting for the counter), ``confirmed`` (counted = recorded) or
        ``discrepancy`` (confirmed with a difference, explained in the note)."""
        if self.handover is None:
            return "open"
        return "discrepancy" if self.handover.discrepancy else "confirmed"

    @property
    def later_fen(self) -> int:
        return sum(c.amount_fen for c in self.later)


def after_confirmation(lines: list[CashLine], handover: Handover,
                       recorded_at: dict[str, datetime]) -> list[CashLine]:
    """The day's receipts the counter's confirmation did not cover: not on the server yet
    (pending, or sent and not pulled back: their ledger entry came after the pull that
    brought the confirmation), or recorded by the server after the confirmation
    (``recorded_at``: the ledger entries' server times, by id)."""
    out = []
    for c in lines:
        if c.state != "synced":
            out.append(c)
            continue
        at = recorded_at.get(c.id)
        if at is not None and handover.at is not None and at > handover.at:
            out.append(c)
    return out


def summarize(lines: list[CashLine], day: date) -> CashSummary:
    mine = [c for c in lines if c.state != "rejected"
            and c.at.astimezone(LOCAL_TZ).date() == day]
    return CashSummary(day, len(mine), sum(c.amount_fen for c in mine),
                       sum(1 for c in mine if c.state != "synced"))


@ft.observable
@dataclass
class CashState:
    backend: Backend
    lang: str = "zh"
    clock: Now = default_clock
    account_text: str = ""
    amount_text: str = ""
    receipt_text: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field -> message key / text
    error_params: dict[str, Any] = field(default_factory=dict)
    lines: list[CashLine] = field(default_factory=list)
    accounts: list[Row] = field(default_factory=list)
    saved_seq: int = 0
    receipt: Receipt | None = None
    handovers: list[HandoverDay] = field(default_factory=list)  # newest day first

    def customer(self) -> Row | None:
        """The account typed so far, from the phone's data (works offline)."""
        return find_account(self.accounts, self.account_text)

    def customer_line(self) -> str:
        from mobile.i18n import t

        a = self.customer()
        if a is None:
            return ""
        return t("cash_customer", self.lang, name=a.get("name") or "—",
                 address=a.get("address") or "—",
                 balance=format_fen(int(a.get("balance_fen") or 0)))

    def days(self, n: int = 7) -> list[tuple[CashSummary, list[CashLine]]]:
        """The hand-over view: the last ``n`` days with cash, each with its receipts."""
        days = sorted({local_day(c.at) for c in self.lines}, reverse=True)[:n]
        return [(summarize(self.lines, d),
                 [c for c in self.lines if local_day(c.at) == d and c.state != "rejected"])
                for d in days]

    def close_receipt(self) -> None:
        self.receipt = None

    def _receipt(self, account: Row, fen: int, receipt_no: str, already: bool) -> Receipt:
        info = self.backend.session()
        balance = account.get("balance_fen")
        return Receipt(receipt_no, str(account.get("account_no") or ""),
                       str(account.get("name") or ""), fen,
                       None if balance is None or already else int(balance) + fen,
                       self.clock(), info.display_name if info else "", already)

    def reload(self) -> None:
        self.accounts = sorted(self.backend.rows("account"),
                               key=lambda a: a.get("account_no") or "")
        self.lines = self.backend.cash_recharges()
        self.handovers = self._handover_days()

    def _handover_days(self, n: int = 7) -> list[HandoverDay]:
        """The last ``n`` days with cash, each with how the counter confirmed it (from
        the synced ``cash_handover`` rows: works offline)."""
        rows = {str(h.get("day")): h for h in self.backend.rows("cash_handover")}
        out = []
        for summary, lines in self.days(n):
            row = rows.get(summary.day.isoformat())
            if row is None:
                out.append(HandoverDay(summary, lines))
                continue
            handover = Handover.from_row(row)
            recorded_at: dict[str, datetime] = {}
            for c in lines:  # the server's time of each synced receipt of the day
                entry = self.backend.row("ledger_entry", c.id) if c.state == "synced" else None
                at = parse_dt((entry or {}).get("recorded_at"))
                if at is not None:
                    recorded_at[c.id] = at
            out.append(HandoverDay(summary, lines, handover,
                                   after_confirmation(lines, handover, recorded_at)))
        return out

    @property
    def summary(self) -> CashSummary:
        return summarize(self.lines, self.clock().astimezone(LOCAL_TZ).date())

    def account_no(self, account_id: str) -> str:
        got = next((a for a in self.accounts if a["id"] == account_id), None)
        return str((got or {}).get("account_no") or account_id[:8])

    def submit(self) -> bool:
        """Check the three fields, queue the op. True when it was recorded."""
        self.errors, self.error_params = {}, {}
        account = find_account(self.accounts, self.account_text)
        if account is None:
            self.errors["account"] = "cash_unknown_account"
            self.error_params = {"no": self.account_text.strip()}
        fen, receipt = None, ""
        try:
            fen = parse_amount(self.amount_text)
        except DomainError:
            self.errors["amount"] = "amount_invalid"
        try:
            receipt = check_receipt_no(self.receipt_text)
        except DomainError as exc:
            self.errors["receipt"] = translate(exc.code, self.lang, **exc.details)
        if self.errors or account is None or fen is None:
            return False
        seen = next((c for c in self.lines if c.receipt_no == receipt
                     and c.state != "rejected"), None)
        if seen is not None and (seen.account_id, seen.amount_fen) == (account["id"], fen):
            # the same paper receipt again: nothing new is taken, and it says so
            self.receipt = self._receipt(account, fen, receipt, already=True)
            self.account_text = self.amount_text = self.receipt_text = ""
            return False
        try:
            self.backend.cash_recharge(account_id=account["id"], amount_fen=fen,
                                       receipt_no=receipt)
        except DomainError as exc:
            self.errors["form"] = translate(exc.code, self.lang, **exc.details)
            return False
        self.receipt = self._receipt(account, fen, receipt, already=False)
        self.account_text = self.amount_text = self.receipt_text = ""
        self.saved_seq += 1
        self.reload()
        return True


@ft.observable
@dataclass
class CountFixState:
    """The purchase-count correction form (online: it needs the server's current count
    and a reason). The server records the correction for another person's approval
    (four eyes): the phone says it was sent for approval and shows it waiting; the meter
    keeps its count until a manager approves, and the new count shows when the approved
    change reaches the phone with the meter row (the next pull). Sending the same
    correction again answers the same request ("already waiting"), never a second one."""

    backend: Backend
    lang: str = "zh"
    meter_text: str = ""
    count_text: str = ""
    reason_text: str = ""
    error: str = ""
    error_params: dict[str, Any] = field(default_factory=dict)
    busy: bool = False
    result: dict[str, Any] | None = None  # the request, as the server answered it
    pulls: int = 0  # bumped when sync brings rows: the screen draws again
    #: the user's own recent purchase-count requests (newest first), as the server last
    #: listed them; ``requests_state``: "" (not asked yet), ``loading``, ``ok``,
    #: ``offline`` (the list needs a connection) or ``error`` (``requests_error`` says why)
    requests: list[dict[str, Any]] = field(default_factory=list)
    requests_state: str = ""
    requests_error: str = ""
    _id: str = ""

    def meter(self) -> Row | None:
        """The meter typed (by its number or its account's), as the phone last pulled it:
        its count is the server's (a correction waiting for approval has not changed it)."""
        wanted = self.meter_text.strip()
        if not wanted:
            return None
        meters = self.backend.rows("meter")
        found = next((m for m in meters if m.get("meter_no") == wanted), None)
        if found is None:
            account = find_account(self.backend.rows("account"), wanted)
            if account is not None:
                found = next((m for m in meters if m.get("account_id") == account["id"]
                              and m.get("status") == "installed"), None)
        return found

    @property
    def phase(self) -> str:
        """What became of the correction sent: ``sent`` (waiting for approval, just
        recorded), ``already`` (sent before: still the same request), ``approved`` (the
        pulled meter now has the new count), ``rejected`` (known from the server's
        answer), or ``""`` (nothing sent yet)."""
        res = self.result
        if not res:
            return ""
        status = res.get("status")
        meter = next((m for m in self.backend.rows("meter")
                      if m["id"] == res.get("meter_id")), None)
        if status == "approved" or (
                meter is not None and res.get("old_count") != res.get("new_count")
                and meter.get("purchase_count") == res.get("new_count")):
            return "approved"
        if status == "rejected":
            return "rejected"
        return "already" if res.get("duplicate") else "sent"

    async def submit(self) -> None:
        meter = self.meter()
        self.error, self.error_params = "", {}
        if meter is None:
            self.error, self.error_params = "count_unknown_meter", {"no": self.meter_text}
            return
        try:
            new = check_purchase_count(parse_count(self.count_text))  # shared digit rule
        except (ValueError, DomainError):
            self.error = "count_invalid"
            return
        try:
            reason = check_reason(self.reason_text)
        except DomainError as exc:
            self.error = translate(exc.code, self.lang, **exc.details)
            return
        res = self.result
        if res and self.phase in ("sent", "already") and (
                res.get("meter_id"), res.get("new_count")) == (meter["id"], new):
            self._id = str(res["id"])  # the same correction again: the same request
        self._id = self._id or new_id()
        self.busy = True
        try:
            self.result = await off_loop(lambda: self.backend.correct_purchase_count(
                meter["id"], correction_id=self._id, new_count=new,
                expected_count=meter.get("purchase_count"), reason=reason))
            self._id = ""
            self._remember(self.result)
        except TransientError:
            self.error = "count_needs_connection"  # the id is kept: a retry is a resend
        except (PermanentError, AuthRequired) as exc:
            self.error = exc.message
            self._id = ""
        finally:
            self.busy = False

    def reload(self) -> None:
        """Sync brought rows (perhaps the meter with its approved count): draw again."""
        self.pulls += 1

    def earlier_requests(self) -> list[dict[str, Any]]:
        """The listed requests besides the one just sent (that one shows above them)."""
        shown = (self.result or {}).get("id")
        return [r for r in self.requests if r.get("id") != shown]

    def _remember(self, req: dict[str, Any]) -> None:
        """The request just sent heads the list (it is the user's newest)."""
        self.requests = [req] + [r for r in self.requests if r.get("id") != req.get("id")]

    async def load_requests(self) -> None:
        """Ask the server for the user's own recent purchase-count requests and what
        became of them (waiting, approved, rejected with the approver's reason). Online
        only: without a connection the list says it needs one (the last list is not
        shown as if it were current)."""
        before = self.requests_state
        self.requests_state, self.requests_error = "loading", ""
        try:
            items = await off_loop(lambda: self.backend.approval_requests(
                kind="purchase_count", limit=REQUESTS_SHOWN))
        except asyncio.CancelledError:
            # Flet cancels an effect's run when the effect runs again (a pull or the link
            # changed while the list was asked for): the next run must ask again, so the
            # list is not left "loading" for good
            self.requests_state = before
            raise
        except TransientError:
            self.requests_state = "offline"
            return
        except (PermanentError, AuthRequired) as exc:
            self.requests_state, self.requests_error = "error", exc.message
            return
        info = self.backend.session()
        mine = [r for r in items if info is None or r.get("requested_by") in (None,
                                                                             info.user_id)]
        self.requests, self.requests_state = mine, "ok"
        res = self.result
        now = next((r for r in mine if res and r.get("id") == res.get("id")), None)
        if res is not None and now is not None:  # the request sent follows its decision
            self.result = {**now, "duplicate": res.get("duplicate", False)}

    async def refresh_requests(self) -> None:
        """Load the list when it may have changed: not loaded yet (or not reachable then),
        or a request in it is still waiting for its decision."""
        if self.requests_state in ("", "offline", "error") or any(
                r.get("status") == "pending" for r in self.requests):
            await self.load_requests()


#: how many of the user's recent requests the correction screen lists
REQUESTS_SHOWN = 10


def local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()
