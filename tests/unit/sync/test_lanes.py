"""Lanes (``sync.lanes``): which ops keep their order together."""

from __future__ import annotations

from sync.lanes import LaneGate, lane_for, order_lane, order_of
from sync.protocol import OpType


def test_a_jobs_ops_and_its_swap_share_the_jobs_lane() -> None:
    assert lane_for(OpType.WO_ACCEPT, "o1") == lane_for(OpType.METER_SWAP_RECORD, "o1")
    assert lane_for(OpType.WO_ACCEPT, "o1") == order_lane("o1") == "work_order:o1"
    assert lane_for(OpType.RECHARGE_CASH, "r1") == "cash:r1"
    assert (order_of("work_order:o1"), order_of("cash:r1")) == ("o1", None)


def test_a_closed_lane_holds_back_its_later_ops_only() -> None:
    gate = LaneGate()
    assert gate.open("work_order:a") and gate.open("work_order:b")
    gate.close("work_order:a")
    assert not gate.open("work_order:a") and gate.open("work_order:b")
