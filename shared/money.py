"""Money is integer fen (分). Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

Fen = int


def yuan_to_fen(value: str | int | Decimal) -> Fen:
    """Parse an amount in yuan ("12.34", 12, Decimal("12.3")) into fen, exactly.

    Raises ``ValueError`` for floats, non-numbers and more than two decimal places.
    """
    if isinstance(value, float):
        raise ValueError("money must not be a float")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
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
