"""The customer's inbox (newest first, read/unread: a mark queued for the server, a job's
notice opens the job), planned outages on the account and before a fault report, and the
fault form's hint that clears once there is text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from mobile.services.engine_backend import EngineBackend
from mobile.state.billing import InboxState
from mobile.state.fault_report import FaultReportState
from mobile.state.outages import account_outages, covering_outage
from shared.ids import new_id
from shared.timeutil import utcnow
from sync.client import outbox
from sync.client.timefmt import to_iso
from tests.unit.mobile.test_support import ACCOUNT, AREA, CUSTOMER, STATION, make_device, pull


@pytest.fixture
def customer(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "cust", CUSTOMER)
    yield backend
    backend.close()


def note(kind: str, minutes_ago: int, **kw: object) -> tuple[str, dict[str, object]]:
    return ("notification", {
        "id": new_id(), "account_id": ACCOUNT, "user_id": CUSTOMER.user_id, "kind": kind,
        "title_zh": f"标题 {kind}", "body_zh": "内容", "title_en": f"Title {kind}",
        "body_en": "Body", "data": kw.pop("data", {}),
        "created_at": to_iso(utcnow() - timedelta(minutes=minutes_ago)), "read_at": None,
        **kw})


def outage(hours: tuple[float, float], *, area: str = AREA, status: str = "published"
           ) -> tuple[str, dict[str, object]]:
    now = utcnow()
    return ("outage", {"id": new_id(), "station_id": STATION, "area_ids": [area],
                       "areas": [{"id": area, "name": "Area town"}],
                       "starts_at": to_iso(now + timedelta(hours=hours[0])),
                       "ends_at": to_iso(now + timedelta(hours=hours[1])),
                       "reason": "switch work", "status": status, "version": 1})


def test_inbox_newest_first_read_and_unread(customer: EngineBackend) -> None:
    order_id = new_id()
    pull(customer, [note("job_dispatched", 30, data={"work_order_id": order_id}),
                    note("low_balance", 90), note("job_resolved", 5),
                    note("recharge_credited", 60, read_at=to_iso(utcnow()))])
    inbox = InboxState(customer, "en")
    inbox.reload()
    assert [m.kind for m in inbox.messages] == ["job_resolved", "job_dispatched",
                                                "recharge_credited", "low_balance"]
    assert inbox.unread == 3
    dispatched = inbox.messages[1]
    assert inbox.open(dispatched.id) == order_id  # its job opens
    assert inbox.unread == 2 and not inbox.messages[1].unread
    again = InboxState(customer, "zh")  # kept on the phone: a new screen knows
    again.reload()
    assert again.unread == 2 and again.messages[0].title == "标题 job_resolved"
    again.mark_all_read()
    assert again.unread == 0


def read_ops(backend: EngineBackend) -> list[tuple[str, str]]:
    with backend.store.read() as conn:
        return [(o.type, o.entity_id) for o in outbox.select(conn)]


def test_reading_a_message_queues_a_read_mark_for_the_server(tmp_path: Path) -> None:
    """Issue 15: the mark is an op in the outbox (sent when there is a signal: the other
    phones and the office then see it read), not a setting of this phone only."""
    customer = make_device(tmp_path / "cust", CUSTOMER)
    try:
        first, second, done = (note("job_dispatched", 30), note("low_balance", 20),
                               note("recharge_credited", 10, read_at=to_iso(utcnow())))
        pull(customer, [first, second, done])
        inbox = InboxState(customer, "en")
        inbox.reload()
        assert inbox.unread == 2
        inbox.open(first[1]["id"])
        inbox.open(first[1]["id"])  # opened again: nothing more to send
        assert read_ops(customer) == [("notification.read@1", first[1]["id"])]
        inbox.mark_all_read()  # the server's read message needs no mark
        assert read_ops(customer) == [("notification.read@1", first[1]["id"]),
                                      ("notification.read@1", second[1]["id"])]
        assert inbox.unread == 0
    finally:
        customer.close()
    again = EngineBackend(tmp_path / "cust", lang="en")  # after a restart, offline
    try:
        inbox = InboxState(again, "zh")
        inbox.reload()
        assert inbox.unread == 0
    finally:
        again.close()


def test_marks_an_older_release_kept_on_the_phone_go_up_with_the_next_one(
        customer: EngineBackend) -> None:
    old, fresh = note("low_balance", 20), note("job_resolved", 5)
    pull(customer, [old, fresh])
    customer._save_settings(read_notes=[old[1]["id"]])
    inbox = InboxState(customer, "en")
    inbox.reload()
    assert inbox.unread == 1  # the old mark still counts
    inbox.open(fresh[1]["id"])
    assert read_ops(customer) == [("notification.read@1", old[1]["id"]),
                                  ("notification.read@1", fresh[1]["id"])]
    assert customer._settings()["read_notes"] == []
    inbox.reload()
    assert inbox.unread == 0


def test_outages_on_the_account_and_before_a_fault_report(customer: EngineBackend) -> None:
    from tests.unit.mobile.test_support import base_rows

    pull(customer, base_rows())
    pull(customer, [outage((1, 5)), outage((30, 34)), outage((-10, -2)),
                    outage((2, 3), status="cancelled"), outage((1, 5), area=new_id())])
    now = utcnow()
    shown = account_outages(customer, ACCOUNT, now)
    assert len(shown) == 2  # not the past, cancelled or another area's
    assert shown[0].starts_at < shown[1].starts_at
    assert "switch work" in shown[0].text("en")
    assert covering_outage(customer, ACCOUNT, now) is not None  # starts within 2 h
    assert covering_outage(customer, ACCOUNT, now + timedelta(hours=6)) is None

    form = FaultReportState(customer)
    form.start()
    assert "A planned outage covers your area" in form.outage_warning("en")
    assert "计划停电" in form.outage_warning("zh")
    form.clock = lambda: now + timedelta(hours=6)
    assert form.outage_warning("en") == ""


def test_the_describe_hint_clears_once_there_is_text(customer: EngineBackend) -> None:
    from tests.unit.mobile.test_support import base_rows

    pull(customer, base_rows())
    form = FaultReportState(customer)
    form.start()
    assert form.submit("en") is None
    assert form.errors["description"] == "Please describe the fault"
    form.set_description("   ")
    assert "description" in form.errors
    form.set_description("Sparks at the meter")
    assert "description" not in form.errors


def test_the_monthly_bill_on_the_phone_and_its_pdf(customer: EngineBackend) -> None:
    from mobile.state.bill import BillState
    from tests.unit.mobile.test_support import base_rows

    pull(customer, base_rows())
    rows = []
    for seq, (kind, amount, balance, day, data) in enumerate([
            ("opening_balance", 5000, 5000, "2026-10-20", {}),
            ("recharge_cash", 10000, 15000, "2026-11-02", {"receipt_no": "R-000777"}),
            ("usage_charge", -5880, 9120, "2026-11-30", {"mtd_usage_centi": 10000})], 1):
        rows.append(("ledger_entry", {"id": new_id(), "account_id": ACCOUNT, "seq": seq,
                                      "kind": kind, "amount_fen": amount,
                                      "balance_after_fen": balance, "data": data,
                                      "occurred_at": f"{day}T04:00:00+00:00"}))
    pull(customer, rows)
    state = BillState(customer, ACCOUNT)
    state.reload()
    assert state.months == ["2026-11", "2026-10"] and state.month == "2026-11"
    assert state.bill is not None
    assert (state.bill.opening_fen, state.bill.closing_fen) == (5000, 9120)
    state.step(older=True)
    assert state.month == "2026-10" and state.bill.closing_fen == 5000
    state.step(older=True)  # nothing older: stays
    assert state.month == "2026-10"
    state.step(older=False)
    for lang in ("zh", "en"):
        name, pdf = state.pdf(lang)
        assert name == "bill-7700000000-2026-11.pdf"
        assert pdf.startswith(b"%PDF") and len(pdf) > 5_000
        # both fonts embedded: Latin digits/symbols and Chinese
        assert b"DejaVuSans" in pdf and b"DroidSansFallback" in pdf
