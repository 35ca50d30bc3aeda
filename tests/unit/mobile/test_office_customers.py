"""The office's account view as a clerk reads it: the figures' cards, the ledger's heading,
the readings chart's value axis."""

from __future__ import annotations

from typing import Any

import flet_charts as fch
import pytest

from mobile.components.charts import axis_range
from mobile.office.views.customers import _account, _chart
from tests.unit.mobile.shown import texts


def view(*, supply: str = "on", ledger: int = 2, total: int = 2) -> dict[str, Any]:
    entry = {"occurred_at": "2026-12-01T08:00:00+00:00", "kind": "recharge",
             "amount_fen": 5000, "balance_after_fen": 8650, "reason": ""}
    return {
        "account": {"account_no": "7700000100", "name": "张伟", "customer_type": "residential",
                    "phone": "13807300001", "address": "城关镇解放路 18 号",
                    "id_card_masked": "4306**********0018", "property_cert_masked": None,
                    "balance_fen": 8650, "alert_level": "ok", "supply_state": supply},
        "meter": {"meter_no": "MTR-ZW-0001", "purchase_count": 3,
                  "last_reading_kwh": "520.00"},
        "readings": [], "ledger": [entry] * ledger, "ledger_total": total, "jobs": [],
        "commands": [], "messages": [], "purchase_count_corrections": [],
        "pending_approvals": []}


def figure_value(words: list[str], title: str) -> str:
    """The value on the card titled ``title`` (cards show the title, then the value)."""
    return words[words.index(title) + 1]


def test_the_supply_card_says_whether_the_supply_is_on() -> None:
    assert figure_value(texts(_account(view(), "en", None)), "Supply") == "On"
    assert figure_value(texts(_account(view(supply="off"), "en", None)), "Supply") == "Off"
    assert figure_value(texts(_account(view(supply="off"), "zh", None)), "供电") == "已停电"


def test_the_ledger_heading_counts_what_is_shown_of_how_many() -> None:
    assert "Ledger (2)" in texts(_account(view(), "en", None))
    assert "Ledger (0)" in texts(_account(view(ledger=0, total=0), "en", None))
    assert "Ledger (latest 30 of 45)" in texts(_account(view(ledger=30, total=45), "en",
                                                        None))
    assert "账务流水（最近 30 条，共 45 条）" in texts(_account(view(ledger=30, total=45), "zh",
                                                         None))


def test_the_meter_number_stays_on_one_line_of_its_card() -> None:
    words = texts(_account(view(), "en", None))
    assert figure_value(words, "Meter") == "MTR-ZW-0001"

    def find(control: Any) -> Any:
        if getattr(control, "value", None) == "MTR-ZW-0001":
            return control
        for name in ("content", "controls"):
            child = getattr(control, name, None)
            for c in child if isinstance(child, list) else [child] if child else []:
                found = find(c)
                if found is not None:
                    return found
        return None

    text = next(t for t in map(find, _account(view(), "en", None)) if t is not None)
    assert text.max_lines == 1 and text.size < 26  # the other figures' size


@pytest.mark.parametrize(("low", "high", "expected"), [
    (384.4, 542.5, (350.0, 550.0, 50.0)),
    (0.0, 9.3, (0.0, 10.0, 2.5)),
    (41027.69, 41031.2, (41027.0, 41032.0, 1.0)),
    (0.12, 0.58, (0.0, 0.6, 0.2)),
])
def test_a_value_axis_runs_between_round_values(low: float, high: float,
                                                 expected: tuple[float, float, float]) -> None:
    assert axis_range(low, high) == expected


@pytest.mark.parametrize(("low", "high"), [(384.4, 542.5), (0.0, 0.0), (500.0, 500.0),
                                           (-3.2, 7.9), (0.001, 0.0013), (1e6, 1.9e6)])
def test_every_axis_label_is_a_whole_number_of_steps(low: float, high: float) -> None:
    bottom, top, step = axis_range(low, high)
    assert bottom <= low and top >= high and top > bottom
    assert 2 <= (top - bottom) / step <= 10
    for edge in (bottom, top):
        assert abs(edge / step - round(edge / step)) < 1e-6


def test_the_readings_chart_uses_the_round_axis() -> None:
    readings = [{"read_date": f"2026-11-{d:02d}", "kwh": f"{384.4 + d * 5.3:.2f}"}
                for d in range(1, 31)]
    chart = _chart(readings, "en").content
    assert isinstance(chart, fch.LineChart)
    assert (chart.min_y, chart.max_y) == (350.0, 550.0)
    assert chart.left_axis.label_spacing == 50.0
    assert not chart.left_axis.show_min  # 350 was drawn into the first date's label
