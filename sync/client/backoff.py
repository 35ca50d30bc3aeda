"""How long to wait before trying again after failures: exponential with **full jitter**
(anywhere between 0 and ``BASE_S * 2^(n-1)``, capped at ``CAP_S``), so that many phones
coming back at once spread out instead of retrying in step. The engine backs off its
passes with it (never sooner than its minimum gap, never before a ``Retry-After``), the
outbox its ops that fail on their own. This is the one backoff of the device."""

from __future__ import annotations

import random

BASE_S = 2.0
CAP_S = 300.0


def ceiling_s(failures: int, cap_s: float | None = None) -> float:
    """The longest wait after ``failures`` failures in a row."""
    return min(CAP_S if cap_s is None else cap_s, BASE_S * 2 ** max(failures - 1, 0))


def backoff_s(failures: int, rng: random.Random, cap_s: float | None = None) -> float:
    """The wait after ``failures`` failures in a row, at most ``cap_s`` (default
    ``CAP_S``; both read at call time: tests compress time by setting them)."""
    return rng.uniform(0, ceiling_s(failures, cap_s))
