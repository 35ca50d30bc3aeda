"""Numbers people type or devices send — meter readings and money — exact, never floats.

One rule for every path that parses a reading or an amount (the online API, sync op
payloads, the reading import, tariffs, and the phone's forms):

* **Digits are normalised on purpose, here and only here**: the text is put through
  Unicode NFKC, which turns full-width digits, point and minus (``４１０２７．６９``, typed
  with a Chinese input method) into ASCII. After that only ASCII is accepted: other
  scripts' digits (``٤``), exponents (``1e3``), ``NaN``, ``Infinity``, spaces inside,
  thousands separators and a leading ``+`` are refused. (Python's ``Decimal`` would take
  any Unicode digit: it is never given text that did not pass through here.)
* **Readings** in the API and in op payloads are decimal *strings* with exactly two
  places (``"41027.69"``); a JSON number, or one or three decimals, is refused. Forms on
  the phone accept up to two places and send two.
* **Money** is integer fen (``Fen``): a JSON number with a fraction, ``12.0`` or ``"12"``
  is refused, never rounded. Amounts typed in yuan (forms) take up to two decimals.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictInt, WithJsonSchema

#: A decimal number in ASCII: optional minus, digits, optional point and digits.
_DECIMAL = re.compile(r"^-?[0-9]{1,15}(?:\.[0-9]{1,15})?\Z")
#: A reading as sent by devices and API clients: exactly two decimal places.
READING_PATTERN = r"^-?[0-9]{1,12}\.[0-9]{2}$"
_READING = re.compile(READING_PATTERN.replace("$", r"\Z"))


class NumberError(ValueError):
    """Text that is not a number of the expected form (the message says why)."""


def ascii_number_text(text: str) -> str:
    """NFKC-normalised and stripped; full-width digits become ASCII. Nothing else changes."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_decimal(text: str, *, max_places: int) -> Decimal:
    """``"４１０２７.６９"`` -> ``Decimal("41027.69")``; at most ``max_places`` decimals
    that matter (``"12.300"`` is 12.3).

    Raises ``NumberError`` for anything but an ASCII decimal (after normalisation)."""
    if not isinstance(text, str):
        raise NumberError(f"expected text, got {type(text).__name__}")
    norm = ascii_number_text(text)
    if not _DECIMAL.match(norm):
        raise NumberError(f"not a decimal number: {text[:40]!r}")
    value = Decimal(norm)
    if -value.normalize().as_tuple().exponent > max_places:  # type: ignore[operator]
        raise NumberError(f"at most {max_places} decimal places: {text[:40]!r}")
    return value


def parse_count(text: str) -> int:
    """A whole number typed on a form (a purchase count): the same digit rule."""
    value = parse_decimal(text, max_places=0)
    if "." in ascii_number_text(text):
        raise NumberError(f"not a whole number: {text[:40]!r}")
    return int(value)


def parse_reading(text: str) -> Decimal:
    """A reading typed on a form: kWh with at most two decimals."""
    return parse_decimal(text, max_places=2)


def reading_text(value: Decimal) -> str:
    """A reading as sent in an op or to the API: exactly two places (``"4711.50"``).

    Refuses (``NumberError``) a value with more than two places instead of rounding it."""
    try:
        exact = value.quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise NumberError(f"not a reading: {value!r}") from exc
    if exact != value:
        raise NumberError(f"at most two decimal places: {value}")
    return f"{exact:f}"


def _reading_payload(value: Any) -> str:
    """Validator of a reading field in the API and in op payloads."""
    if not isinstance(value, str):
        raise NumberError('a reading is a decimal string with two places, e.g. "4711.50" '
                          "(not a JSON number)")
    norm = ascii_number_text(value)
    if not _READING.match(norm):
        raise NumberError(f'a reading has exactly two decimal places, e.g. "4711.50": '
                          f"{value[:40]!r}")
    return norm


#: kWh reading in the API and in op payloads: ``"41027.69"`` (NFKC-normalised ASCII).
ReadingText = Annotated[str, BeforeValidator(_reading_payload), WithJsonSchema(
    {"type": "string", "pattern": READING_PATTERN, "examples": ["41027.69"],
     "description": "kWh, decimal string with exactly two places"})]

#: Money: integer fen. ``StrictInt``: a float (even ``12.0``), a bool or a string is refused.
Fen = Annotated[StrictInt, Field(ge=-(10**12), le=10**12)]
