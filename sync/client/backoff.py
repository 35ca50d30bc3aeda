"""How long to wait before trying again after failures: exponential with "equal jitter"
(between half and all of ``BASE_S * 2^(n-1)``, capped at ``CAP_S``), so that many phones
coming back at once do not retry in step. The engine backs off its passes with it, the
outbox its ops that fail on their own."""

from __future__ import annotations

import random

BASE_S = 2.0
CAP_S = 300.0


def backoff_s(failures: int, rng: random.Random) -> float:
    """The wait after ``failures`` failures in a row (read at call time: tests compress
    time by setting ``BASE_S``/``CAP_S``)."""
    ceiling = min(CAP_S, BASE_S * 2 ** max(failures - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
