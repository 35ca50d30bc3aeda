"""The customer's screens: accounts with balance, meter, usage and care notice; reporting
a fault with photos and location."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from mobile.services.engine_backend import EngineBackend
from mobile.state.accounts import AccountsState, daily_usage
from mobile.state.fault_report import FaultReportState
from mobile.state.job_detail import GpsFix
from mobile.state.jobs import JobsState
from shared.ids import new_id
from tests.unit.mobile.test_support import ACCOUNT, CUSTOMER, METER, jpeg_bytes, make_device, pull


@pytest.fixture
def customer(tmp_path: Path) -> Iterator[EngineBackend]:
    backend = make_device(tmp_path / "cust", CUSTOMER)
    yield backend
    backend.close()


def readings(days: int, start_centi: int = 50_000) -> list[tuple[str, dict[str, object]]]:
    out = []
    value = start_centi
    first = date(2026, 10, 1)
    for i in range(days):
        value += 500 + (i % 3) * 100
        out.append(("meter_reading", {"id": new_id(), "meter_id": METER,
                                      "account_id": ACCOUNT,
                                      "read_date": (first + timedelta(days=i)).isoformat(),
                                      "value_centi": value, "source": "actual"}))
    return out


def test_daily_usage_is_the_difference_of_register_readings() -> None:
    rows = [{"read_date": "2026-10-01", "value_centi": 1000, "source": "actual"},
            {"read_date": "2026-10-02", "value_centi": 1650, "source": "actual"},
            {"read_date": "2026-10-03", "value_centi": 1650, "source": "estimated"},
            {"read_date": "2026-10-04", "value_centi": 2000, "source": "actual"},
            {"read_date": "2026-10-04", "value_centi": 10, "source": "swap_start"}]
    assert [(d.day.day, d.kwh) for d in daily_usage(rows)] == [(2, 6.5), (3, 0.0), (4, 3.5)]
    assert daily_usage([]) == []


def test_an_account_card_shows_balance_meter_care_and_the_last_30_days(
        customer: EngineBackend) -> None:
    pull(customer, readings(40))
    accounts = AccountsState(customer)
    accounts.reload()
    (card,) = accounts.cards
    assert (card.account_no, card.balance, card.meter_no) == ("7700000000", "¥12.50",
                                                              "MTR-0001")
    assert card.balance_low and card.care
    assert len(card.usage) == 30
    assert card.usage[-1].kwh in (5.0, 6.0, 7.0)
    when = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert AccountsState.as_of(when, False, "en") == "as of 11-27 09:30"
    assert AccountsState.as_of(when, True, "zh") == "截至 11-27 09:30"


def test_reporting_a_fault_is_checked_then_queued_with_photos_and_location(
        customer: EngineBackend) -> None:
    kicks: list[int] = []
    form = FaultReportState(customer, on_change=lambda: kicks.append(1))
    form.start()
    assert form.account_id == ACCOUNT
    assert form.accounts() == [(ACCOUNT, "7700000000 · 1 River Road")]
    assert form.submit("en") is None
    assert form.errors == {"description": "Please describe the fault"}
    sha = asyncio.run(form.add_photo(jpeg_bytes()))
    asyncio.run(form.add_photo(jpeg_bytes()))  # the same photo again: once
    assert form.photos == [sha] and sha in form.thumbs
    form.set_location(GpsFix(27.79912, 112.90123, 25))
    form.description = "  Sparks from the meter box  "
    order_id = form.submit("en")
    assert order_id and kicks == [1]
    status = customer.status()
    assert status.waiting == 1 and status.ops[0].action == "report"
    jobs = JobsState(customer)
    jobs.reload()
    (view,) = jobs.items
    assert view.id == order_id and view.row["status"] == "reported"
    assert view.row["description"] == "Sparks from the meter box"
    assert (view.row["lat"], view.row["lon"]) == (27.79912, 112.90123)
    detail = customer.job(order_id)
    assert detail is not None and [p.sha256 for p in detail.photos] == [sha]
    form.remove_photo(sha)
    assert form.photos == []


def test_a_report_without_an_account_is_refused(customer: EngineBackend) -> None:
    form = FaultReportState(customer, description="No power")
    assert form.submit("zh") is None
    assert form.errors == {"account_id": "必填"}
