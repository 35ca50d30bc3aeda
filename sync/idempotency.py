"""Exactly once: what the record of an already decided op says about an op sent now.

The server keeps one record per decided ``op_id`` (``Decided``), written with the op's
effect. Before deciding an op, ``gate`` compares it with the records of its id and of
its lane predecessor, in the protocol's order (``docs/sync-protocol.md`` §4):

1. sent by another device than the push's → ``DEVICE_MISMATCH``;
2. its id decided before: the same content by the same user → ``DECIDED`` (answer from
   the record), else ``OP_ID_REUSED``;
3. its ``lane_prev`` not decided yet → ``PREDECESSOR_MISSING`` (wait); decided and
   rejected → ``PREDECESSOR_REJECTED`` (held, not recorded);
4. otherwise ``NEW``: the domain decides it.

Storage-agnostic: the records come in as a mapping, read however the caller reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sync.protocol import OpEnvelope


class Decided(NamedTuple):
    """The record of a decided op (a ``NamedTuple``: a push builds one per op, where a
    frozen dataclass's ``__init__`` cost ~1 µs more)."""

    op_id: str
    user_id: str
    entity_id: str
    content_hash: str
    status: str  # applied | rejected
    code: str | None
    details: dict[str, Any]
    result: dict[str, Any]
    #: the time recorded for the op (its successors in the lane never get an earlier one)
    effective_at: datetime | None = None

    @classmethod
    def of(cls, record: Any) -> Decided:
        """From anything with these attributes (a table row), or a mapping."""
        if isinstance(record, dict | Mapping):
            return cls(*(record[f] for f in _REQUIRED), record.get("effective_at"))
        return cls(*(getattr(record, f) for f in _REQUIRED),
                   getattr(record, "effective_at", None))


_FIELDS = Decided._fields
_REQUIRED = tuple(f for f in _FIELDS if f != "effective_at")


class Gate(StrEnum):
    NEW = "new"
    DEVICE_MISMATCH = "device_mismatch"
    DECIDED = "decided"
    OP_ID_REUSED = "op_id_reused"
    PREDECESSOR_MISSING = "predecessor_missing"
    PREDECESSOR_REJECTED = "predecessor_rejected"


def gate(op: OpEnvelope, *, content_hash: str, device_id: str, user_id: str,
         known: Mapping[str, Decided]) -> tuple[Gate, Decided | None]:
    """Where ``op`` stands before it is decided, with the record that says so (the op's
    own for ``DECIDED``)."""
    if op.device_id != device_id:
        return Gate.DEVICE_MISMATCH, None
    seen = known.get(op.op_id)
    if seen is not None:
        if seen.content_hash != content_hash or seen.user_id != user_id:
            return Gate.OP_ID_REUSED, seen
        return Gate.DECIDED, seen
    if op.lane_prev:
        prev = known.get(op.lane_prev)
        if prev is None:
            return Gate.PREDECESSOR_MISSING, None
        if prev.status != "applied":
            return Gate.PREDECESSOR_REJECTED, prev
    return Gate.NEW, None
