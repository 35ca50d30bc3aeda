"""Money is integer fen (分). Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from shared.numbers import NumberError, parse_decimal

Fen = int


def yuan_to_fen(value: str | int | Decimal) -> Fen:
    """Parse an amount in yuan ("12.34", 12, Decimal("12.3")) into fen, exactly.

    Text goes through ``shared.numbers.parse_decimal`` (full-width digits normalised, any
    other non-ASCII digit refused). Raises ``ValueError`` for floats, non-numbers and more
    than two decimal places.
    """
    if isinstance(value, float | bool):
        raise ValueError("money must not be a float")
    if isinstance(value, str):
        try:
            amount = parse_decimal(value, max_places=2)
        except NumberError as exc:
            raise ValueError(str(exc)) from exc
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError("at most two decimal places")
    return int(fen)


def fen_to_yuan(fen: Fen) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_fen(fen: Fen, *, symbol: str = "¥") -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{symbol}{fen_to_yuan(abs(fen)):,}"
