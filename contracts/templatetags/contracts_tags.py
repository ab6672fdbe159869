"""Presentation helpers for the contract pages: money in the customer's locale, a masked IBAN."""

from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat

register = template.Library()


@register.filter
def euro(value):
    """1234.5 → "1.234,50 €" in Italian ("1,234.50 €" in English); empty for no value."""
    if value in (None, ""):
        return ""
    return f"{floatformat(Decimal(value), '2g')}\N{NO-BREAK SPACE}€"


@register.filter
def iban_last4(value):
    """The last four characters of an IBAN (spaces ignored): all the page ever shows of it."""
    compact = "".join(str(value or "").split())
    return compact[-4:]
