"""Presentation helpers for the "Bollette" pages (money itself: `euro` in contracts_tags)."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


def _places(value: Decimal, minimum: int, maximum: int) -> int:
    """How many decimals to show: at least `minimum`, more only when the value has them (up to `maximum`)."""
    exponent = value.normalize().as_tuple().exponent
    return min(max(-exponent if isinstance(exponent, int) else 0, minimum), maximum)


@register.filter
def unit_price(value):
    """0.123456 → "0,123456 €"; 8.500000 → "8,50 €": a unit price keeps its significant decimals."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    return f"{floatformat(value, f'{_places(value, 2, 6)}g')}\N{NO-BREAK SPACE}€"


@register.filter
def quantity(value):
    """250.000 → "250"; 12.345 → "12,345"."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    return floatformat(value, f"{_places(value, 0, 3)}g")


@register.filter
def percent(value):
    """10.00 → "10%"; 4.50 → "4,5%"."""
    if value in (None, ""):
        return ""
    value = Decimal(value)
    return f"{floatformat(value, _places(value, 0, 2))}%"


@register.filter
def absolute(value):
    """-59.13 → 59.13: a credit note's amount, where the words already say which way it goes."""
    if value in (None, ""):
        return value
    return abs(Decimal(value))
