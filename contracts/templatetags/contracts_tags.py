"""Presentation helpers for the contract pages: money in the customer's locale, a masked IBAN."""

from django import template

from contracts import mandates
from portal.lib import formatting

register = template.Library()


@register.filter
def euro(value):
    """1234.5 → "1.234,50 €" in Italian ("1,234.50 €" in English); empty for no value."""
    return formatting.euro(value, blank="")


@register.filter
def iban_last4(value):
    """The last four characters of an IBAN (spaces ignored): all the page ever shows of it."""
    compact = "".join(str(value or "").split())
    return compact[-4:]


@register.filter
def iban_masked(value):
    """ "IT60 •••• •••• 3456": the country and the last four characters, as the mandate's PDF prints it."""
    return mandates.masked_iban(value)
