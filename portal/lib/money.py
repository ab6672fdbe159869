"""Money as Decimal, with ONE rounding rule: half-up to the cent.

Floats are refused everywhere: 2.675 as a float is 2.67499999..., which would round
to 2.67 and make an invoice disagree with the customer's own arithmetic.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

MoneyInput = Decimal | int | str


def to_decimal(x: MoneyInput) -> Decimal:
    """``x`` as a finite Decimal; accepts Decimal, int or str, refuses float (and bool)
    with TypeError and unparsable or non-finite values with ValueError."""
    if isinstance(x, bool) or not isinstance(x, Decimal | int | str):
        raise TypeError(f"money must be Decimal, int or str, not {type(x).__name__}")
    try:
        value = Decimal(x)
    except InvalidOperation:
        raise ValueError(f"not an amount: {x!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {x!r}")
    return value


def round_money(x: MoneyInput) -> Decimal:
    """``x`` rounded half-up to the cent (0.005 → 0.01, -0.005 → -0.01)."""
    return to_decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def split(total: MoneyInput, parts: int) -> list[Decimal]:
    """``total`` (in cents) as ``parts`` amounts that add up to it exactly: equal shares rounded down to the
    cent, the cents left over one each to the first shares (100.00 in 3 → 33.34, 33.33, 33.33)."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    cents = int(round_money(total) / CENT)
    if cents < 0:
        raise ValueError("total must not be negative")
    share, left = divmod(cents, parts)
    return [(Decimal(share + (1 if n < left else 0)) * CENT) for n in range(parts)]
