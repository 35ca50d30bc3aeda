"""Load shapes of the simulated county (documented in ``docs/monitoring.md``).

No library of standard load profiles fits a Hunan county: ``demandlib`` (the maintained
one) ships the German BDEW profiles and needs pandas; German households have no
air-conditioning evening peak nor winter electric heating. So the shapes are our own, in
the spirit of the published Chinese residential curves:

* residential: low at night, a morning peak around 07:00, a flat day, a high evening peak
  19:00-22:00; in summer (Jun-Sep) an air-conditioning block from the afternoon into the
  night, in winter (Dec-Feb) heating in the morning and evening;
* non-residential (shops, workshops, schools): business hours 08:00-18:00, lower on
  Sundays;
* the daily energy follows the month (``SEASON``, the demo world's factors: heavy summers
  and winters), +8 % at weekends for homes, and ±noise per interval.

Hourly weights are spread over the hour's four 15-minute slots by linear interpolation.
"""

from __future__ import annotations

from datetime import date

from shared.monitoring.formulas import SLOTS_PER_DAY

#: Monthly usage factor (the demo world's: Hunan summers and winters are heavy).
SEASON = {1: 1.35, 2: 1.25, 3: 0.95, 4: 0.85, 5: 0.9, 6: 1.1, 7: 1.5, 8: 1.55, 9: 1.15,
          10: 0.85, 11: 0.9, 12: 1.25}

#: Hourly weights 00..23.
_RESIDENTIAL = (2.2, 1.8, 1.6, 1.5, 1.5, 1.8, 3.2, 4.6, 4.0, 3.2, 3.0, 3.6,
                4.0, 3.4, 3.0, 3.0, 3.4, 4.4, 6.0, 7.2, 7.4, 6.6, 5.0, 3.2)
_SUMMER_AC = (2.0, 1.8, 1.6, 1.4, 1.2, 0.8, 0.4, 0.3, 0.3, 0.5, 0.9, 1.4,
              2.0, 2.4, 2.6, 2.6, 2.4, 2.4, 2.8, 3.4, 3.8, 3.8, 3.4, 2.6)
_WINTER_HEAT = (1.0, 0.8, 0.8, 0.8, 1.0, 1.6, 2.8, 3.0, 2.0, 1.2, 0.8, 0.8,
                0.8, 0.7, 0.7, 0.8, 1.0, 1.6, 2.8, 3.4, 3.6, 3.4, 2.6, 1.6)
_BUSINESS = (0.6, 0.6, 0.6, 0.6, 0.6, 0.7, 1.0, 2.4, 5.6, 6.6, 7.0, 7.0,
             6.2, 6.4, 7.0, 7.0, 6.8, 6.0, 3.6, 2.2, 1.4, 1.0, 0.8, 0.7)


def _slots(hourly: tuple[float, ...]) -> list[float]:
    """96 slot weights summing to 1, interpolated between hour midpoints."""
    out = []
    for slot in range(SLOTS_PER_DAY):
        h = (slot + 0.5) / 4 - 0.5  # hours since the first hour's midpoint
        i = int(h // 1) % 24
        frac = h - (h // 1)
        out.append(hourly[i] * (1 - frac) + hourly[(i + 1) % 24] * frac)
    total = sum(out)
    return [v / total for v in out]


RESIDENTIAL = _slots(_RESIDENTIAL)
SUMMER_AC = _slots(_SUMMER_AC)
WINTER_HEAT = _slots(_WINTER_HEAT)
BUSINESS = _slots(_BUSINESS)
#: The evening block an undersized transformer's area adds (air conditioners in summer,
#: heaters in winter): 18:30-22:30, all of it in those slots.
EVENING_BLOCK = [1.0 if 74 <= s < 90 else 0.0 for s in range(SLOTS_PER_DAY)]


def day_factor(day: date, *, residential: bool) -> float:
    factor = SEASON[day.month]
    if residential and day.weekday() >= 5:
        factor *= 1.08
    if not residential and day.weekday() == 6:
        factor *= 0.55
    return factor


def shape(day: date, *, residential: bool) -> list[float]:
    """The day's 96 slot weights (sum 1) for a customer class."""
    if not residential:
        return BUSINESS
    extra = max(0.0, SEASON[day.month] - 0.9)
    if extra == 0:
        return RESIDENTIAL
    season = SUMMER_AC if day.month in (5, 6, 7, 8, 9, 10) else WINTER_HEAT
    mixed = [b + extra * s for b, s in zip(RESIDENTIAL, season, strict=True)]
    total = sum(mixed)
    return [v / total for v in mixed]
