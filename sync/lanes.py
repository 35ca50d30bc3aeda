"""Lanes: the ops of one entity apply in the order they were made on the device; ops of
other lanes never wait for them (``docs/sync-protocol.md`` §3-4).

All work-order, meter-swap and inspection-finding ops share their job's lane
``work_order:<order id>``; a cash recharge is a lane of its own (``cash:<recharge id>``).
"""

from __future__ import annotations

#: Lane name per op-type family (the part of the type before the dot).
_LANE_OF = {"work_order": "work_order", "meter_swap": "work_order",
             "inspection": "work_order", "recharge": "cash"}
ORDER_PREFIX = "work_order:"


def lane_for(op_type: str, entity_id: str) -> str:
    """The lane of an op of ``op_type`` on ``entity_id``."""
    family = op_type.split(".", 1)[0]
    return f"{_LANE_OF.get(family, family)}:{entity_id}"


def order_lane(order_id: str) -> str:
    return ORDER_PREFIX + order_id


def order_of(lane: str) -> str | None:
    """The work order a lane belongs to (None: not a work order's lane)."""
    return lane[len(ORDER_PREFIX):] if lane.startswith(ORDER_PREFIX) else None


class LaneGate:
    """Within one push: once an op of a lane is deferred, or held behind a rejected
    predecessor, the later ops of that lane wait too; other lanes go on."""

    def __init__(self) -> None:
        self._closed: set[str] = set()

    def open(self, lane: str) -> bool:
        return lane not in self._closed

    def close(self, lane: str) -> None:
        self._closed.add(lane)

    def snapshot(self) -> frozenset[str]:
        """The closed lanes now (``restore`` them to undo what a rolled-back try closed)."""
        return frozenset(self._closed)

    def restore(self, closed: frozenset[str]) -> None:
        self._closed = set(closed)
