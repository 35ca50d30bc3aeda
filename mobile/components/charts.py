"""Helpers for the charts (flet-charts)."""

from __future__ import annotations

import math

#: The steps an axis counts in, times a power of ten.
_NICE = (1.0, 2.0, 2.5, 5.0, 10.0)


def axis_range(low: float, high: float, ticks: int = 4) -> tuple[float, float, float]:
    """A value axis holding ``low``..``high``: (bottom, top, step), with bottom and top
    multiples of a round step (1, 2, 2.5 or 5 times a power of ten) and about ``ticks``
    steps between them. Labels then fall on round values only: a padded minimum such as
    384.4 is never drawn over the 400 beside it."""
    if high <= low:  # one value: an axis around it
        pad = max(abs(high) / 20, 1.0)
        low, high = low - pad, high + pad
    raw = (high - low) / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in _NICE if m * power >= raw)
    bottom = math.floor(low / step) * step
    top = math.ceil(high / step) * step
    if top == bottom:
        top += step
    # rounded: 3 * 0.2 is 0.6000000000000001 in floats, and the axis would print it
    return round(bottom, 9), round(top, 9), round(step, 9)
