"""Each op's envelope checked on its own (issue 8, item 4): one bad op never fails a push.

The push body is read as its top level (``sync.protocol.PushBody``) with the ops as raw
JSON values; ``check_ops`` validates each one into an ``OpEnvelope``. An op that fails
becomes an ``InvalidOp``: it is answered ``rejected`` with ``SYNC_OP_INVALID`` and the
fields at fault (``details.errors``), and the push's other ops are decided as usual.

An invalid op whose ``op_id`` is itself a valid id is *recorded* as rejected under that id
(``server.sync.push.refuse_invalid``), like any other refusal: sending it again gets the
same answer, and later ops of its lane that name it as ``lane_prev`` are held behind it
instead of waiting for it for ever. One whose ``op_id`` is unusable cannot be recorded;
the device finds its answer by position (results come in the order of the ops).

These checks are plain functions of the raw values: the per-op and the set-wise push
paths both call them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from sync.protocol import (
    MAX_DEVICE_SEQ,
    MAX_LANE_CHARS,
    MAX_TYPE_CHARS,
    OpEnvelope,
    OpResult,
    canonical_hash,
)

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
#: Fields reported per invalid op (the rest are counted in ``details.more``).
MAX_REPORTED_ERRORS = 10


@dataclass(frozen=True)
class InvalidOp:
    """An op whose envelope failed validation, with what can be kept of it."""

    index: int
    raw: Any
    errors: list[dict[str, str]]
    more: int = 0

    @property
    def op_id(self) -> str:
        """The op id as sent (``""`` when it is not text)."""
        value = self._get("op_id")
        return value[:64] if isinstance(value, str) else ""

    @property
    def recordable(self) -> bool:
        """Can the refusal be recorded under its op id?"""
        return bool(_UUID.match(self.op_id))

    def _get(self, name: str) -> Any:
        return self.raw.get(name) if isinstance(self.raw, dict) else None

    def text(self, name: str, limit: int) -> str:
        value = self._get(name)
        return value[:limit] if isinstance(value, str) else ""

    @property
    def device_seq(self) -> int:
        value = self._get("device_seq")
        ok = isinstance(value, int) and not isinstance(value, bool)
        return value if ok and 1 <= value <= MAX_DEVICE_SEQ else 0

    @property
    def lane(self) -> str:
        return self.text("lane", MAX_LANE_CHARS)

    @property
    def type(self) -> str:
        return self.text("type", MAX_TYPE_CHARS)

    @property
    def entity_id(self) -> str:
        return self.text("entity_id", 36)

    def created_at(self, default: datetime) -> datetime:
        value = self._get("created_at")
        try:
            at = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            at = None
        return at if at is not None and at.tzinfo is not None else default

    def content_hash(self) -> str:
        """What must be identical when this op id is sent again (the same fields as
        ``OpEnvelope.content_hash``, as sent)."""
        return canonical_hash({k: self._get(k) for k in (
            "type", "entity_id", "payload", "lane", "photos", "device_id")})

    @property
    def details(self) -> dict[str, Any]:
        summary = "; ".join(f"{e['field']}: {e['problem']}" for e in self.errors)
        out: dict[str, Any] = {"errors": self.errors, "summary": summary[:500]}
        if self.more:
            out["more"] = self.more
        return out


@dataclass
class CheckedOps:
    """The ops of a push, split: valid envelopes and invalid ones, each with its index."""

    valid: list[tuple[int, OpEnvelope]] = field(default_factory=list)
    invalid: list[InvalidOp] = field(default_factory=list)

    @property
    def envelopes(self) -> list[OpEnvelope]:
        return [op for _, op in self.valid]

    def merge(self, valid_results: Sequence[OpResult], invalid_results: Sequence[OpResult]
              ) -> list[OpResult]:
        """One result per op, in the order the ops were sent."""
        if not self.invalid:  # the usual push: every op valid, its results in order
            if len(valid_results) != len(self.valid):
                raise ValueError(f"{len(valid_results)} results for {len(self.valid)} ops")
            return list(valid_results)
        by_index: dict[int, OpResult] = {}
        for (i, _), result in zip(self.valid, valid_results, strict=True):
            by_index[i] = result
        for bad, result in zip(self.invalid, invalid_results, strict=True):
            by_index[bad.index] = result
        return [by_index[i] for i in sorted(by_index)]


def _errors(exc: ValidationError) -> tuple[list[dict[str, str]], int]:
    found = [{"field": ".".join(map(str, e["loc"])) or "(op)", "problem": e["msg"]}
             for e in exc.errors()]
    return found[:MAX_REPORTED_ERRORS], max(0, len(found) - MAX_REPORTED_ERRORS)


def check_op(index: int, raw: Any) -> OpEnvelope | InvalidOp:
    """One op's envelope: valid, or what is wrong with it."""
    if not isinstance(raw, dict):
        return InvalidOp(index, raw, [{"field": "(op)",
                                       "problem": "an op is a JSON object"}])
    try:
        return OpEnvelope.model_validate(raw)
    except ValidationError as exc:
        errors, more = _errors(exc)
        return InvalidOp(index, raw, errors, more)


#: Every op of a push validated in one call (pydantic-core loops over the list): the
#: usual push, all valid. Any error: each op again on its own, to find which.
_ALL = TypeAdapter(list[OpEnvelope])


def check_ops(raw_ops: Sequence[Any]) -> CheckedOps:
    out = CheckedOps()
    try:
        out.valid = list(enumerate(_ALL.validate_python(raw_ops)))
        return out
    except ValidationError:
        pass
    for i, raw in enumerate(raw_ops):
        checked = check_op(i, raw)
        if isinstance(checked, InvalidOp):
            out.invalid.append(checked)
        else:
            out.valid.append((i, checked))
    return out


def seq_not_increasing(ops: Sequence[OpEnvelope]) -> dict[str, int]:
    """Ops whose ``device_seq`` is not greater than every earlier op's of the push (by op
    id: the highest number before it). A push carries its device's ops in ``device_seq``
    order, each number once (issue 8, item 5). The same op twice is no violation."""
    out: dict[str, int] = {}
    seen: set[str] = set()
    highest = 0
    for op in ops:
        if op.op_id in seen:
            continue  # the same op again: a duplicate, answered from its record
        seen.add(op.op_id)
        if op.device_seq <= highest:
            out[op.op_id] = highest
        else:
            highest = op.device_seq
    return out
